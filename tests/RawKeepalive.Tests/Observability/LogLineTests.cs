using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Observability;

/// <summary>Access log lines as nginx writes them: the combined format, nginx's three escapings of
/// variable values (never of the format's own text), "-" for a value that is not found, and lines that
/// do not fit being reported rather than cut.</summary>
[TestFixture, CancelAfter(30_000)]
public class LogLineTests
{
    private const string TimeLocal = @"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}";

    [Test]
    public void Combined_ByteForByte()
    {
        var r = TestRequest.With("", "GET /path?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\n"
            + "Referer: http://example.com/start\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n");
        r.Record.Status = 200;
        r.Record.BytesSent = 250;
        r.Record.HeaderBytesSent = 150;
        string line = r.Line(r.Format("combined"));
        Assert.That(line, Does.Match($"^192\\.0\\.2\\.7 - user \\[{TimeLocal}\\] \"GET /path\\?x=1 HTTP/1\\.1\" 200 100 \"http://example\\.com/start\" \"curl/8\\.5\\.0\"$"));
    }

    [Test]
    public void Combined_WithoutUserRefererOrAgent_HasDashes()
    {
        var r = TestRequest.With("", "HEAD / HTTP/1.0\r\n\r\n");
        r.Record.Status = 404;
        Assert.That(r.Line(r.Format("combined")), Does.Match($"^192\\.0\\.2\\.7 - - \\[{TimeLocal}\\] \"HEAD / HTTP/1\\.0\" 404 0 \"-\" \"-\"$"));
    }

    /// <summary>The parser refuses control bytes in a header value (except HTAB), but a value decoded from
    /// one may hold any byte: $remote_user carries them here.</summary>
    private static string Credentials(string user) =>
        "Authorization: Basic " + Convert.ToBase64String(Encoding.Latin1.GetBytes(user + ":pw")) + "\r\n";

    [Test]
    public void DefaultEscaping_OnlyInValues()
    {
        var r = TestRequest.With("log_format q '\"$http_user_agent\" \\\\ \"$http_x\" $remote_user';",
            "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: say \"hi\" \\ \t\xe9\r\nX: \r\n" + Credentials("u\x01\x1f\x7f\n") + "\r\n");
        Assert.That(r.Line(r.Format("q")), Is.EqualTo("\"say \\x22hi\\x22 \\x5C \\x09\\xE9\" \\ \"\" u\\x01\\x1F\\x7F\\x0A"),
            "the format's quotes and backslash stay; the value's are \\xXX");
    }

    [Test]
    public void JsonEscaping_ALineParsesAsJson()
    {
        var r = TestRequest.With("""
            log_format j escape=json '{"agent":"$http_user_agent","user":"$remote_user","status":$status,"referer":"$http_referer"}';
            """, "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: q\"uote b\\ack \tcaf\xc3\xa9\r\n" + Credentials("\"u\\\n\r\b\f\x01\x1f") + "\r\n");
        r.Record.Status = 200;
        string line = r.Line(r.Format("j"));
        Assert.That(line, Is.EqualTo("{\"agent\":\"q\\\"uote b\\\\ack \\tcaf\xc3\xa9\",\"user\":\"\\\"u\\\\\\n\\r\\b\\f\\u0001\\u001F\",\"status\":200,\"referer\":\"\"}"),
            "json: \\\" \\\\ \\n \\r \\t \\b \\f, other control bytes \\u00XX, UTF-8 as is; not found is empty");
        using var json = JsonDocument.Parse(Encoding.Latin1.GetBytes(line));
        Assert.That(json.RootElement.GetProperty("agent").GetString(), Is.EqualTo("q\"uote b\\ack \tcafé"));
        Assert.That(json.RootElement.GetProperty("user").GetString(), Is.EqualTo("\"u\\\n\r\b\f\x01\x1f"));
        Assert.That(json.RootElement.GetProperty("status").GetInt32(), Is.EqualTo(200));
    }

    [Test]
    public void NoEscaping()
    {
        var r = TestRequest.With("log_format n escape=none '[$http_user_agent] [$http_referer]';", "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: a\"b\\c\r\n\r\n");
        Assert.That(r.Line(r.Format("n")), Is.EqualTo("[a\"b\\c] []"));
    }

    [TestCase(LogEscape.Default, "a\"b\\c\n\u0000\u007f\u00ff", "a\\x22b\\x5Cc\\x0A\\x00\\x7F\\xFF")]
    [TestCase(LogEscape.Json, "a\"b\\c\n\r\t\b\f\u0000\u001f\u007f\u00ff", "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0000\\u001F\u007f\u00ff")]
    [TestCase(LogEscape.None, "a\"b\\c\n", "a\"b\\c\n")]
    public void EscapesInPlace(LogEscape escape, string value, string expected)
    {
        var area = new byte[64];
        int n = Encoding.Latin1.GetBytes(value, area);
        Assert.That(Encoding.Latin1.GetString(area, 0, LogEscaping.Apply(area, n, escape)), Is.EqualTo(expected));
    }

    [Test]
    public void AnEscapedValueThatDoesNotFit_IsReported()
    {
        var area = new byte[7];
        int n = Encoding.Latin1.GetBytes("ab\"cd", area);
        Assert.That(LogEscaping.Apply(area, n, LogEscape.Default), Is.EqualTo(-1), "5 bytes become 8");
    }

    [Test]
    public void ALineThatDoesNotFit_IsReported_AtEveryLength()
    {
        var r = TestRequest.With("", "GET /a-rather-long-path HTTP/1.1\r\nHost: a\r\nUser-Agent: x\"y\r\n\r\n");
        var format = r.Format("combined");
        int full = r.Line(format).Length + 1;
        var room = new byte[full];
        for (int size = 0; size < full; size++)
            Assert.That(AccessLogLine.TryFormat(format, r, room.AsSpan(0, size)), Is.EqualTo(-1), $"{size} bytes of {full}");
        Assert.That(AccessLogLine.TryFormat(format, r, room), Is.EqualTo(full));
    }

    [TestCase("$arg_log", "GET /?log=1 HTTP/1.1\r\nHost: a\r\n\r\n", true)]
    [TestCase("$arg_log", "GET /?log=0 HTTP/1.1\r\nHost: a\r\n\r\n", false)]
    [TestCase("$arg_log", "GET /?log= HTTP/1.1\r\nHost: a\r\n\r\n", false)]
    [TestCase("$arg_log", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false)]
    [TestCase("$arg_log", "GET /?log=00 HTTP/1.1\r\nHost: a\r\n\r\n", true)]
    [TestCase("x$arg_log", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true)]
    public void IfCondition_SkipsOnEmptyOrZero(string condition, string request, bool holds)
    {
        var r = new TestRequest($"server {{ access_log /tmp/never.log combined if={condition}; location / {{ return 200; }} }}", request);
        Assert.That(AccessLogLine.ConditionHolds(r.Config.Http.Servers[0].AccessLogs.Logs[0].Condition, r), Is.EqualTo(holds));
    }
}
