using System.Text;
using NUnit.Framework;
using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Observability;

/// <summary>The variables the request record feeds, in nginx's exact formats (ngx_http_log_module.c,
/// ngx_http_variables.c, ngx_http_upstream.c), and which of them are "not found" (logged as "-").</summary>
[TestFixture, CancelAfter(30_000)]
public class LogVariableTests
{
    private const string Get = "GET /p HTTP/1.1\r\nHost: example.com\r\n\r\n";

    private static readonly byte[] Peer1 = "10.0.0.1:8080"u8.ToArray(), Peer2 = "10.0.0.2:8080"u8.ToArray();

    [Test]
    public void StatusSizesAndTimes()
    {
        var r = TestRequest.With("log_format v '$status|$bytes_sent|$body_bytes_sent|$request_length';", Get);
        Assert.That(r.Evaluate("v"), Is.EqualTo("000|0|0|0"), "nothing sent yet: nginx's \"%03ui\" of 0");
        r.Record.Status = 204;
        r.Record.BytesSent = 1234;
        r.Record.HeaderBytesSent = 200;
        r.Record.RequestLength = 77;
        Assert.That(r.Evaluate("v"), Is.EqualTo("204|1234|1034|77"));
        r.Record.HeaderBytesSent = 2000;
        Assert.That(r.Evaluate("v"), Does.StartWith("204|1234|0|"), "a head not sent whole: no body bytes, never negative");
    }

    [Test]
    public void RequestAndConnectionTime_AreSecondsWithMilliseconds()
    {
        var r = TestRequest.With("log_format t '$request_time $connection_time';", Get);
        long now = MonotonicClock.NowMs;
        r.Record.ConnectionOpened(now - 62_000);
        r.Record.Begin(now - 1_500);
        string[] times = r.Evaluate("t").Split(' ');
        // The coarse monotonic clock may tick between the two reads: the value is 1.5 s and a little.
        Assert.That(times[0], Does.Match(@"^1\.[5-6]\d\d$"));
        Assert.That(times[1], Does.Match(@"^62\.[01]\d\d$"));
    }

