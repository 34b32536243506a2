using System.Text;
using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Proxy;
using static RawKeepalive.Tests.Config.ConfigText;
using RawKeepalive.Transforms;
using RawKeepalive.Routing;

namespace RawKeepalive.Tests.Config;

/// <summary>The variables added for routing and logging: compile to the right segments; the pure parts of
/// their evaluation ($arg_NAME, $cookie_NAME, $host normalisation). End-to-end values: Integration/RoutingTests.</summary>
[TestFixture, CancelAfter(30_000)]
public class VariableTests
{
    [TestCase("$connection", Variable.Connection)]
    [TestCase("$connection_requests", Variable.ConnectionRequests)]
    [TestCase("$request_id", Variable.RequestId)]
    [TestCase("$msec", Variable.Msec)]
    [TestCase("$time_local", Variable.TimeLocal)]
    [TestCase("$time_iso8601", Variable.TimeIso8601)]
    [TestCase("$is_args", Variable.IsArgs)]
    [TestCase("$request", Variable.Request)]
    [TestCase("$hostname", Variable.Hostname)]
    [TestCase("$pid", Variable.Pid)]
    [TestCase("$arg_Page", Variable.Arg)]
    [TestCase("$cookie_session", Variable.Cookie)]
    [TestCase("$status", Variable.Status)]
    [TestCase("$body_bytes_sent", Variable.BodyBytesSent)]
    [TestCase("$request_time", Variable.RequestTime)]
    [TestCase("$connection_time", Variable.ConnectionTime)]
    [TestCase("$remote_user", Variable.RemoteUser)]
    [TestCase("$sent_http_x_cache", Variable.SentHttp)]
    [TestCase("$upstream_http_server", Variable.UpstreamHttp)]
    [TestCase("$upstream_addr", Variable.UpstreamAddr)]
    [TestCase("$upstream_bytes_received", Variable.UpstreamBytesReceived)]
    [TestCase("$upstream_connection", Variable.UpstreamConnection)]
    [TestCase("$upstream_connection_requests", Variable.UpstreamConnectionRequests)]
    public void Compiles(string source, Variable expected)
    {
        var location = OnlyLocation(LoadHttp($"server {{ location / {{ proxy_set_header X \"{source}\"; return 200; }} }}"));
        Assert.That(location.Proxy.SetHeaders[0].Value.Segments.Single().Variable, Is.EqualTo(expected));
    }

    [TestCase("page=2&sort=asc", "page", "2")]
    [TestCase("page=2&sort=asc", "SORT", "asc")]
    [TestCase("xpage=1&page=3", "page", "3")]
    [TestCase("page&page=4", "page", "4")]
    [TestCase("page=", "page", "")]
    [TestCase("a=1", "page", "")]
    [TestCase("", "page", "")]
    public void ArgumentLookup(string query, string name, string expected) =>
        Assert.That(Encoding.ASCII.GetString(VariableWriter.QueryArgument(Encoding.ASCII.GetBytes(query), Encoding.ASCII.GetBytes(name))),
            Is.EqualTo(expected));

    [TestCase("a=1; session=abc; b=2", "session", true, "abc")]
    [TestCase("session=xyz", "session", true, "xyz")]
    [TestCase("xsession=1", "session", false, "")]
    [TestCase("Session=1", "session", false, "")]
    public void CookieLookup(string header, string name, bool found, string expected)
    {
        bool ok = VariableWriter.TryCookie(Encoding.ASCII.GetBytes(header), Encoding.ASCII.GetBytes(name), out var value);
        Assert.That((ok, Encoding.ASCII.GetString(value)), Is.EqualTo((found, expected)));
    }

    [TestCase("Example.COM", "Example.COM")]
    [TestCase("example.com.", "example.com")]
    [TestCase("example.com:8080", "example.com")]
    [TestCase("example.com.:80", "example.com")]
    [TestCase("[::1]:8080", "[::1]")]
    public void HostNormalisation_StripsPortAndTrailingDot(string host, string expected) =>
        Assert.That(Encoding.ASCII.GetString(ServerNameMatcher.Normalise(Encoding.ASCII.GetBytes(host))), Is.EqualTo(expected));
}
