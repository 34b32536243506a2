using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 5, "Request framing" end to end: every ambiguous or malformed request is answered with its
/// exact status, the connection closes, and nothing reaches the backend (no request, no connection).
/// The parser's unit tests pin the same rules on bytes; these pin what a client sees on the wire.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class RequestFramingTests : ProxyTestBase
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(10);

    /// <summary>A default server that answers 404 and a server named target.example that proxies.</summary>
    private const string TwoServers = """
        events { worker_connections 1024; }
        http {
            upstream app_backend {
                server 127.0.0.1:{BACKEND};
                keepalive 8;
            }
            server {
                listen 127.0.0.1:{PORT} default_server;
                server_name other.example;
                location / { return 404; }
            }
            server {
                listen 127.0.0.1:{PORT};
                server_name target.example;
                location / {
                    proxy_pass http://app_backend;
                    proxy_set_header X-Seen-Host $host;
                }
            }
        }
        """;

    private const string ChunkedPost = "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";

    /// <summary>Sends <paramref name="request"/> to a proxy on the TL;DR config and checks the refusal.</summary>
    private void AssertRefused(string request, int status)
    {
        var backend = StartBackend();
        AssertRefused(StartProxy(Configs.Tldr, backend), backend, Encoding.Latin1.GetBytes(request), status);
    }

    // --- Content-Length and Transfer-Encoding (RFC 9112 6.1, 6.3) ---

    [TestCase("Content-Length: 5\r\nTransfer-Encoding: chunked", TestName = "ContentLengthThenChunked_400")]
    [TestCase("Transfer-Encoding: chunked\r\nContent-Length: 5", TestName = "ChunkedThenContentLength_400")]
    [TestCase("Content-Length: 0\r\nTransfer-Encoding: gzip", TestName = "ContentLengthAndGzipCoding_400")]
    public void ContentLengthWithTransferEncoding_400AndClose(string headers) =>
        AssertRefused($"POST /echo HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400);

    [TestCase("Content-Length: 5\r\nContent-Length: 5", TestName = "TwoEqualContentLengths_400")]
    [TestCase("Content-Length: 5\r\nContent-Length: 6", TestName = "TwoDifferentContentLengths_400")]
    [TestCase("Content-Length: 5, 5", TestName = "ContentLengthList_400")]
    [TestCase("Content-Length: abc", TestName = "ContentLengthNotANumber_400")]
    [TestCase("Content-Length: -5", TestName = "ContentLengthNegative_400")]
    [TestCase("Content-Length: +5", TestName = "ContentLengthWithSign_400")]
    [TestCase("Content-Length: 0x5", TestName = "ContentLengthHex_400")]
    [TestCase("Content-Length: 5 5", TestName = "ContentLengthTwoNumbers_400")]
    [TestCase("Content-Length: 99999999999999999999999", TestName = "ContentLengthOverflow_400")]
    [TestCase("Content-Length:", TestName = "ContentLengthEmpty_400")]
    public void SeveralOrInvalidContentLengths_400AndClose(string headers) =>
        AssertRefused($"POST /echo HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n\r\nhello", 400);

    /// <summary>RFC 9112 6.3: chunked is not the final coding, so the length cannot be known (nginx: 501).
    /// More cases in RequestStrictnessTests.</summary>
    [TestCase("gzip", TestName = "TransferEncodingGzip_400")]
    [TestCase("chunked, gzip", TestName = "TransferEncodingChunkedNotLast_400")]
    [TestCase("identity", TestName = "TransferEncodingIdentity_400")]
    public void TransferCodingOtherThanFinalChunked_400AndClose(string coding) =>
        AssertRefused($"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: {coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400);

    /// <summary>Chunked last, but a coding before it that the upstream would lose: 501, as nginx.</summary>
    [TestCase("gzip, chunked", TestName = "TransferEncodingGzipThenChunked_501")]
    public void TransferCodingBeforeFinalChunked_501AndClose(string coding) =>
        AssertRefused($"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: {coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501);

    [Test]
    public void TransferEncodingChunkedTwice_400AndClose() =>
        AssertRefused("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);

    [Test]
    public void TransferEncodingInHttp10_400AndClose() =>
        AssertRefused("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400);

    // --- Chunked bodies (RFC 9112 7.1): the error is in the body, and still nothing may reach the backend ---

    [TestCase("xyz\r\nhello\r\n0\r\n\r\n", TestName = "ChunkSizeNotHex_400")]
    [TestCase("\r\nhello\r\n0\r\n\r\n", TestName = "ChunkSizeEmpty_400")]
    [TestCase("-5\r\nhello\r\n0\r\n\r\n", TestName = "ChunkSizeNegative_400")]
    [TestCase("0x5\r\nhello\r\n0\r\n\r\n", TestName = "ChunkSizeWithPrefix_400")]
    [TestCase("fffffffffffffffffff\r\nhello\r\n0\r\n\r\n", TestName = "ChunkSizeOverflow_400")]
    [TestCase("5\nhello\r\n0\r\n\r\n", TestName = "ChunkSizeBareLf_400")]
    [TestCase("5\r\nhelloXX0\r\n\r\n", TestName = "ChunkDataNotFollowedByCrlf_400")]
    [TestCase("5;\"bad\"\r\nhello\r\n0\r\n\r\n", TestName = "ChunkExtensionNameNotAToken_400")]
    [TestCase("5;a=\"open\r\nhello\r\n0\r\n\r\n", TestName = "ChunkExtensionUnterminatedQuote_400")]
    [TestCase("5\r\nhello\r\n0\r\nno colon here\r\n\r\n", TestName = "ChunkTrailerWithoutColon_400")]
    [TestCase("5\r\nhello\r\n0\r\nX-T: a\0b\r\n\r\n", TestName = "ChunkTrailerWithNul_400")]
    public void InvalidChunkedBody_400AndClose(string body) => AssertRefused(ChunkedPost + body, 400);

    // --- Line and field syntax (RFC 9112 2.2, 5) ---

    [TestCase("GET / HTTP/1.1\nHost: localhost\n\n", TestName = "BareLfLineEnds_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\nX-A: 1\r\n\r\n", TestName = "BareLfAfterAField_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\rX-A: 1\r\n\r\n", TestName = "BareCrInTheHead_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r2\r\n\r\n", TestName = "BareCrInAValue_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n 2\r\n\r\n", TestName = "ObsFoldWithSpace_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n\t2\r\n\r\n", TestName = "ObsFoldWithTab_400")]
    [TestCase("GET / HTTP/1.1\r\nHost : localhost\r\n\r\n", TestName = "SpaceBeforeColon_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX-A\t: 1\r\n\r\n", TestName = "TabBeforeColon_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: 1\02\r\n\r\n", TestName = "NulInAValue_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX-\0A: 1\r\n\r\n", TestName = "NulInAName_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: 1\u00012\r\n\r\n", TestName = "ControlByteInAValue_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: 1\u007F2\r\n\r\n", TestName = "DelInAValue_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX@A: 1\r\n\r\n", TestName = "InvalidTokenCharInAName_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nX[A]: 1\r\n\r\n", TestName = "BracketsInAName_400")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\n: 1\r\n\r\n", TestName = "EmptyName_400")]
    [TestCase("GE(T / HTTP/1.1\r\nHost: localhost\r\n\r\n", TestName = "InvalidTokenCharInTheMethod_400")]
    [TestCase("GET  / HTTP/1.1\r\nHost: localhost\r\n\r\n", TestName = "TwoSpacesInTheRequestLine_400")]
    [TestCase("GET /a b HTTP/1.1\r\nHost: localhost\r\n\r\n", TestName = "SpaceInTheTarget_400")]
    [TestCase("GET /\0 HTTP/1.1\r\nHost: localhost\r\n\r\n", TestName = "NulInTheTarget_400")]
    public void MalformedLinesAndFields_400AndClose(string request) => AssertRefused(request, 400);

    // --- Host (RFC 9112 3.2) ---

    [Test]
    public void MissingHostInHttp11_400AndClose() =>
        AssertRefused("GET / HTTP/1.1\r\nUser-Agent: test\r\n\r\n", 400);

    [Test]
    public void TwoHosts_400AndClose() =>
        AssertRefused("GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n", 400);

    [Test]
    public void TwoEqualHosts_400AndClose() =>
        AssertRefused("GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n", 400);

    [Test]
    public void HostWithInvalidCharacters_400AndClose() =>
        AssertRefused("GET / HTTP/1.1\r\nHost: local host\r\n\r\n", 400);

    [Test]
    public void MissingHostInHttp10_IsServed()
    {
        var backend = StartBackend();
        var client = Connect(StartProxy(Configs.Tldr, backend), NoHang);
        client.Send("GET /?size=10 HTTP/1.0\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200), response.ToString());
        Assert.That(response.Body, Is.EqualTo(TestBackend.Body(10)));
    }

    /// <summary>RFC 9112 3.2.2: an absolute-form target's authority replaces the Host header, for routing and $host.</summary>
    [Test]
    public void AbsoluteFormTarget_TakesItsHostFromTheTarget()
    {
        var backend = StartBackend();
        var proxy = StartProxy(TwoServers, backend);
        var client = Connect(proxy, NoHang);

        client.Send("GET /abs?size=7 HTTP/1.1\r\nHost: other.example\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(404), "origin-form: the Host header routes");

        client.Send("GET http://target.example/abs?size=7 HTTP/1.1\r\nHost: other.example\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200), response.ToString());
        Assert.That(response.Body, Is.EqualTo(TestBackend.Body(7)));
        var forwarded = backend.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(forwarded.Headers.Get("X-Seen-Host"), Is.EqualTo("target.example"), forwarded.Head);
            Assert.That(forwarded.Target, Is.EqualTo("/abs?size=7"), "the upstream gets origin-form");
        });

        client.Send("GET HTTP://target.example:80/abs?size=3 HTTP/1.1\r\nHost: other.example\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(200), "the scheme is case-insensitive, the port is stripped for routing");
    }

    /// <summary>RFC 9110 4.2.3: the host is case-insensitive; nginx lower-cases it (and drops a trailing dot)
    /// before matching server_name.</summary>
    [TestCase("Host: TARGET.EXAMPLE", "GET /?size=3")]
    [TestCase("Host: other.example", "GET http://Target.Example/?size=3")]
    [TestCase("Host: target.example.", "GET /?size=3")]
    [TestCase("Host: target.example:80", "GET /?size=3")]
    public void ServerSelection_NormalisesTheHost(string hostLine, string requestLine)
    {
        var backend = StartBackend();
        var proxy = StartProxy(TwoServers, backend);
        var client = Connect(proxy, NoHang);
        client.Send($"{requestLine} HTTP/1.1\r\n{hostLine}\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200), $"routed to server_name target.example:\n{response.Head}");
        Assert.That(response.Body, Is.EqualTo(TestBackend.Body(3)));
    }

    // --- Versions (RFC 9112 2.3, RFC 9113 3.4) ---

    // HTTP/1.2 is served as HTTP/1.1: RequestStrictnessTests.HigherMinorVersion_IsServedAsHttp11
    [TestCase("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", TestName = "Http2Preface_505")]
    [TestCase("GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", TestName = "Http20_505")]
    [TestCase("GET / HTTP/3.0\r\nHost: localhost\r\n\r\n", TestName = "Http30_505")]
    [TestCase("GET / HTTP/0.9\r\nHost: localhost\r\n\r\n", TestName = "Http09VersionInALine_505")]
    public void OtherVersions_505AndClose(string request) => AssertRefused(request, 505);

    [TestCase("GET / http/1.1\r\nHost: localhost\r\n\r\n", TestName = "LowercaseVersion_400")]
    [TestCase("GET / HTTP/1.10\r\nHost: localhost\r\n\r\n", TestName = "ThreeDigitVersion_400")]
    [TestCase("GET / HTTP/11\r\nHost: localhost\r\n\r\n", TestName = "VersionWithoutDot_400")]
    [TestCase("GET /\r\n\r\n", TestName = "Http09RequestThenBlankLine_400")]
    public void MalformedVersions_400AndClose(string request) => AssertRefused(request, 400);

    /// <summary>An HTTP/0.9 client sends one line and waits: the refusal must come without a blank line.</summary>
    [Test]
    public void Http09SimpleRequest_400AndClose() => AssertRefused("GET /\r\n", 400);

    // --- Limits (nginx's large_client_header_buffers; issue 5 "Limits") ---

    [Test]
    public void OverlongRequestLine_414AndClose() =>
        AssertRefused($"GET /{new string('a', 20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n", 414);

    [Test]
    public void OverlongHeaderField_431AndClose() =>
        AssertRefused($"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {new string('b', 20_000)}\r\n\r\n", 431);

    [Test]
    public void OverlongHeaderBlock_431AndClose() =>
        AssertRefused("GET / HTTP/1.1\r\nHost: localhost\r\n"
            + string.Concat(Enumerable.Range(0, 40).Select(i => $"X-H{i}: {new string('c', 1000)}\r\n")) + "\r\n", 431);

    [Test]
    public void MoreThan100HeaderFields_431AndClose() =>
        AssertRefused("GET / HTTP/1.1\r\nHost: localhost\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-H{i}: {i}\r\n")) + "\r\n", 431);

    /// <summary>nginx checks each chunk-size against client_max_body_size (default 1m) as it parses it.</summary>
    [Test]
    public void ChunkSizeOverClientMaxBodySize_413AndClose() => AssertRefused(ChunkedPost + "fffffffffffffff\r\nhello", 413);

    /// <summary>A chunked body that grows past client_max_body_size (1m) in small chunks: 413, and the
    /// backend never gets a complete request (nginx buffers the body, so it never gets any).</summary>
    [Test]
    public void ChunkedBodyOverClientMaxBodySize_413_BackendGetsNoRequest()
    {
        var backend = StartBackend();
        var client = Connect(StartProxy(Configs.Tldr, backend), NoHang);
        byte[] chunk = [.. Encoding.ASCII.GetBytes("10000\r\n"), .. TestBackend.Body(0x10000), .. "\r\n"u8];
        client.Send(ChunkedPost);
        try
        {
            for (int i = 0; i < 32; i++)
                client.SendRaw(chunk);
            client.SendRaw("0\r\n\r\n"u8);
        }
        catch (SocketException)
        {
            // refused and closed while the body was still coming
        }
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(413), response.ToString());
        Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(backend.RequestCount, Is.Zero, "no complete request over the limit reaches the backend");
    }

    // --- After a refusal the proxy goes on serving ---

    [Test]
    public void AfterEveryRefusal_TheNextConnectionIsServed()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Tldr, backend);
        string[] bad =
        [
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            ChunkedPost + "zz\r\n",
        ];
        foreach (string request in bad)
        {
            using (var refused = new RawHttpClient(proxy.Port, NoHang))
            {
                refused.Send(request);
                Assert.That(refused.ReadResponse().Status, Is.AnyOf(400, 505));
            }
            var client = Connect(proxy, NoHang);
            var response = client.Get("/?size=1000");
            Assert.That(response.Body, Is.EqualTo(TestBackend.Body(1000)), $"after {request.Split("\r\n")[0]}");
        }
        Assert.That(backend.ProtocolErrors, Is.Empty, "nothing malformed reached the backend");
    }

    /// <summary>A smuggling attempt pipelined after a valid request: the valid one is served, the smuggled one refused.</summary>
    [Test]
    public void PipelinedSmugglingAttempt_FirstServed_SecondRefused_NothingSmuggled()
    {
        var backend = StartBackend();
        var client = Connect(StartProxy(Configs.Tldr, backend), NoHang);
        client.Send("GET /?size=5 HTTP/1.1\r\nHost: localhost\r\n\r\n"
            + "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(client.ReadResponse().Body, Is.EqualTo(TestBackend.Body(5)));
        Assert.That(client.ReadResponse().Status, Is.EqualTo(400));
        Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(backend.Requests.Select(r => r.Target), Is.EqualTo(new[] { "/?size=5" }), "only the valid request reached the backend");
    }

    /// <summary>The bytes of a refused request may still be arriving when the proxy answers: the answer must
    /// not be destroyed by a reset (nginx's lingering close).</summary>
    [Test]
    public void RefusalWhileTheClientIsStillSending_ResponseArrivesIntact()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Tldr, backend);
        var client = Connect(proxy, NoHang);
        client.Send($"GET /{new string('a', 20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        try
        {
            client.SendRaw(new byte[64 * 1024]);
        }
        catch (SocketException)
        {
            // the proxy may close its side first; what matters is the response below
        }
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(414));
    }
}
