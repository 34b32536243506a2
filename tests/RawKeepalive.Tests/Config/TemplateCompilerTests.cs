using System.Text;
using NUnit.Framework;
using RawKeepalive.Config;

namespace RawKeepalive.Tests.Config;

[TestFixture, CancelAfter(60_000)]
public class TemplateCompilerTests
{
    private static readonly ConfigDirective Where = new("proxy_set_header", [], "t.conf", 7, null);

    private static ValueTemplate Compile(string source) => TemplateCompiler.Compile(source, Where);

    private static string Describe(ValueTemplate t) => string.Join("|", t.Segments.Select(s =>
        s.IsLiteral ? "'" + Encoding.UTF8.GetString(s.Literal!) + "'"
        : s.Variable == Variable.HttpHeader ? "http:" + Encoding.ASCII.GetString(s.HeaderName!)
        : s.Variable.ToString()));

    [TestCase("", "")]
    [TestCase("close", "'close'")]
    [TestCase("$host", "Host")]
    [TestCase("$host:$server_port", "Host|':'|ServerPort")]
    [TestCase("${host}x", "Host|'x'")]
    [TestCase("$hostx", null)]                    // the name runs to the last name character
    [TestCase("a${scheme}://$HOST$request_uri", "'a'|Scheme|'://'|Host|RequestUri")]
    [TestCase("$http_x_real_ip", "http:x-real-ip")]
    [TestCase("$HTTP_User_Agent", "http:user-agent")]
    [TestCase("$query_string&$args", "Args|'&'|Args")]
    [TestCase("$document_uri", "Uri")]
    [TestCase("$proxy_add_x_forwarded_for", "ProxyAddXForwardedFor")]
    [TestCase("$remote_addr-$remote_port", "RemoteAddr|'-'|RemotePort")]
    [TestCase("100%", "'100%'")]
    [TestCase("\\$host", "'\\'|Host")]            // nginx has no "$" escape: the backslash stays
    public void Compiles(string source, string? expected)
    {
        if (expected is null)
        {
            Assert.That(Assert.Throws<ConfigException>(() => Compile(source))!.Message, Is.EqualTo("unknown \"hostx\" variable in t.conf:7"));
            return;
        }
        var template = Compile(source);
        Assert.That(Describe(template), Is.EqualTo(expected));
        Assert.That(template.Source, Is.EqualTo(source));
        Assert.That(template.IsEmptyLiteral, Is.EqualTo(source.Length == 0));
    }

    [TestCase("$foo", "unknown \"foo\" variable in t.conf:7")]
    [TestCase("$FOO", "unknown \"foo\" variable in t.conf:7")]
    [TestCase("$http_", "unknown \"http_\" variable in t.conf:7")]
    [TestCase("$", "invalid variable name in t.conf:7")]
    [TestCase("a$-b", "invalid variable name in t.conf:7")]
    [TestCase("${}", "invalid variable name in t.conf:7")]
    [TestCase("${host", "the closing bracket in \"host\" variable is missing in t.conf:7")]
    [TestCase("${ho st}", "the closing bracket in \"ho\" variable is missing in t.conf:7")]
    [TestCase("$request_body", "the \"$request_body\" variable is not supported yet in t.conf:7")]
    [TestCase("$upstream_cookie_x", "the \"$upstream_cookie_x\" variable is not supported yet in t.conf:7")]
    [TestCase("$1", "the \"$1\" variable (a regex capture) is not supported yet in t.conf:7")]
    public void Errors(string source, string expected) =>
        Assert.That(Assert.Throws<ConfigException>(() => Compile(source))!.Message, Is.EqualTo(expected));
}
