using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Upstream responses whose framing headers conflict, end to end. The answers are current nginx's
/// (1.23 and later, ngx_http_upstream.c: the Content-Length, Transfer-Encoding and Expires handlers):
/// a 502 for the client, an [error] line with nginx's wording, and the upstream connection closed,
/// never pooled. The nginx that apt installs (1.22) drops the Content-Length and forwards instead, so
/// each test states the expected answer itself rather than comparing with a stock binary.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class ResponseFramingTests : ProxyTestBase
{
    private const string Ok = "HTTP/1.1 200 OK\r\nX-Connection: {CONN}\r\nContent-Length: 2\r\n\r\nok";

    private static readonly TimeSpan LogWait = TimeSpan.FromSeconds(10);

    // nginx >= 1.23: "upstream sent "Content-Length" and "Transfer-Encoding" headers at the same time", 502.
    [TestCase("Content-Length: 5\r\nTransfer-Encoding: chunked", TestName = "ContentLengthThenTransferEncoding_502_NotPooled")]
    [TestCase("Transfer-Encoding: chunked\r\nContent-Length: 5", TestName = "TransferEncodingThenContentLength_502_NotPooled")]
    public void ContentLengthWithTransferEncoding(string framing) =>
        AssertRefused($"HTTP/1.1 200 OK\r\n{framing}\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time");

    // nginx >= 1.23: a second Content-Length is an error even with the same value; a value that is not a
    // plain decimal (a list included) is invalid. Both 502. (1.22 took the last one, RFC 9110 allows equal ones.)
    [TestCase("Content-Length: 5\r\nContent-Length: 5",
        "upstream sent duplicate header line: \"Content-Length: 5\", previous value: \"Content-Length: 5\"",
        TestName = "EqualDuplicateContentLength_502_NotPooled")]
    [TestCase("Content-Length: 5\r\nContent-Length: 6",
        "upstream sent duplicate header line: \"Content-Length: 6\", previous value: \"Content-Length: 5\"",
        TestName = "DifferingDuplicateContentLength_502_NotPooled")]
    [TestCase("Content-Length: abc",
        "upstream sent invalid \"Content-Length\" header: \"Content-Length: abc\"",
        TestName = "InvalidContentLength_502_NotPooled")]
    [TestCase("Content-Length: 5, 5",
        "upstream sent invalid \"Content-Length\" header: \"Content-Length: 5, 5\"",
        TestName = "ContentLengthList_502_NotPooled")]
    public void BadContentLength(string framing, string message) =>
        AssertRefused($"HTTP/1.1 200 OK\r\n{framing}\r\n\r\nhello", message);

    // nginx >= 1.23 accepts only exactly "chunked": any other coding, even one before chunked, is
    // "unknown", and a second Transfer-Encoding line is a duplicate. Both 502.
    [TestCase("Transfer-Encoding: gzip",
        "upstream sent unknown \"Transfer-Encoding\": \"gzip\"",
        TestName = "UnknownTransferEncoding_502_NotPooled")]
    [TestCase("Transfer-Encoding: gzip, chunked",
        "upstream sent unknown \"Transfer-Encoding\": \"gzip, chunked\"",
        TestName = "CodingBeforeChunked_502_NotPooled")]
    [TestCase("Transfer-Encoding: chunked, gzip",
        "upstream sent unknown \"Transfer-Encoding\": \"chunked, gzip\"",
        TestName = "ChunkedNotLast_502_NotPooled")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
        "upstream sent duplicate header line: \"Transfer-Encoding: chunked\", previous value: \"Transfer-Encoding: chunked\"",
        TestName = "DuplicateTransferEncoding_502_NotPooled")]
    public void BadTransferEncoding(string framing, string message) =>
        AssertRefused($"HTTP/1.1 200 OK\r\n{framing}\r\n\r\n5\r\nhello\r\n0\r\n\r\n", message);

    /// <summary>An HTTP/1.0 client gets a chunked response de-chunked, delimited by the close, with no
    /// Content-Length (none can come from a chunked upstream response now) and no Transfer-Encoding.</summary>
    [Test]
    public void Http10Client_ChunkedResponse_IsDechunked_WithoutContentLength()
    {
        var backend = Track(new ScriptedBackend(_ => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        var proxy = StartProxy(Configs.Keepalive(), backend.Port);
        var client = Connect(proxy);
        client.Send("GET /chunked HTTP/1.0\r\n\r\n");
        var r = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.BodyText, Is.EqualTo("hello world"));
            Assert.That(r.Headers.Contains("Content-Length"), Is.False, r.Head);
            Assert.That(r.Headers.Contains("Transfer-Encoding"), Is.False, r.Head);
            Assert.That(r.Get("X-A"), Is.EqualTo("1"));
            Assert.That(r.ConnectionClosedAfter, Is.True);
        });
    }

    // nginx >= 1.23: the same 502 for an HTTP/1.0 client; nothing of the body is de-chunked.
    [Test]
    public void Http10Client_ContentLengthWithTransferEncoding_502_NotPooled() =>
        AssertRefused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 11\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time", http10: true);

    /// <summary>nginx >= 1.23 keeps the first Expires, ignores later ones with a [warn], and the
    /// response is otherwise normal: the upstream connection is kept.</summary>
    [Test]
    public void SeveralExpires_TheFirstWins_WithAWarning_AndTheConnectionIsKept()
    {
        const string first = "Thu, 01 Jan 2026 00:00:00 GMT", second = "Fri, 02 Jan 2026 00:00:00 GMT", third = "0";
        var backend = Track(new ScriptedBackend(path => path == "/expires"
            ? $"HTTP/1.1 200 OK\r\nExpires: {first}\r\nX-Connection: {{CONN}}\r\nExpires: {second}\r\nexpires: {third}\r\nContent-Length: 2\r\n\r\nok"
            : Ok));
        var proxy = StartProxy(Configs.Keepalive(), backend.Port);
        var client = Connect(proxy);

        var r = client.Get("/expires");
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Headers.GetAll("Expires"), Is.EqualTo(new[] { first }), r.Head);
        Assert.That(r.BodyText, Is.EqualTo("ok"));

        string context = Context("/expires", backend.Port, http10: false);
        AssertLogLine(proxy, "warn",
            $"upstream sent duplicate header line: \"Expires: {second}\", previous value: \"Expires: {first}\", ignoring{context}");
        AssertLogLine(proxy, "warn",
            $"upstream sent duplicate header line: \"expires: {third}\", previous value: \"Expires: {first}\", ignoring{context}");
        Assert.That(client.Get("/ok").Get("X-Connection"), Is.EqualTo("1"), "a dropped Expires does not cost the connection");
    }

    /// <summary>The client gets 502, the error log has exactly nginx's line, the proxy closes the upstream
    /// connection, and the next request arrives on a new one.</summary>
    private void AssertRefused(string badResponse, string message, bool http10 = false)
    {
        var backend = Track(new ScriptedBackend(path => path == "/bad" ? badResponse : Ok));
        var proxy = StartProxy(Configs.Keepalive(), backend.Port);
        var client = Connect(proxy);

        client.Send(http10 ? "GET /bad HTTP/1.0\r\n\r\n" : "GET /bad HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var r = client.ReadResponse();
        Assert.That(r.Status, Is.EqualTo(502), r.ToString());

        AssertLogLine(proxy, "error", message + Context("/bad", backend.Port, http10));
        Assert.That(Wait.Until(() => backend.ClosedConnections.Contains(1), LogWait), Is.True,
            "the proxy closes the upstream connection that sent the bad head");
        Assert.That(Connect(proxy).Get("/ok").Get("X-Connection"), Is.EqualTo("2"), "that connection was not pooled");
        Assert.That(backend.Requests, Is.EqualTo(new[] { (1, "/bad"), (2, "/ok") }));
    }

    /// <summary>What follows the message in nginx's line: the phase and the request's context.</summary>
    private static string Context(string path, int backendPort, bool http10) =>
        $" while reading response header from upstream, client: 127.0.0.1, server: , request: \"GET {path} HTTP/1.{(http10 ? 0 : 1)}\", " +
        $"upstream: \"http://127.0.0.1:{backendPort}{path}\"" + (http10 ? "" : ", host: \"localhost\"");

    /// <summary>Waits for a line that contains <paramref name="text"/>, then checks it is exactly nginx's
    /// "date [level] pid#0: *N text".</summary>
    private static void AssertLogLine(ProxyProcess proxy, string level, string text)
    {
        Assert.That(proxy.WaitForErrorLog(text, LogWait), Is.True, $"no line with:\n{text}\nin:\n{proxy.ErrorLog}");
        string[] lines = proxy.ErrorLog.Split('\n').Where(l => l.Contains(text, StringComparison.Ordinal)).ToArray();
        Assert.That(lines, Has.Length.EqualTo(1), proxy.ErrorLog);
        Assert.That(lines[0], Does.Match($@"^\d{{4}}/\d\d/\d\d \d\d:\d\d:\d\d \[{level}\] \d+#0: \*\d+ {Regex.Escape(text)}$"));
    }
}
