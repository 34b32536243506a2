using NUnit.Framework;
using RawKeepalive.Proxy;
using RawKeepalive.Tests.Http;
using RawKeepalive.Transforms;

namespace RawKeepalive.Tests.Transforms;

/// <summary>What the upstream receives of the client's head: the request line as rewritten for the
/// location and the header lines that survive, with runs of adjacent lines in one iovec.</summary>
[TestFixture, CancelAfter(60_000)]
public sealed unsafe class RequestHeadRewriterTests
{
    private const string PassAll = "location / { proxy_pass http://backend; }";

    private static (string Sent, int Iovecs) Rewrite(string request, string locations = PassAll, string path = "/")
    {
        using var gather = new GatherBuffer();
        var head = gather.ParseRequest(request);
        Assert.That(RequestHeadRewriter.TryAppend(ref gather.List, head, gather.Head, TestLocations.Matching(path, locations)), Is.True, "fits the gather list");
        return (gather.Sent(), gather.List.Count);
    }

    [Test]
    public void Curl_RequestLineThenKeptLines_HostDropped()
    {
        var (sent, iovecs) = Rewrite(HttpText.Curl);
        Assert.That(sent, Is.EqualTo("GET /index.html?x=1&y=2 HTTP/1.1\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"));
        Assert.That(iovecs, Is.EqualTo(5), "method, path, query, version, one run of two header lines");
    }

    [Test]
    public void Browser_EveryKeptLineIsOneRun()
    {
        var (sent, iovecs) = Rewrite(HttpText.Browser);
        string expected = HttpText.Browser
            .Replace("Host: www.example.org:8443\r\n", "")
            .Replace("Connection: keep-alive\r\n", "");
        Assert.That(sent, Is.EqualTo(expected[..^2]), "the blank line is the connection's, after its generated headers");
        Assert.That(iovecs, Is.EqualTo(4), "method, path, version, and the 15 adjacent kept lines as one");
    }

    [TestCaseSource(typeof(HopByHopLines), nameof(HopByHopLines.All))]
    [TestCase("Expect: 100-continue")]
    [TestCase("Content-Length: 0")]
    [TestCase("Transfer-Encoding: chunked")]
    public void HopByHopAndRegeneratedHeaders_AreDropped(string line)
    {
        var (sent, iovecs) = Rewrite($"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n{line}\r\nX-B: 2\r\n\r\n");
        Assert.That(sent, Is.EqualTo("GET / HTTP/1.1\r\nX-A: 1\r\nX-B: 2\r\n"));
        Assert.That(iovecs, Is.EqualTo(5), "the dropped line splits the kept ones into two runs");
    }

    [Test]
    public void HeadersNamedByConnection_AreDropped_WhateverTheirCase()
    {
        var (sent, iovecs) = Rewrite("GET / HTTP/1.1\r\nHost: h\r\nConnection: close, X-Hop\r\nx-hop: 1\r\nX-Kept: 2\r\nX-HOP: 3\r\n\r\n");
        Assert.That(sent, Is.EqualTo("GET / HTTP/1.1\r\nX-Kept: 2\r\n"));
        Assert.That(iovecs, Is.EqualTo(4));
    }

    [Test]
    public void HeaderReplacedByProxySetHeader_IsDropped()
    {
        var (sent, _) = Rewrite("GET / HTTP/1.1\r\nHost: h\r\nx-real-ip: 6.6.6.6\r\nAccept: */*\r\n\r\n",
            "location / { proxy_pass http://backend; proxy_set_header X-Real-IP $remote_addr; }");
        Assert.That(sent, Is.EqualTo("GET / HTTP/1.1\r\nAccept: */*\r\n"));
    }

    [TestCase("/api/users", "?id=7", "/v2/users?id=7")]
    [TestCase("/api/", "", "/v2/")]
    [TestCase("/api/x", "?", "/v2/x?")]
    public void ProxyPassUri_ReplacesTheMatchedPrefix_QueryKept(string path, string query, string expected)
    {
        var (sent, iovecs) = Rewrite($"GET {path}{query} HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
            "location /api/ { proxy_pass http://backend/v2/; }", path);
        Assert.That(sent, Is.EqualTo($"GET {expected} HTTP/1.1\r\nAccept: */*\r\n"));
        int expectedIovecs = 4 + (path.Length > "/api/".Length ? 1 : 0) + (query.Length > 0 ? 1 : 0);
        Assert.That(iovecs, Is.EqualTo(expectedIovecs), "method, URI, [rest of path], [query], version, header run");
    }

    [Test]
    public void Http10Upstream_GetsAnHttp10RequestLine()
    {
        var (sent, _) = Rewrite("GET /a?b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
            "location / { proxy_pass http://backend; proxy_http_version 1.0; }");
        Assert.That(sent, Is.EqualTo("GET /a?b HTTP/1.0\r\nAccept: */*\r\n"));
    }

    [Test]
    public void AbsoluteFormWithoutPath_BecomesSlash()
    {
        var (sent, _) = Rewrite("OPTIONS http://example.com HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
        Assert.That(sent, Is.EqualTo("OPTIONS / HTTP/1.1\r\nAccept: */*\r\n"));
    }
}
