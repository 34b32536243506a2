using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Observability;

/// <summary>
/// Our log lines against stock nginx's for the same request: nginx answers it and logs it, and our
/// formatter writes the line for the same request head and the same status and body size (the record
/// the exchange will fill). Timestamps are masked. This checks the formats and escapings byte for byte
/// now; the end-to-end comparison through the proxy (the same traffic through both servers) waits on
/// the exchange's log phase.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000), NonParallelizable]
public sealed class NginxLogComparisonTests
{
    private const string Formats = """
        log_format js escape=json '{"ua":"$http_user_agent","user":"$remote_user","ref":"$http_referer","args":"$args","s":$status}';
        log_format raw escape=none '$remote_user|$http_user_agent|$http_referer|$args|$request';
        log_format dflt '$remote_user|$http_user_agent|$http_referer|$args|$arg_q|$cookie_c|$content_type|$is_args|$request_uri';
        """;

    private const string Server = """
        server {
            listen 127.0.0.1:{PORT};
            access_log {PREFIX}/logs/combined.log combined;
            access_log {PREFIX}/logs/js.log js;
            access_log {PREFIX}/logs/raw.log raw;
            access_log {PREFIX}/logs/dflt.log dflt;
            location / { return 200 "ok"; }
        }
        """;

    private static readonly Regex TimeLocal = new(@"\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]");

    private static string Credentials(string user) =>
        "Authorization: Basic " + Convert.ToBase64String(Encoding.Latin1.GetBytes(user + ":secret")) + "\r\n";

    public static IEnumerable<TestCaseData> Requests()
    {
        yield return new TestCaseData("GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\n"
            + "Referer: http://example.com/\r\nConnection: close\r\n\r\n").SetName("PlainGet");
        yield return new TestCaseData("HEAD / HTTP/1.0\r\n\r\n").SetName("NoHeadersAtAll");
        yield return new TestCaseData("GET /q?q=a%22b&x HTTP/1.1\r\nHost: a\r\nUser-Agent: say \"hi\" \\ \tcaf\xc3\xa9 \xff\r\n"
            + "Referer: \r\nCookie: c=1\r\nContent-Type: \r\nConnection: close\r\n\r\n").SetName("QuotesBackslashTabAndHighBytes");
        yield return new TestCaseData("GET /? HTTP/1.1\r\nHost: a\r\n" + Credentials("us\"er\\\x01\x1f\x7f\n\r\t\b\f")
            + "Connection: close\r\n\r\n").SetName("ControlBytesInTheUser");
        yield return new TestCaseData("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic !!!\r\nConnection: close\r\n\r\n").SetName("InvalidCredentials");
    }

    [TestCaseSource(nameof(Requests))]
    public void OurLinesEqualNginxs(string request)
    {
        using var nginx = new NginxReference(Formats + Server);
        byte[] response = nginx.Exchange(request);
        int headLength = response.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        Assert.That(Encoding.Latin1.GetString(response), Does.StartWith("HTTP/1.1 200"));

        var ours = new TestRequest(Formats + Server.Replace("{PORT}", "8080").Replace("{PREFIX}", "/tmp"), request, client: "127.0.0.1:40000");
        ours.Record.Status = 200;
        ours.Record.BytesSent = response.Length;
        ours.Record.HeaderBytesSent = headLength;
        foreach (string name in new[] { "combined", "js", "raw", "dflt" })
        {
            string theirs = nginx.Read($"logs/{name}.log");
            Assert.That(theirs, Does.EndWith("\n"), $"nginx logged one {name} line");
            Assert.That(Mask(ours.Line(ours.Format(name))), Is.EqualTo(Mask(theirs[..^1])), name);
        }
    }

    private static string Mask(string line) => TimeLocal.Replace(line, "[TIME]");
}
