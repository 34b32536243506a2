using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Requests strict by the RFCs, end to end (the README's "Bad input" table): Host and authority syntax,
/// RFC 3986 request-target bytes, Transfer-Encoding whose final coding is not chunked, HTTP/1.x minor
/// versions, long methods, CONNECT, field names with '_' (underscores_in_headers), and request trailers that
/// must not be forwarded. A refusal is pinned with its status, the close, and a backend that got zero bytes
/// (no connection at all); a request that is served is pinned with exactly one clean request upstream.
/// The parser's unit tests (RequestParserTests, ChunkedDecoderTests) pin the same rules on bytes.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class RequestStrictnessTests : ProxyTestBase
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Arrives = TimeSpan.FromSeconds(10);

    /// <summary>The TL;DR config with $server_protocol and $http_x_foo sent upstream.</summary>
    private static string Config(string http = "", string server = "") => $$"""
        events { worker_connections 1024; }
        http {
            {{http}}
            upstream app_backend {
                server 127.0.0.1:{BACKEND};
                keepalive 16;
            }
            server {
                listen 127.0.0.1:{PORT};
                {{server}}
                location / {
                    proxy_pass http://app_backend;
                    proxy_set_header Connection "";
                    proxy_set_header X-Seen-Protocol $server_protocol;
                    proxy_set_header X-Seen-Foo $http_x_foo;
                }
            }
        }
        """;

    private const string ChunkedHead = "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";

    /// <summary>Sends <paramref name="request"/> to a proxy on <paramref name="config"/> and checks the refusal.</summary>
    private void AssertRefused(byte[] request, int status, string? config = null)
    {
        var backend = StartBackend();
        AssertRefused(StartProxy(config ?? Config(), backend), backend, request, status);
    }

    private void AssertRefused(string request, int status, string? config = null) =>
        AssertRefused(Encoding.Latin1.GetBytes(request), status, config);

    /// <summary>Sends <paramref name="request"/> and checks it is served: 200, and the backend got exactly one
    /// request, on one connection, with nothing it had to refuse. Returns that request.</summary>
    private BackendRequest AssertServed(string request, string? config = null)
    {
        var backend = StartBackend();
        var proxy = StartProxy(config ?? Config(), backend);
        var client = Connect(proxy, NoHang);
        client.Send(request);
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200), response.ToString());
            Assert.That(backend.RequestCount, Is.EqualTo(1), "exactly one request upstream");
            Assert.That(backend.AcceptedConnections, Is.EqualTo(1));
            Assert.That(backend.ProtocolErrors, Is.Empty, "the backend got a clean request");
        });
        return backend.Requests.Single();
    }

    // --- Host and absolute-form authority: uri-host [":" port], host never empty, port 1 to 5 digits ---

    [TestCase("Host:", TestName = "Host_Empty_400")]
    [TestCase("Host:   ", TestName = "Host_OnlyWhitespace_400")]
    [TestCase("Host: :80", TestName = "Host_PortWithoutHost_400")]
    [TestCase("Host: localhost:", TestName = "Host_EmptyPort_400")]
    [TestCase("Host: localhost:123456", TestName = "Host_SixDigitPort_400")]
    [TestCase("Host: localhost:http", TestName = "Host_PortNotDigits_400")]
    [TestCase("Host: localhost:80:81", TestName = "Host_TwoPorts_400")]
    [TestCase("Host: [::1]:", TestName = "Host_IpLiteralEmptyPort_400")]
    [TestCase("Host: local%zzhost", TestName = "Host_MalformedPercentEncoding_400")]
    public void InvalidHost_400AndClose(string hostLine) =>
        AssertRefused($"GET / HTTP/1.1\r\n{hostLine}\r\n\r\n", 400);

    [TestCase("http://localhost:123456/", TestName = "AbsoluteForm_SixDigitPort_400")]
    [TestCase("http://localhost:x/", TestName = "AbsoluteForm_PortNotDigits_400")]
    [TestCase("http://localhost:/", TestName = "AbsoluteForm_EmptyPort_400")]
    [TestCase("http://:80/", TestName = "AbsoluteForm_PortWithoutHost_400")]
    [TestCase("http:///", TestName = "AbsoluteForm_EmptyAuthority_400")]
    public void InvalidAbsoluteFormAuthority_400AndClose(string target) =>
        AssertRefused($"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n", 400);

    [Test]
    public void EmptyHostInHttp10_400AndClose() => AssertRefused("GET / HTTP/1.0\r\nHost:\r\n\r\n", 400);

    [TestCase("localhost:99999")]
    [TestCase("[::1]:8080")]
    [TestCase("127.0.0.1:1")]
    public void HostWithAFiveDigitPortOrIpLiteral_IsServed(string host)
    {
        var forwarded = AssertServed($"GET /h?size=1 HTTP/1.1\r\nHost: {host}\r\n\r\n");
        Assert.That(forwarded.Target, Is.EqualTo("/h?size=1"));
    }

    // --- Request-target bytes (RFC 3986): unreserved, pct-encoded, sub-delims, ':', '@', '/', '?' ---

    [TestCase("/caf\u00e9", TestName = "Target_Latin1ByteE9_400")]
    [TestCase("/\u0080", TestName = "Target_Byte80_400")]
    [TestCase("/?q=\u00ff", TestName = "Target_ByteFFInTheQuery_400")]
    [TestCase("/a\"b", TestName = "Target_DoubleQuote_400")]
    [TestCase("/a<b>", TestName = "Target_AngleBrackets_400")]
    [TestCase("/a\\b", TestName = "Target_Backslash_400")]
    [TestCase("/a^b", TestName = "Target_Caret_400")]
    [TestCase("/a`b", TestName = "Target_Backtick_400")]
    [TestCase("/a{b}", TestName = "Target_Braces_400")]
    [TestCase("/a|b", TestName = "Target_Pipe_400")]
    [TestCase("/a[b]", TestName = "Target_BracketsInThePath_400")]
    [TestCase("/?a[]=1", TestName = "Target_BracketsInTheQuery_400")]
    [TestCase("/a#b", TestName = "Target_Fragment_400")]
    [TestCase("/%zz", TestName = "Target_MalformedPercentEncoding_400")]
    [TestCase("/%4", TestName = "Target_TruncatedPercentEncoding_400")]
    [TestCase("/?a=%zz", TestName = "Target_MalformedPercentEncodingInTheQuery_400")]
    [TestCase("/?q=100%", TestName = "Target_LonePercentInTheQuery_400")]
    [TestCase("http://localhost/a|b", TestName = "Target_AbsoluteFormPipe_400")]
    public void TargetOutsideRfc3986_400AndClose(string target) =>
        AssertRefused($"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n", 400);

    /// <summary>UTF-8 as a browser would never send it unencoded: the raw bytes C3 A9.</summary>
    [Test]
    public void TargetWithRawUtf8_400AndClose() =>
        AssertRefused([.. "GET /caf"u8, 0xC3, 0xA9, .. " HTTP/1.1\r\nHost: localhost\r\n\r\n"u8], 400);

    [Test]
    public void TargetWithEveryAllowedByte_IsForwardedUnchanged()
    {
        const string target = "/a-b._~!$&'()*+,;=:@/c%20d%7B?size=2&x=/?:@!$'()*+,;=%41";
        var forwarded = AssertServed($"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(forwarded.Target, Is.EqualTo(target));
    }

    // --- Transfer-Encoding (RFC 9112 6.3): chunked must be the final coding ---

    [TestCase("gzip", TestName = "TransferEncodingGzip_400")]
    [TestCase("identity", TestName = "TransferEncodingIdentity_400")]
    [TestCase("chunked, gzip", TestName = "TransferEncodingChunkedNotLast_400")]
    [TestCase("chunked;x=1", TestName = "TransferEncodingChunkedWithAParameter_400")]
    [TestCase("", TestName = "TransferEncodingEmpty_400")]
    [TestCase("chunked\r\nTransfer-Encoding: gzip", TestName = "TransferEncodingGzipOnASecondLine_400")]
    public void FinalCodingNotChunked_400AndClose(string coding) =>
        AssertRefused($"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: {coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400);

    [TestCase("gzip, chunked", TestName = "TransferEncodingGzipThenChunked_501")]
    [TestCase("x-unknown, chunked", TestName = "TransferEncodingUnknownThenChunked_501")]
    public void OtherCodingsBeforeFinalChunked_501AndClose(string coding) =>
        AssertRefused($"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: {coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501);

    // --- HTTP/1.x above 1.1 is served as HTTP/1.1 (RFC 9110 2.5) ---

    [TestCase("HTTP/1.2")]
    [TestCase("HTTP/1.9")]
    public void HigherMinorVersion_IsServedAsHttp11(string version)
    {
        var backend = StartBackend();
        var client = Connect(StartProxy(Config(), backend), NoHang);
        client.Send($"GET /v?size=3 {version}\r\nHost: localhost\r\n\r\n");
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200), response.ToString());
            Assert.That(response.Version, Is.EqualTo("HTTP/1.1"));
            Assert.That(response.Body, Is.EqualTo(TestBackend.Body(3)));
            Assert.That(response.Headers.HasToken("Connection", "close"), Is.False, "persistent, as HTTP/1.1");
        });
        var forwarded = backend.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(forwarded.Version, Is.EqualTo("HTTP/1.1"), forwarded.Head);
            Assert.That(forwarded.Get("X-Seen-Protocol"), Is.EqualTo("HTTP/1.1"), "$server_protocol (nginx: the raw HTTP/1.x)");
        });
        Assert.That(client.Get("/again?size=1").Status, Is.EqualTo(200), "the connection was kept");
        Assert.That(backend.ProtocolErrors, Is.Empty);
    }

    // --- Methods: more than 32 bytes is 501 (RFC 9112 3), unknown shorter ones are forwarded ---

    [Test]
    public void MethodOf32Bytes_IsForwarded()
    {
        string method = new('M', 32);
        var forwarded = AssertServed($"{method} /m HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(forwarded.Method, Is.EqualTo(method));
    }

    [Test]
    public void MethodOf33Bytes_501AndClose() =>
        AssertRefused($"{new string('M', 33)} /m HTTP/1.1\r\nHost: localhost\r\n\r\n", 501);

    /// <summary>Decided at the 33rd token byte: no SP, no line end, no head needed.</summary>
    [Test]
    public void MethodOf33Bytes_IsAnsweredBeforeTheLineEnds() =>
        AssertRefused(new string('M', 33), 501);

    [Test]
    public void MethodOver8KiB_501NotA414() =>
        AssertRefused($"{new string('M', 9000)} / HTTP/1.1\r\nHost: localhost\r\n\r\n", 501);

    // --- CONNECT is 405, whatever its target ---

    [TestCase("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", TestName = "ConnectAuthorityForm_405")]
    [TestCase("CONNECT / HTTP/1.1\r\nHost: localhost\r\n\r\n", TestName = "ConnectOriginForm_405")]
    [TestCase("CONNECT http://localhost/ HTTP/1.1\r\nHost: localhost\r\n\r\n", TestName = "ConnectAbsoluteForm_405")]
    [TestCase("CONNECT localhost:443 HTTP/1.0\r\n\r\n", TestName = "ConnectHttp10_405")]
    [TestCase("CONNECT localhost:443 HTTP/1.1\r\n", TestName = "ConnectBeforeTheHeadEnds_405")]
    public void Connect_405AndClose(string request) => AssertRefused(request, 405);

    [Test]
    public void Connect_405NamesTheAllowedMethods()
    {
        var proxy = StartProxy(Config(), StartBackend());
        var client = Connect(proxy, NoHang);
        client.Send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(405), response.ToString());
        Assert.That(response.Get("Allow"), Does.Contain("GET").And.Not.Contain("CONNECT"), response.Head);
    }

    // --- OPTIONS * asks about the server itself: answered here, never forwarded ---

    [TestCase("HTTP/1.1")]
    [TestCase("HTTP/1.0")]
    public void OptionsAsterisk_200WithAllow_AndTheUpstreamSeesNothing(string version)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config(), backend);
        var client = Connect(proxy, NoHang);
        client.Send($"OPTIONS * {version}\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n");
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200), response.ToString());
            Assert.That(response.Get("Allow"), Is.EqualTo("GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH"), response.Head);
            Assert.That(response.Get("Content-Length"), Is.EqualTo("0"), response.Head);
            Assert.That(response.Body, Is.Empty);
        });
        // The connection stays usable, and the next request is the first the upstream sees.
        Assert.That(client.Get("/after").Status, Is.EqualTo(200));
        Assert.That(backend.Requests.Select(r => r.Target), Is.EqualTo(new[] { "/after" }));
    }

    // --- Field names with '_' (underscores_in_headers, nginx's default off) ---

    private const string UnderscoreRequest =
        "GET /u?size=1 HTTP/1.1\r\nHost: localhost\r\nX_Foo: under\r\nX-Bar: 2\r\nX_Forwarded_For: 6.6.6.6\r\n\r\n";

    [Test]
    public void Underscores_Off_AreDroppedAndInvisibleToHttpVariables()
    {
        var forwarded = AssertServed(UnderscoreRequest);
        Assert.Multiple(() =>
        {
            Assert.That(forwarded.Headers.Select(h => h.Key), Has.None.Contains("_"), forwarded.Head);
            Assert.That(forwarded.Get("X-Bar"), Is.EqualTo("2"));
            Assert.That(forwarded.Get("X-Seen-Foo"), Is.Null, "$http_x_foo does not see X_Foo");
        });
    }

    [Test]
    public void Underscores_Off_HttpVariableStillSeesTheDashedName()
    {
        var forwarded = AssertServed("GET /u?size=1 HTTP/1.1\r\nHost: localhost\r\nX_Foo: under\r\nX-Foo: dash\r\n\r\n");
        Assert.That(forwarded.Get("X-Seen-Foo"), Is.EqualTo("dash"));
        Assert.That(forwarded.Get("X-Foo"), Is.EqualTo("dash"));
    }

    [TestCase("", "underscores_in_headers on;", TestName = "Underscores_OnInServer_AreForwarded")]
    [TestCase("underscores_in_headers on;", "", TestName = "Underscores_OnInHttp_AreForwarded")]
    public void Underscores_On_AreForwarded(string http, string server)
    {
        var forwarded = AssertServed(UnderscoreRequest, Config(http, server));
        Assert.Multiple(() =>
        {
            Assert.That(forwarded.Get("X_Foo"), Is.EqualTo("under"), forwarded.Head);
            Assert.That(forwarded.Get("X_Forwarded_For"), Is.EqualTo("6.6.6.6"));
            Assert.That(forwarded.Get("X-Bar"), Is.EqualTo("2"));
        });
    }

    [Test]
    public void Underscores_OffInServer_OverridesOnInHttp()
    {
        var forwarded = AssertServed(UnderscoreRequest, Config("underscores_in_headers on;", "underscores_in_headers off;"));
        Assert.That(forwarded.Headers.Select(h => h.Key), Has.None.Contains("_"), forwarded.Head);
    }

    /// <summary>Framing, hop-by-hop or Host to an upstream that folds '_' into '-': refused with the setting
    /// on or off, so no configuration can carry one upstream.</summary>
    [TestCase("Transfer_Encoding: chunked", "off")]
    [TestCase("Transfer_Encoding: chunked", "on")]
    [TestCase("Content_Length: 5", "off")]
    [TestCase("Content_Length: 5", "on")]
    [TestCase("Keep_Alive: timeout=5", "on")]
    [TestCase("Proxy_Connection: close", "on")]
    public void Underscores_FramingOrHopByHopLookalike_400AndClose(string field, string setting) =>
        AssertRefused($"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n{field}\r\n\r\nhello", 400,
            Config(server: $"underscores_in_headers {setting};"));

    /// <summary>ignore_invalid_headers is accepted and changes nothing: a name that is not a token is 400 either way.</summary>
    [TestCase("on")]
    [TestCase("off")]
    public void IgnoreInvalidHeaders_InvalidNameIs400Either(string setting) =>
        AssertRefused("GET / HTTP/1.1\r\nHost: localhost\r\nX@A: 1\r\n\r\n", 400, Config(server: $"ignore_invalid_headers {setting};"));

    [TestCase("ignore_invalid_headers off;", "")]
    [TestCase("", "ignore_invalid_headers on;")]
    public void IgnoreInvalidHeaders_UnderscoresStillFollowTheirOwnSetting(string http, string server)
    {
        var forwarded = AssertServed(UnderscoreRequest, Config(http, server));
        Assert.That(forwarded.Headers.Select(h => h.Key), Has.None.Contains("_"), forwarded.Head);
    }

    [TestCase("underscores_in_headers maybe;", "invalid value \"maybe\" in \"underscores_in_headers\" directive, it must be \"on\" or \"off\"")]
    [TestCase("ignore_invalid_headers 1;", "invalid value \"1\" in \"ignore_invalid_headers\" directive, it must be \"on\" or \"off\"")]
    [TestCase("underscores_in_headers on; underscores_in_headers off;", "\"underscores_in_headers\" directive is duplicate")]
    public void Directives_AreValidated(string server, string error)
    {
        var result = ProxyProcess.RunConfigTest(Config(server: server), backend: FreePort.Probe());
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Output);
        Assert.That(result.Output, Does.Contain(error));
    }

    [TestCase("underscores_in_headers")]
    [TestCase("ignore_invalid_headers")]
    public void Directives_NotAllowedInALocation(string directive)
    {
        string config = Config().Replace("proxy_pass http://app_backend;", $"proxy_pass http://app_backend; {directive} on;");
        var result = ProxyProcess.RunConfigTest(config, backend: FreePort.Probe());
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Output);
        Assert.That(result.Output, Does.Contain($"\"{directive}\" directive is not allowed here"));
    }

    // --- Request trailers (RFC 9110 6.5.1): fields that govern framing, routing, authentication or content ---

    [TestCase("Content-Length: 31337")]
    [TestCase("Transfer-Encoding: chunked")]
    [TestCase("Host: evil.example")]
    [TestCase("Authorization: Basic YTpi")]
    [TestCase("Content-Type: text/html")]
    [TestCase("Cookie: session=stolen")]
    [TestCase("Content_Length: 31337")]
    public void RefusedTrailer_InTheFirstRead_400AndClose_BackendUntouched(string trailer) =>
        AssertRefused($"{ChunkedHead}5\r\nhello\r\n0\r\nX-Ok: 1\r\n{trailer}\r\n\r\n", 400);

    /// <summary>The body streams to the upstream as it arrives; the refused trailer comes later. The upstream
    /// has the start of the body but never the trailer, never a complete request, and its connection is
    /// closed; the client gets 400. Split after the whole name, or inside it (the decoder holds an
    /// unfinished trailer name back, so not even its first bytes go upstream).</summary>
    [TestCase("", "Content-Length: 31337\r\n\r\n", TestName = "RefusedTrailer_Streamed_NeverReachesTheUpstream")]
    [TestCase("Content-Le", "ngth: 31337\r\n\r\n", TestName = "RefusedTrailer_NameSplitAcrossReads_NotABytePasses")]
    public void RefusedTrailer_AfterTheBodyStarted_UpstreamGetsNoneOfIt(string firstPart, string rest)
    {
        var upstream = Track(new RecordingBackend());
        var client = Connect(StartProxy(Config(), upstream.Port), NoHang);
        const string forwardedBody = "5\r\nhello\r\n0\r\nX-Ok: 1\r\n";
        client.Send(ChunkedHead + forwardedBody + firstPart);
        Assert.That(Wait.Until(() => upstream.Body(0).EndsWith(forwardedBody, StringComparison.Ordinal), Arrives), Is.True,
            $"the start of the body is forwarded as it streams: \"{upstream.Text(0)}\"");
        Assert.That(Wait.HoldsFor(() => upstream.Body(0) == forwardedBody, RefusalUntouched), Is.True,
            $"nothing of the unfinished trailer line goes ahead: \"{upstream.Text(0)}\"");

        client.Send(rest);
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(400), response.ToString());
            Assert.That(response.Headers.HasToken("Connection", "close"), Is.True, response.Head);
            Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True, "the client connection closes");
            Assert.That(Wait.Until(() => upstream.IsClosed(0), Arrives), Is.True, "the upstream connection that got the start is closed");
            Assert.That(upstream.Body(0), Is.EqualTo(forwardedBody), "the upstream got the body up to the refused line, not a byte more");
            Assert.That(upstream.Text(0), Does.Not.Contain("31337").And.Not.Contain("Content-Le"));
            Assert.That(upstream.Connections, Is.EqualTo(1));
        });
    }

    /// <summary>The same against the strict TestBackend: it never parses a complete request.</summary>
    [Test]
    public void RefusedTrailer_AfterTheBodyStarted_BackendNeverGetsACompleteRequest()
    {
        var backend = StartBackend();
        var client = Connect(StartProxy(Config(), backend), NoHang);
        client.Send(ChunkedHead + "5\r\nhello\r\n0\r\n");
        Assert.That(Wait.Until(() => backend.AcceptedConnections == 1, Arrives), Is.True, "the body streams upstream");
        client.Send("Content-Length: 31337\r\n\r\n");
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(400), response.ToString());
            Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);
            Assert.That(Wait.Until(() => backend.OpenConnections == 0, Arrives), Is.True, "the upstream connection is closed");
            Assert.That(backend.RequestCount, Is.Zero, "no complete request reached the backend");
            Assert.That(backend.AcceptedConnections, Is.EqualTo(1));
        });
    }

    /// <summary>An HTTP/1.0 upstream gets the body de-chunked, so it never gets trailers; a refused one is still 400,
    /// and the body is read whole before connecting, so the backend is never touched.</summary>
    [Test]
    public void RefusedTrailer_ToAnHttp10Upstream_400_BackendUntouched()
    {
        var backend = StartBackend();
        var client = Connect(StartProxy(Config(server: "proxy_http_version 1.0;"), backend), NoHang);
        client.Send(ChunkedHead + "5\r\nhello\r\n0\r\nX-O");
        Assert.That(Wait.HoldsFor(() => backend.AcceptedConnections == 0, RefusalUntouched), Is.True);
        client.Send("k: 1\r\nAuthorization: Basic YTpi\r\n\r\n");
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(400), response.ToString());
            Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);
            Assert.That(Wait.HoldsFor(() => backend.AcceptedConnections == 0, RefusalUntouched), Is.True);
        });
    }

    [Test]
    public void AllowedTrailers_AreServed()
    {
        var forwarded = AssertServed(ChunkedHead + "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=53\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(forwarded.BodyChunked, Is.True);
            Assert.That(forwarded.BodyLength, Is.EqualTo(5));
        });
    }

    /// <summary>Allowed trailers reach an HTTP/1.1 upstream byte for byte, even with a name split across reads.</summary>
    [Test]
    public void AllowedTrailers_AreForwardedUnchanged_EvenSplitInTheirName()
    {
        const string body = "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=53\r\n\r\n";
        var upstream = Track(new RecordingBackend(respondWhenBodyEndsWith: "\r\n\r\n"));
        var client = Connect(StartProxy(Config(), upstream.Port), NoHang);
        client.Send(ChunkedHead + "5\r\nhello\r\n0\r\nX-Check");
        Assert.That(Wait.Until(() => upstream.Body(0) == "5\r\nhello\r\n0\r\n", Arrives), Is.True, upstream.Text(0));
        client.Send("sum: abc\r\nServer-Timing: db;dur=53\r\n\r\n");
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200), response.ToString());
            Assert.That(upstream.Body(0), Is.EqualTo(body));
            Assert.That(upstream.Connections, Is.EqualTo(1));
        });
    }

    /// <summary>The proxy's receive buffer fills exactly with an unfinished trailer name at its end: the decoder
    /// holds the name back, and the connection must make room for the rest instead of waiting forever.
    /// HTTP/1.1 upstream (forwarded as it streams) and HTTP/1.0 upstream (de-chunked first).</summary>
    [TestCase("1.1")]
    [TestCase("1.0")]
    public void TrailerNameHeldAtTheEndOfAFullBuffer_TheRestIsStillRead(string upstreamVersion)
    {
        const int bufferSize = 16 * 1024;   // Worker.IoBufferSize
        const string tail = "\r\n0\r\nX-Check";
        var backend = StartBackend();
        var client = Connect(StartProxy(Config(server: $"proxy_http_version {upstreamVersion};"), backend), NoHang);
        int data = bufferSize - ChunkedHead.Length - tail.Length - "2000\r\n".Length;
        string first = ChunkedHead + data.ToString("x4") + "\r\n" + new string('d', data) + tail;
        Assert.That(first.Length, Is.EqualTo(bufferSize));
        client.Send(first);
        if (upstreamVersion == "1.1")
            Assert.That(Wait.Until(() => backend.AcceptedConnections == 1, Arrives), Is.True, "the body streams upstream");
        else
            Wait.HoldsFor(() => backend.AcceptedConnections == 0, RefusalUntouched);   // the proxy reads the first part meanwhile
        client.Send("sum: abc\r\n\r\n");
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200), response.ToString());
            Assert.That(response.Body.Length, Is.EqualTo(data), "the echoed body");
            Assert.That(backend.RequestCount, Is.EqualTo(1));
            Assert.That(backend.ProtocolErrors, Is.Empty);
        });
    }

    /// <summary>
    /// A raw upstream that records every byte of every connection and can answer one request per connection
    /// (200, empty body) once the bytes after its head end with a given suffix. For what the proxy forwards
    /// byte for byte, which the parsing <see cref="TestBackend"/> does not keep (trailers, a body cut short).
    /// </summary>
    private sealed class RecordingBackend : IDisposable
    {
        private readonly Socket _listener;
        private readonly string? _respondWhenBodyEndsWith;
        private readonly ConcurrentDictionary<int, Recorded> _connections = new();
        private int _accepted;

        private sealed class Recorded
        {
            public readonly MemoryStream Bytes = new();
            public volatile bool Closed;
            public Socket? Socket;
        }

        public RecordingBackend(string? respondWhenBodyEndsWith = null)
        {
            _respondWhenBodyEndsWith = respondWhenBodyEndsWith;
            _listener = LoopbackListener.Start("recording-backend", Accepted);
            Port = LoopbackListener.PortOf(_listener);
        }

        public int Port { get; }

        public int Connections => Volatile.Read(ref _accepted);

        /// <summary>Everything connection <paramref name="index"/> (0 = first) received so far, as Latin-1.</summary>
        public string Text(int index)
        {
            if (!_connections.TryGetValue(index, out var c)) return "";
            lock (c) return Encoding.Latin1.GetString(c.Bytes.GetBuffer(), 0, (int)c.Bytes.Length);
        }

        /// <summary>What connection <paramref name="index"/> received after the head's blank line.</summary>
        public string Body(int index)
        {
            string text = Text(index);
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            return end < 0 ? "" : text[(end + 4)..];
        }

        public bool IsClosed(int index) => _connections.TryGetValue(index, out var c) && c.Closed;

        private void Accepted(Socket socket, int number)
        {
            var recorded = new Recorded { Socket = socket };
            _connections[number - 1] = recorded;
            Interlocked.Increment(ref _accepted);
            Record(socket, recorded);
        }

        private void Record(Socket socket, Recorded recorded)
        {
            var buffer = new byte[16 * 1024];
            bool answered = false;
            try
            {
                int n;
                while ((n = socket.Receive(buffer)) > 0)
                {
                    string text;
                    lock (recorded)
                    {
                        recorded.Bytes.Write(buffer, 0, n);
                        text = Encoding.Latin1.GetString(recorded.Bytes.GetBuffer(), 0, (int)recorded.Bytes.Length);
                    }
                    int head = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                    if (!answered && _respondWhenBodyEndsWith is { } suffix && head >= 0 && text[(head + 4)..].EndsWith(suffix, StringComparison.Ordinal))
                    {
                        answered = true;
                        socket.Send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            finally
            {
                recorded.Closed = true;
            }
        }

        public void Dispose()
        {
            _listener.Dispose();
            foreach (var c in _connections.Values)
                c.Socket?.Dispose();
        }
    }
}
