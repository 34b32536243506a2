using NUnit.Framework;
using RawKeepalive.Proxy;
using RawKeepalive.Tests.Http;
using RawKeepalive.Transforms;

namespace RawKeepalive.Tests.Transforms;

/// <summary>What the client receives of the upstream's head: its status line under our version and
/// the header lines that survive, with runs of adjacent lines in one iovec.</summary>
[TestFixture, CancelAfter(60_000)]
public sealed unsafe class ResponseHeadRewriterTests
{
    private static (string Sent, int Iovecs) Rewrite(string response)
    {
        using var gather = new GatherBuffer();
        var head = gather.ParseResponse(response);
        Assert.That(ResponseHeadRewriter.TryAppendStatusLine(ref gather.List, head, gather.Head), Is.True, "fits the gather list");
        Assert.That(ResponseHeadRewriter.TryAppendKeptHeaders(ref gather.List, head, gather.Head), Is.True, "fits the gather list");
        return (gather.Sent(), gather.List.Count);
    }

    [Test]
    public void TypicalResponse_ServerDateAndConnectionDropped()
    {
        var (sent, iovecs) = Rewrite(HttpText.Response);
        Assert.That(sent, Is.EqualTo("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 1234\r\nCache-Control: max-age=60\r\n"));
        Assert.That(iovecs, Is.EqualTo(4), "version, status, two runs of kept lines");
    }

    [Test]
    public void Http10Upstream_StatusLineGoesOutAsHttp11()
    {
        var (sent, _) = Rewrite("HTTP/1.0 404 Not Found\r\nX-A: 1\r\n\r\n");
        Assert.That(sent, Is.EqualTo("HTTP/1.1 404 Not Found\r\nX-A: 1\r\n"));
    }

    [TestCaseSource(typeof(HopByHopLines), nameof(HopByHopLines.All))]
    [TestCase("Date: Mon, 01 Jun 2026 10:00:00 GMT")]
    [TestCase("Server: backend")]
    public void HopByHopDateAndServer_AreDropped(string line)
    {
        var (sent, iovecs) = Rewrite($"HTTP/1.1 200 OK\r\nX-A: 1\r\n{line}\r\nX-B: 2\r\nContent-Length: 0\r\n\r\n");
        Assert.That(sent, Is.EqualTo("HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nContent-Length: 0\r\n"));
        // Here nothing comes between the status line and X-A (the worker puts Server and Date there),
        // so "200 OK" and X-A are one run; the dropped line starts the second.
        Assert.That(iovecs, Is.EqualTo(3), "version, status and X-A, X-B and Content-Length");
    }

    [Test]
    public void HeadersNamedByConnection_AreDropped()
    {
        var (sent, _) = Rewrite("HTTP/1.1 200 OK\r\nConnection: X-Internal\r\nx-internal: 1\r\nX-Public: 2\r\nContent-Length: 0\r\n\r\n");
        Assert.That(sent, Is.EqualTo("HTTP/1.1 200 OK\r\nX-Public: 2\r\nContent-Length: 0\r\n"));
    }

    /// <summary>The connection writes its own framing: the upstream's Transfer-Encoding never passes
    /// (the parser accepts no coding but a lone "chunked").</summary>
    [TestCase("chunked")]
    [TestCase("Chunked")]
    public void TransferEncoding_IsAlwaysDropped(string codings)
    {
        var (sent, _) = Rewrite($"HTTP/1.1 200 OK\r\nTransfer-Encoding: {codings}\r\nX-A: 1\r\n\r\n");
        Assert.That(sent, Is.EqualTo("HTTP/1.1 200 OK\r\nX-A: 1\r\n"));
    }

    /// <summary>As nginx 1.23+: the first Expires passes, later ones are dropped.</summary>
    [Test]
    public void LaterExpiresLines_AreDropped()
    {
        var (sent, iovecs) = Rewrite("HTTP/1.1 200 OK\r\nExpires: A\r\nX-A: 1\r\nExpires: B\r\nX-B: 2\r\nexpires: C\r\nContent-Length: 0\r\n\r\n");
        Assert.That(sent, Is.EqualTo("HTTP/1.1 200 OK\r\nExpires: A\r\nX-A: 1\r\nX-B: 2\r\nContent-Length: 0\r\n"));
        Assert.That(iovecs, Is.EqualTo(4), "version, status to X-A, X-B, Content-Length");
    }
}