    [Test]
    public void UpstreamLists_OneEntryPerTry_CommaSeparated()
    {
        var r = TestRequest.With("""
            log_format a '$upstream_addr|$upstream_status|$upstream_connect_time|$upstream_header_time|$upstream_response_time';
            log_format b '$upstream_response_length|$upstream_bytes_sent|$upstream_bytes_received|$upstream_connection|$upstream_connection_requests';
            """, Get);
        var rec = r.Record;
        rec.Begin(1_000);
        ref var first = ref rec.BeginTry(Peer1, reused: true, connectionRequests: 7, nowMs: 1_000);
        first.BytesSent = 40;
        rec.TryEnded(1_003, failedStatus: 502);    // reset before any response byte
        ref var second = ref rec.BeginTry(Peer2, reused: false, connectionRequests: 1, nowMs: 1_003);
        rec.Connected(1_005);
        rec.HeaderReceived(Head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", out var bytes), bytes, 1_015);
        second.ResponseLength = 5;
        second.BytesSent = 40;
        second.BytesReceived = 43;
        rec.TryEnded(1_037);
        Assert.That(r.Evaluate("a"), Is.EqualTo("10.0.0.1:8080, 10.0.0.2:8080|502, 200|-, 0.002|-, 0.012|0.003, 0.034"));
        Assert.That(r.Evaluate("b"), Is.EqualTo("0, 5|40, 40|0, 43|reused, new|7, 1"));
    }

    [Test]
    public void WithoutATry_UpstreamVariablesAreNotFound()
    {
        var r = TestRequest.With("log_format a '[$upstream_addr] [$upstream_status] [$upstream_connection]';", Get);
        Assert.That(r.Evaluate("a"), Is.EqualTo("[] [] []"), "empty outside a log line");
        Assert.That(r.Line(r.Format("a")), Is.EqualTo("[-] [-] [-]"), "\"-\" in one, as nginx's not_found");
    }

    [Test]
    public void MoreTriesThanKept_TheLastSlotIsReused_SoTheAnsweringTryIsListedLast()
    {
        var r = TestRequest.With("log_format a '$upstream_status';", Get);
        for (int i = 0; i < 10; i++)
        {
            r.Record.BeginTry(Peer1, false, 1, 0);
            r.Record.TryEnded(1, failedStatus: i == 9 ? 200 : 502);
        }
        Assert.That(r.Evaluate("a"), Is.EqualTo("502, 502, 502, 502, 502, 502, 502, 200"));
        Assert.That(r.Record.DroppedTries, Is.EqualTo(2));
    }

    [TestCase("Basic dXNlcjpwYXNz", "user")]               // user:pass
    [TestCase("basic   dXNlcjpwYXNz", "user")]             // any case, spaces
    [TestCase("Basic dXNlcjpw", "user")]                    // user:p, no padding
    [TestCase("Basic dXNlcjo=", "user")]                    // user: (empty password)
    [TestCase("Basic YTpiOmM=", "a")]                       // a:b:c, the first ':'
    [TestCase("Basic dXNlcg==", "-")]                       // user, no ':'
    [TestCase("Basic OnBhc3M=", "-")]                       // :pass, empty user
    [TestCase("Basic dXNl*jpwYXNz", "-")]                   // not base64
    [TestCase("Basic d", "-")]                              // a length nginx refuses (4n+1)
    [TestCase("Bearer dXNlcjpwYXNz", "-")]
    public void RemoteUser_FromBasicCredentials(string authorization, string expected)
    {
        var r = TestRequest.With("log_format u '$remote_user';", $"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: {authorization}\r\n\r\n");
        Assert.That(r.Line(r.Format("u")), Is.EqualTo(expected));
    }

    [Test]
    public void RequestVariablesThatMayBeAbsent_AreDashOnlyWhenAbsent()
    {
        var formats = "log_format a '$http_referer|$args|$arg_x|$cookie_c|$content_type|$remote_user|$proxy_host|$is_args';";
        var absent = TestRequest.With(formats, Get);
        Assert.That(absent.Line(absent.Format("a")), Is.EqualTo("-|-|-|-|-|-|-|"), "$is_args is empty, never absent");
        var empty = TestRequest.With(formats, "GET /p?x= HTTP/1.1\r\nHost: a\r\nReferer: \r\nCookie: c=\r\nContent-Type: \r\n\r\n");
        Assert.That(empty.Line(empty.Format("a")), Is.EqualTo("|x=||||-|-|?"));
        var emptyQuery = TestRequest.With(formats, "GET /p? HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.That(emptyQuery.Line(emptyQuery.Format("a")), Does.StartWith("-|-|"), "an empty query is no args for nginx");
    }

    [Test]
    public void ResponseHeaders_CapturedAtHeadTime_AsNginxNamesAndJoinsThem()
    {
        var r = TestRequest.With("""
            log_format s '$sent_http_x_cache|$sent_http_connection|$sent_http_set_cookie|$sent_http_server|$sent_http_absent';
            log_format u '$upstream_http_x_cache|$upstream_http_connection|$upstream_http_set_cookie|$upstream_http_x_upstream';
            """, Get);
        var head = Head("HTTP/1.1 200 OK\r\nX-Cache: HIT\r\nConnection: close\r\nSet-Cookie: a=1\r\nx_upstream: u\r\nSet-Cookie: b=2\r\nServer: up\r\n\r\n", out var bytes);
        r.Record.Begin(0);
        r.Record.BeginTry(Peer1, false, 1, 0);
        r.Record.HeaderReceived(head, bytes, 5);
        r.Record.Headers.CaptureForwarded(head, bytes);
        r.Record.Headers.CaptureGenerated("HTTP/1.1 200 OK\r\nServer: rawkeepalive\r\nConnection: keep-alive\r\n\r\n"u8);
        // The upstream buffer is reused for the body: what was captured must not point into it.
        Array.Clear(bytes);
        Assert.That(r.Evaluate("u"), Is.EqualTo("HIT|close|a=1, b=2|u"), "every upstream line; '-' read as '_' both ways");
        Assert.That(r.Line(r.Format("s")), Is.EqualTo("HIT|keep-alive|a=1, b=2|rawkeepalive|-"),
            "what the client was sent: the upstream's Connection and Server are not, ours are");
    }

    [Test]
    public void ACapturedValueThatDoesNotFit_IsDroppedWholeAndCounted()
    {
        var r = TestRequest.With("log_format u '$upstream_http_big|$upstream_http_small';", Get);
        string big = new('b', 700);   // two names: 1 KiB of room in all
        var head = Head($"HTTP/1.1 200 OK\r\nSmall: s\r\nBig: {big}\r\nBig: {big}\r\n\r\n", out var bytes);
        r.Record.Begin(0);
        r.Record.BeginTry(Peer1, false, 1, 0);
        r.Record.HeaderReceived(head, bytes, 1);
        Assert.That(r.Line(r.Format("u")), Is.EqualTo("-|s"), "never a cut value: nginx's \"-\"");
        Assert.That(r.Record.Headers.Dropped, Is.EqualTo(1));
    }

    private static ResponseHead Head(string text, out byte[] bytes)
    {
        bytes = Encoding.Latin1.GetBytes(text);
        var head = new ResponseHead();
        Assert.That(ResponseParser.Parse(bytes, head), Is.EqualTo(ParseResult.Complete));
        return head;
    }
}
