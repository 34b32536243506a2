using NUnit.Framework;
using RawKeepalive.Http;
using HttpMethod = RawKeepalive.Http.HttpMethod;
using static RawKeepalive.Tests.Http.HttpText;

namespace RawKeepalive.Tests.Http;

[TestFixture, CancelAfter(60_000)]
public class RequestParserTests
{
    private readonly RequestHead _head = new();

    private ParseResult Parse(byte[] buffer) => RequestParser.Parse(buffer, _head);

    private void AssertError(string text, int status)
    {
        Assert.Multiple(() =>
        {
            Assert.That(Parse(Bytes(text)), Is.EqualTo(ParseResult.Error), text);
            Assert.That(_head.ErrorStatus, Is.EqualTo(status), text);
        });
    }

    private byte[] ParseOk(string text)
    {
        var b = Bytes(text);
        Assert.That(Parse(b), Is.EqualTo(ParseResult.Complete), () => $"{text} -> {_head.ErrorStatus}");
        return b;
    }

    [Test]
    public void CurlRequest()
    {
        var b = ParseOk(Curl);
        Assert.Multiple(() =>
        {
            Assert.That(_head.Method, Is.EqualTo(HttpMethod.Get));
            Assert.That(_head.MethodToken.Text(b), Is.EqualTo("GET"));
            Assert.That(_head.Target.Text(b), Is.EqualTo("/index.html?x=1&y=2"));
            Assert.That(_head.Path.Text(b), Is.EqualTo("/index.html"));
            Assert.That(_head.HasQuery, Is.True);
            Assert.That(_head.Query.Text(b), Is.EqualTo("x=1&y=2"));
            Assert.That(_head.VersionMinor, Is.EqualTo(1));
            Assert.That(_head.HeaderCount, Is.EqualTo(3));
            Assert.That(_head.Headers[0].Name(b), Is.EqualTo("Host"));
            Assert.That(_head.Headers[0].Value(b), Is.EqualTo("example.com"));
            Assert.That(_head.Headers[0].Kind, Is.EqualTo(HeaderKind.Host));
            Assert.That(_head.Headers[1].Name(b), Is.EqualTo("User-Agent"));
            Assert.That(_head.Headers[1].Value(b), Is.EqualTo("curl/8.5.0"));
            Assert.That(_head.Headers[1].Kind, Is.EqualTo(HeaderKind.Other));
            Assert.That(_head.Headers[2].Value(b), Is.EqualTo("*/*"));
            Assert.That(_head.HeadLength, Is.EqualTo(b.Length));
            Assert.That(_head.Host.Text(b), Is.EqualTo("example.com"));
            Assert.That(_head.HasHost, Is.True);
            Assert.That(_head.ContentLength, Is.EqualTo(-1));
            Assert.That(_head.Chunked, Is.False);
            Assert.That(_head.HasBody, Is.False);
            Assert.That(_head.KeepAlive, Is.True);
            Assert.That(_head.ErrorStatus, Is.EqualTo(0));
        });
    }

    [Test]
    public void BrowserRequest()
    {
        var b = ParseOk(Browser);
        Assert.Multiple(() =>
        {
            Assert.That(_head.HeaderCount, Is.EqualTo(16));
            Assert.That(_head.Path.Text(b), Is.EqualTo("/app/dashboard"));
            Assert.That(_head.HasQuery, Is.False);
            Assert.That(_head.Host.Text(b), Is.EqualTo("www.example.org:8443"));
            Assert.That(_head.ConnectionKeepAlive, Is.True);
            Assert.That(_head.ConnectionNamesOthers, Is.False);
            Assert.That(_head.ConnectionValue.Text(b), Is.EqualTo("keep-alive"));
            Assert.That(_head.Headers[1].Kind, Is.EqualTo(HeaderKind.Connection));
            Assert.That(_head.Headers[15].Name(b), Is.EqualTo("Cookie"));
            Assert.That(_head.Headers[15].Value(b), Does.StartWith("session=0123").And.EndWith("LXZhbHVl"));
            Assert.That(_head.Headers[3].Value(b), Is.EqualTo("?0"));
            Assert.That(_head.HeadLength, Is.EqualTo(b.Length));
        });
    }

    [Test]
    public void PostWithBody()
    {
        var b = ParseOk("POST /api/items HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 13\r\nExpect: 100-Continue\r\n\r\n{\"a\":\"bcdef\"}");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Method, Is.EqualTo(HttpMethod.Post));
            Assert.That(_head.ContentLength, Is.EqualTo(13));
            Assert.That(_head.HasBody, Is.True);
            Assert.That(_head.ExpectContinue, Is.True);
            Assert.That(_head.Headers[2].Kind, Is.EqualTo(HeaderKind.ContentLength));
            Assert.That(_head.Headers[3].Kind, Is.EqualTo(HeaderKind.Expect));
            Assert.That(b.Length - _head.HeadLength, Is.EqualTo(13));
        });
    }

    [Test]
    public void ChunkedRequest()
    {
        ParseOk("PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Chunked, Is.True);
            Assert.That(_head.ContentLength, Is.EqualTo(-1));
            Assert.That(_head.HasBody, Is.True);
            Assert.That(_head.Headers[1].Kind, Is.EqualTo(HeaderKind.TransferEncoding));
        });
    }

    /// <summary>Chunked last, other codings before it: framed, but forwarding it as plain chunked would lose
    /// them. 501, as nginx (any coding, known or not).</summary>
    [TestCase("Transfer-Encoding: gzip, chunked\r\n")]
    [TestCase("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")]
    [TestCase("Transfer-Encoding: x-unknown, chunked\r\n")]
    [TestCase("Transfer-Encoding: identity, chunked\r\n")]
    public void ChunkedAfterAnotherCoding_Is501(string header)
    {
        var b = System.Text.Encoding.ASCII.GetBytes($"PUT /u HTTP/1.1\r\nHost: h\r\n{header}\r\n");
        Assert.That(RequestParser.Parse(b, _head), Is.EqualTo(ParseResult.Error));
        Assert.That(_head.ErrorStatus, Is.EqualTo(501));
    }

    [Test]
    public void OwsIsTrimmedFromValues()
    {
        var b = ParseOk("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t v a l \t \r\nX-Empty:\r\nX-Blank:   \r\nX-Obs: caf\xe9\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Headers[0].Value(b), Is.EqualTo("h"));
            Assert.That(_head.Headers[1].Value(b), Is.EqualTo("v a l"));
            Assert.That(_head.Headers[2].Value(b), Is.EqualTo(""));
            Assert.That(_head.Headers[3].Value(b), Is.EqualTo(""));
            Assert.That(_head.Headers[4].Value(b), Is.EqualTo("caf\xe9"));
        });
    }

    [TestCase("host", HeaderKind.Host)]
    [TestCase("CONNECTION", HeaderKind.Connection)]
    [TestCase("Keep-Alive", HeaderKind.KeepAlive)]
    [TestCase("proxy-connection", HeaderKind.ProxyConnection)]
    [TestCase("Transfer-encoding", HeaderKind.TransferEncoding)]
    [TestCase("content-LENGTH", HeaderKind.ContentLength)]
    [TestCase("TE", HeaderKind.Te)]
    [TestCase("Trailer", HeaderKind.Trailer)]
    [TestCase("upgrade", HeaderKind.Upgrade)]
    [TestCase("Expect", HeaderKind.Expect)]
    [TestCase("date", HeaderKind.Date)]
    [TestCase("SERVER", HeaderKind.Server)]
    [TestCase("x-forwarded-for", HeaderKind.XForwardedFor)]
    [TestCase("X-Forwarded-Host", HeaderKind.Other)]
    [TestCase("Hosts", HeaderKind.Other)]
    [TestCase("Te_", HeaderKind.Underscored)]
    [TestCase("X_Foo", HeaderKind.Underscored)]
    [TestCase("_", HeaderKind.Underscored)]
    [TestCase("X_Forwarded_For", HeaderKind.Underscored)]
    [TestCase("Accept_Encoding_With_A_Name_Longer_Than_Any_Known", HeaderKind.Underscored)]
    public void HeaderKindsAreCaseInsensitive(string name, HeaderKind kind)
    {
        string value = kind switch
        {
            HeaderKind.ContentLength => "0",
            HeaderKind.TransferEncoding => "chunked",
            _ => "x",
        };
        string host = kind == HeaderKind.Host ? "" : "Host: h\r\n";
        ParseOk($"POST / HTTP/1.1\r\n{host}{name}: {value}\r\n\r\n");
        int i = kind == HeaderKind.Host ? 0 : 1;
        Assert.That(_head.Headers[i].Kind, Is.EqualTo(kind));
    }

    [TestCase("GET", HttpMethod.Get)]
    [TestCase("HEAD", HttpMethod.Head)]
    [TestCase("POST", HttpMethod.Post)]
    [TestCase("PUT", HttpMethod.Put)]
    [TestCase("DELETE", HttpMethod.Delete)]
    [TestCase("OPTIONS", HttpMethod.Options)]
    [TestCase("PATCH", HttpMethod.Patch)]
    [TestCase("TRACE", HttpMethod.Trace)]
    [TestCase("get", HttpMethod.Unknown)]
    [TestCase("PROPFIND", HttpMethod.Unknown)]
    [TestCase("M-SEARCH", HttpMethod.Unknown)]
    public void Methods(string method, HttpMethod expected)
    {
        var b = ParseOk($"{method} /x HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(_head.Method, Is.EqualTo(expected));
        Assert.That(_head.MethodToken.Text(b), Is.EqualTo(method));
    }

    [Test]
    public void Http10WithoutHost()
    {
        ParseOk("GET / HTTP/1.0\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.VersionMinor, Is.EqualTo(0));
            Assert.That(_head.HasHost, Is.False);
            Assert.That(_head.HeaderCount, Is.EqualTo(0));
            Assert.That(_head.KeepAlive, Is.False);
        });
        ParseOk("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        Assert.That(_head.KeepAlive, Is.True);
    }

    [Test]
    public void ExpectIsIgnoredInHttp10AndForOtherExpectations()
    {
        ParseOk("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
        Assert.That(_head.ExpectContinue, Is.False);
        ParseOk("POST / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n");
        Assert.That(_head.ExpectContinue, Is.False);
    }

    [Test]
    public void EmptyQueryIsToldFromNone()
    {
        var b = ParseOk("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Path.Text(b), Is.EqualTo("/p"));
            Assert.That(_head.HasQuery, Is.True);
            Assert.That(_head.Query.IsEmpty, Is.True);
        });
        b = ParseOk("GET /p?a?b=/c HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(_head.Query.Text(b), Is.EqualTo("a?b=/c"));
    }

    [Test]
    public void AbsoluteFormOverridesHost()
    {
        var b = ParseOk("GET http://Backend.example:8080/a/b?c=d HTTP/1.1\r\nHost: other.example\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Target.Text(b), Is.EqualTo("http://Backend.example:8080/a/b?c=d"));
            Assert.That(_head.Host.Text(b), Is.EqualTo("Backend.example:8080"));
            Assert.That(_head.HasHost, Is.True);
            Assert.That(_head.Path.Text(b), Is.EqualTo("/a/b"));
            Assert.That(_head.Query.Text(b), Is.EqualTo("c=d"));
            Assert.That(_head.Headers[0].Value(b), Is.EqualTo("other.example"));
        });
        b = ParseOk("GET HTTPS://h2 HTTP/1.0\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Host.Text(b), Is.EqualTo("h2"));
            Assert.That(_head.HasHost, Is.True);
            Assert.That(_head.Path.IsEmpty, Is.True);
            Assert.That(_head.HasQuery, Is.False);
        });
        b = ParseOk("GET http://[::1]:81?q HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Host.Text(b), Is.EqualTo("[::1]:81"));
            Assert.That(_head.Path.IsEmpty, Is.True);
            Assert.That(_head.Query.Text(b), Is.EqualTo("q"));
        });
    }

    /// <summary>"OPTIONS *" is marked so the connection answers it itself; no other request is.</summary>
    [Test]
    public void AsteriskFormOptions_IsMarked()
    {
        var b = ParseOk("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Method, Is.EqualTo(HttpMethod.Options));
            Assert.That(_head.IsAsteriskOptions, Is.True);
            Assert.That(_head.Target.Text(b), Is.EqualTo("*"));
            Assert.That(_head.Path.Text(b), Is.EqualTo("*"));
        });
        ParseOk("OPTIONS * HTTP/1.0\r\n\r\n");
        Assert.That(_head.IsAsteriskOptions, Is.True, "HTTP/1.0, no Host");
        ParseOk("OPTIONS /x HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(_head.IsAsteriskOptions, Is.False, "OPTIONS on a resource is forwarded");
        ParseOk("OPTIONS http://h/* HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(_head.IsAsteriskOptions, Is.False, "an absolute-form target is a resource");
        ParseOk("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
        ParseOk("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(_head.IsAsteriskOptions, Is.False, "reset for the next request");
        AssertError("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
        AssertError("OPTIONS ** HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    }

    /// <summary>A proxy that tunnels nothing refuses CONNECT with 405, whatever its target (nginx 1.22:
    /// 405 for origin- and absolute-form, 400 for the authority-form its request-line parser rejects).</summary>
    [TestCase("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")]
    [TestCase("CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [TestCase("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n")]
    [TestCase("CONNECT http://h/ HTTP/1.1\r\nHost: h\r\n\r\n")]
    [TestCase("CONNECT * HTTP/1.1\r\nHost: h\r\n\r\n")]
    [TestCase("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n")]
    [TestCase("CONNECT example.com:x HTTP/1.1\r\nHost: h\r\n\r\n")]
    [TestCase("CONNECT a/b:80 HTTP/1.1\r\nHost: h\r\n\r\n")]
    [TestCase("CONNECT caf\xe9:443 HTTP/1.1\r\nHost: h\r\n\r\n")]
    [TestCase("CONNECT h:443 HTTP/1.0\r\n\r\n")]
    [TestCase("CONNECT h:443 HTTP/1.1\r\n\r\n", TestName = "Connect_WithoutHost_Is405")]
    public void Connect_Is405(string text) => AssertError(text, 405);

    /// <summary>Judged when the request line ends, before the head does: the same verdict whole or split.</summary>
    [Test]
    public void Connect_Is405_AsSoonAsTheRequestLineEnds()
    {
        Assert.That(Parse(Bytes("CONNECT h:443 HTTP/1.1")), Is.EqualTo(ParseResult.Incomplete));
        AssertError("CONNECT h:443 HTTP/1.1\r\n", 405);
        AssertError("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n", 405);
        AssertError("CONNECT h:443 HTTP/2.0\r\n", 505);
        AssertError("CONNECT h:443 HTTP/1.1x\r\n", 400);
    }

    [Test]
    public void ConnectionTokensSetFlags()
    {
        var b = ParseOk("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, X-Foo\r\nUpgrade: websocket\r\nConnection: CLOSE\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.ConnectionUpgrade, Is.True);
            Assert.That(_head.ConnectionClose, Is.True);
            Assert.That(_head.ConnectionKeepAlive, Is.False);
            Assert.That(_head.ConnectionNamesOthers, Is.True, "stays set across Connection lines");
            Assert.That(_head.ConnectionValue.Text(b), Is.EqualTo("CLOSE"), "the last Connection line");
            Assert.That(_head.KeepAlive, Is.False);
        });
        ParseOk("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive , ,close\r\n\r\n");
        Assert.That(_head.ConnectionNamesOthers, Is.False);
        Assert.That(_head.ConnectionClose && _head.ConnectionKeepAlive, Is.True);
    }

    [Test]
    public void LeadingEmptyLinesAreSkipped()
    {
        var b = ParseOk("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.MethodToken.Start, Is.EqualTo(4));
            Assert.That(_head.Target.Text(b), Is.EqualTo("/"));
            Assert.That(_head.HeadLength, Is.EqualTo(b.Length));
        });
        ParseOk(string.Concat(Enumerable.Repeat("\r\n", RequestParser.MaxLeadingEmptyLines)) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        AssertError(string.Concat(Enumerable.Repeat("\r\n", RequestParser.MaxLeadingEmptyLines + 1)) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    }

    [Test]
    public void PipelinedHeadsStopAtTheFirst()
    {
        string first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
        string second = "GET /two HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
        var b = ParseOk(first + second + "GET /thr");
        Assert.Multiple(() =>
        {
            Assert.That(_head.HeadLength, Is.EqualTo(first.Length));
            Assert.That(_head.Path.Text(b), Is.EqualTo("/one"));
            Assert.That(_head.HeaderCount, Is.EqualTo(1));
            Assert.That(_head.ConnectionClose, Is.False);
        });
        var rest = b[_head.HeadLength..];
        Assert.That(RequestParser.Parse(rest, _head), Is.EqualTo(ParseResult.Complete));
        Assert.Multiple(() =>
        {
            Assert.That(_head.HeadLength, Is.EqualTo(second.Length));
            Assert.That(_head.Path.Text(rest), Is.EqualTo("/two"));
            Assert.That(_head.ConnectionClose, Is.True);
        });
        Assert.That(RequestParser.Parse(rest.AsSpan(_head.HeadLength), _head), Is.EqualTo(ParseResult.Incomplete));
    }

    [TestCase(Curl)]
    [TestCase(Browser)]
    [TestCase("\r\nPOST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")]
    [TestCase("GET / HTTP/1.0\r\n\r\n")]
    public void EveryStrictPrefixIsIncomplete(string text)
    {
        var b = Bytes(text);
        for (int n = 0; n < b.Length; n++)
        {
            var r = RequestParser.Parse(b.AsSpan(0, n), _head);
            Assert.That(r, Is.EqualTo(ParseResult.Incomplete), () => $"prefix of {n} bytes, status {_head.ErrorStatus}");
        }
        Assert.That(RequestParser.Parse(b, _head), Is.EqualTo(ParseResult.Complete));
        Assert.That(_head.HeadLength, Is.EqualTo(b.Length));
    }

    // Request line
    [TestCase("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400)]
    [TestCase(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET /a\0 HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET /\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET\r\n\r\n", 400)]
    [TestCase("GET / http/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/2\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505)]
    [TestCase("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505)]
    [TestCase("GET / HTTP/0.0\r\nHost: h\r\n\r\n", 505)]
    [TestCase("GET / HTTP/9.1\r\nHost: h\r\n\r\n", 505)]
    [TestCase("GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505)]
    [TestCase("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505)]
    // Target forms
    [TestCase("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    [TestCase("GET http://h\\x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400)]
    // Field lines
    [TestCase("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nNo-Colon\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nBad[Name]: v\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n folded\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tfolded\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u0001b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u007Fb\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\nX-B: b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\nHost: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\n\n", 400)]
    [TestCase("GET / HTTP/1.1\n\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", 400)]
    // Host
    [TestCase("GET / HTTP/1.1\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nX-Host: h\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n", 400)]
    [TestCase("GET http://h/ HTTP/1.1\r\n\r\n", 400)]
    // Content-Length
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456789\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400)]
    // Transfer-Encoding: chunked not the final coding (RFC 9112 6.3) is 400; see also ChunkedAfterAnotherCoding_Is501
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked, gzip\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", 400)]
    // Connection
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nConnection: close;x\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nConnection: \"close\"\r\n\r\n", 400)]
    public void Rejects(string text, int status) => AssertError(text, status);

    [Test]
    public void TooManyHeadersIs431()
    {
        string fields = string.Concat(Enumerable.Range(0, RequestHead.MaxHeaders - 1).Select(i => $"X-H{i}: {i}\r\n"));
        ParseOk("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n");
        Assert.That(_head.HeaderCount, Is.EqualTo(RequestHead.MaxHeaders));
        AssertError("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "X-Last: 1\r\n\r\n", 431);
    }

    [Test]
    public void LargestContentLength()
    {
        ParseOk("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999999999999\r\n\r\n");
        Assert.That(_head.ContentLength, Is.EqualTo(999_999_999_999_999_999L));
        ParseOk("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 000\r\n\r\n");
        Assert.That(_head.ContentLength, Is.EqualTo(0));
        Assert.That(_head.HasBody, Is.False);
    }

    // --- Host and absolute-form authority: uri-host [":" port], host never empty, port 1 to 5 digits ---

    [TestCase("h")]
    [TestCase("h:1")]
    [TestCase("h:80")]
    [TestCase("h:65535")]
    [TestCase("h:99999")]
    [TestCase("h:00080")]
    [TestCase("Example.COM.")]
    [TestCase("127.0.0.1:8080")]
    [TestCase("[::1]")]
    [TestCase("[::1]:8080")]
    [TestCase("[fe80::1%25eth0]:80")]
    [TestCase("[v1.x]")]
    [TestCase("xn--caf-dma.example")]
    [TestCase("h%41")]
    [TestCase("a-b_c~d!$&'()*+,;=")]
    public void Host_Accepted(string host)
    {
        var b = ParseOk($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        Assert.That(_head.Host.Text(b), Is.EqualTo(host));
        b = ParseOk($"GET http://{host}/p HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(_head.Host.Text(b), Is.EqualTo(host), "absolute-form authority");
    }

    [TestCase("", TestName = "Host_Empty_Is400")]
    [TestCase(":80", TestName = "Host_EmptyHostWithPort_Is400")]
    [TestCase("h:", TestName = "Host_EmptyPort_Is400")]
    [TestCase("h:123456", TestName = "Host_SixDigitPort_Is400")]
    [TestCase("h:8o", TestName = "Host_PortNotDigits_Is400")]
    [TestCase("h:-1", TestName = "Host_NegativePort_Is400")]
    [TestCase("h:+80", TestName = "Host_SignedPort_Is400")]
    [TestCase("h:80:81", TestName = "Host_TwoPorts_Is400")]
    [TestCase("h: 80", TestName = "Host_SpaceBeforePort_Is400")]
    [TestCase("[::1", TestName = "Host_UnclosedIpLiteral_Is400")]
    [TestCase("[]", TestName = "Host_EmptyIpLiteral_Is400")]
    [TestCase("[::1]x", TestName = "Host_JunkAfterIpLiteral_Is400")]
    [TestCase("[::1]:", TestName = "Host_IpLiteralEmptyPort_Is400")]
    [TestCase("[::1]:1234567", TestName = "Host_IpLiteralLongPort_Is400")]
    [TestCase("[::[1]]", TestName = "Host_NestedBrackets_Is400")]
    [TestCase("a[b]", TestName = "Host_BracketsInARegName_Is400")]
    [TestCase("h%zz", TestName = "Host_MalformedPercentEncoding_Is400")]
    [TestCase("h%4", TestName = "Host_TruncatedPercentEncoding_Is400")]
    [TestCase("h%", TestName = "Host_LonePercent_Is400")]
    [TestCase("caf\xe9", TestName = "Host_NonAscii_Is400")]
    public void Host_Refused(string host)
    {
        AssertError($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", 400);
        AssertError($"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n", 400);
        if (host.Length > 0) AssertError($"GET http://{host}/p HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    }

    [Test]
    public void Host_AbsoluteFormWithoutAuthority_Is400()
    {
        AssertError("GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", 400);
        AssertError("GET http://?q HTTP/1.1\r\nHost: h\r\n\r\n", 400);
        AssertError("GET http://:80/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    }

    // --- Request-target bytes (RFC 3986 via RFC 9112 3.2) ---

    [TestCase("/")]
    [TestCase("/a-b._~!$&'()*+,;=:@/c")]
    [TestCase("/%41%2f%2F?q=%00%ff")]
    [TestCase("/p?a=1&b=/c?d:@!$'()*+,;=")]
    [TestCase("/p?")]
    [TestCase("/?%7Bx%7D")]
    [TestCase("http://h:8080/a%20b?c=d")]
    [TestCase("http://[::1]:81/p?q")]
    public void Target_Accepted(string target)
    {
        var b = ParseOk($"GET {target} HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.That(_head.Target.Text(b), Is.EqualTo(target));
    }

    [TestCase("/caf\u00e9", TestName = "Target_ByteAbove7F_Is400")]
    [TestCase("/\u0080", TestName = "Target_Byte80_Is400")]
    [TestCase("/?q=\u00ff", TestName = "Target_ByteFFInTheQuery_Is400")]
    [TestCase("/a\"b", TestName = "Target_DoubleQuote_Is400")]
    [TestCase("/a<b", TestName = "Target_LessThan_Is400")]
    [TestCase("/a>b", TestName = "Target_GreaterThan_Is400")]
    [TestCase("/a\\b", TestName = "Target_Backslash_Is400")]
    [TestCase("/a^b", TestName = "Target_Caret_Is400")]
    [TestCase("/a`b", TestName = "Target_Backtick_Is400")]
    [TestCase("/a{b", TestName = "Target_OpenBrace_Is400")]
    [TestCase("/a|b", TestName = "Target_Pipe_Is400")]
    [TestCase("/a}b", TestName = "Target_CloseBrace_Is400")]
    [TestCase("/a[b]", TestName = "Target_BracketsInThePath_Is400")]
    [TestCase("/?a[]=1", TestName = "Target_BracketsInTheQuery_Is400")]
    [TestCase("/a#b", TestName = "Target_Fragment_Is400")]
    [TestCase("/?q#", TestName = "Target_EmptyFragment_Is400")]
    [TestCase("/%zz", TestName = "Target_MalformedPercentEncoding_Is400")]
    [TestCase("/%4", TestName = "Target_TruncatedPercentEncoding_Is400")]
    [TestCase("/%", TestName = "Target_LonePercent_Is400")]
    [TestCase("/?q=100%", TestName = "Target_LonePercentInTheQuery_Is400")]
    [TestCase("/?a=%zz", TestName = "Target_MalformedPercentEncodingInTheQuery_Is400")]
    [TestCase("/%%41", TestName = "Target_DoublePercent_Is400")]
    [TestCase("http://h/caf\u00e9", TestName = "Target_AbsoluteFormNonAsciiPath_Is400")]
    [TestCase("http://h/a|b", TestName = "Target_AbsoluteFormPipe_Is400")]
    [TestCase("http://h/[x]", TestName = "Target_AbsoluteFormBracketsInThePath_Is400")]
    [TestCase("http://h/%zz", TestName = "Target_AbsoluteFormMalformedPercentEncoding_Is400")]
    [TestCase("http://h#f", TestName = "Target_AbsoluteFormFragment_Is400")]
    public void Target_Refused(string target) => AssertError($"GET {target} HTTP/1.1\r\nHost: h\r\n\r\n", 400);

    /// <summary>Every byte value, alone in a path: exactly RFC 3986's pchar / "/" / "?" set is accepted
    /// ('%' only as a triplet, tested above). SP and CTLs end or break the request line: 400 either way.</summary>
    [Test]
    public void Target_EveryByteValue()
    {
        const string allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?";
        for (int v = 0; v < 256; v++)
        {
            if (v == '%') continue;
            var b = Bytes("GET /a" + (char)v + "b HTTP/1.1\r\nHost: h\r\n\r\n");
            var result = RequestParser.Parse(b, _head);
            if (allowed.Contains((char)v))
                Assert.That(result, Is.EqualTo(ParseResult.Complete), $"byte 0x{v:X2}");
            else
                Assert.That((result, _head.ErrorStatus), Is.EqualTo((ParseResult.Error, 400)), $"byte 0x{v:X2}");
        }
    }

    // --- Versions: HTTP/1.x above 1.1 is served as HTTP/1.1 (RFC 9110 2.5) ---

    [TestCase("HTTP/1.2")]
    [TestCase("HTTP/1.9")]
    public void HigherMinorVersion_IsServedAsHttp11(string version)
    {
        var b = ParseOk($"GET /p HTTP/1.1\r\nHost: h\r\n\r\n".Replace("HTTP/1.1", version));
        Assert.Multiple(() =>
        {
            Assert.That(_head.VersionMinor, Is.EqualTo(1));
            Assert.That(_head.KeepAlive, Is.True, "persistent by default, as HTTP/1.1");
            Assert.That(_head.Path.Text(b), Is.EqualTo("/p"));
        });
        AssertError($"GET /p {version}\r\n\r\n", 400);   // an HTTP/1.1 request without Host
        ParseOk($"POST /p {version}\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        Assert.That(_head.Chunked, Is.True, "chunked framing, as HTTP/1.1");
    }

    // --- Methods: more than 32 bytes is 501 (RFC 9112 3) ---

    [Test]
    public void Method_UpTo32Bytes_IsForwarded_33IsNotImplemented()
    {
        string longest = new('M', RequestParser.MaxMethodLength);
        var b = ParseOk($"{longest} / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Method, Is.EqualTo(HttpMethod.Unknown));
            Assert.That(_head.MethodToken.Text(b), Is.EqualTo(longest));
        });
        AssertError($"{longest}M / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
        AssertError($"{new string('M', 5000)} / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
        AssertError($"{longest}M\r\n\r\n", 501);
        AssertError($"{longest}M(x) / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    }

    /// <summary>Decided once 33 token bytes have come, without waiting for a SP or the end of the line.</summary>
    [Test]
    public void Method_TooLong_IsJudgedBeforeTheLineEnds()
    {
        string longest = new('M', RequestParser.MaxMethodLength);
        Assert.That(Parse(Bytes(longest)), Is.EqualTo(ParseResult.Incomplete));
        AssertError(longest + "M", 501);
        AssertError("\r\n" + longest + "-", 501);
        Assert.That(Parse(Bytes(longest + " /aaaa")), Is.EqualTo(ParseResult.Incomplete));
        Assert.That(RequestParser.OversizeStatus(Bytes(longest + " /" + new string('a', 100))), Is.EqualTo(414));
    }

    // --- Field names with '_' (valid tokens; nginx's underscores_in_headers) ---

    [Test]
    public void Underscores_AreClassifiedOnce()
    {
        var b = ParseOk("GET / HTTP/1.1\r\nHost: h\r\nX_Foo: 1\r\nX-Foo: 2\r\nx_forwarded_for: 3\r\nX-Forwarded-For: 4\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Headers[1].Kind, Is.EqualTo(HeaderKind.Underscored));
            Assert.That(_head.Headers[1].Name(b), Is.EqualTo("X_Foo"));
            Assert.That(_head.Headers[1].Value(b), Is.EqualTo("1"));
            Assert.That(_head.Headers[2].Kind, Is.EqualTo(HeaderKind.Other));
            Assert.That(_head.Headers[3].Kind, Is.EqualTo(HeaderKind.Underscored), "not the X-Forwarded-For that $proxy_add_x_forwarded_for extends");
            Assert.That(_head.Headers[4].Kind, Is.EqualTo(HeaderKind.XForwardedFor));
        });
    }

    /// <summary>Read with '_' as '-' these are framing, hop-by-hop, Host or Expect to an upstream that
    /// folds underscores (CGI, WSGI, PHP): refused whatever underscores_in_headers says.</summary>
    [TestCase("Transfer_Encoding: chunked")]
    [TestCase("transfer_encoding: chunked")]
    [TestCase("Transfer_encoding: gzip")]
    [TestCase("Content_Length: 5")]
    [TestCase("CONTENT_LENGTH: 0")]
    [TestCase("Keep_Alive: timeout=5")]
    [TestCase("Proxy_Connection: close")]
    public void Underscores_FramingOrHopByHopLookalike_Is400(string field) =>
        AssertError($"POST / HTTP/1.1\r\nHost: h\r\n{field}\r\n\r\n", 400);

    [TestCase("Transfer-Encoding_")]
    [TestCase("Content__Length")]
    [TestCase("Proxy-Connection_x")]
    [TestCase("_Host")]
    public void Underscores_OtherLookalikes_AreJustUnderscored(string name)
    {
        ParseOk($"POST / HTTP/1.1\r\nHost: h\r\n{name}: 1\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Headers[1].Kind, Is.EqualTo(HeaderKind.Underscored));
            Assert.That(_head.Chunked, Is.False);
            Assert.That(_head.ContentLength, Is.EqualTo(-1));
        });
    }

    [Test]
    public void BareLfIsAnErrorBeforeTheHeadCompletes()
    {
        // A lenient client ends its lines with LF only: refuse at once, not when the buffer fills.
        AssertError("GET / HTTP/1.1\nHost: h\n", 400);
        AssertError("GET / HTTP/1.1\r\nHost: h\rX", 400);
        Assert.That(Parse(Bytes("GET / HTTP/1.1\r\nHost: h\r")), Is.EqualTo(ParseResult.Incomplete));
    }

    [Test]
    public void ResetBetweenRequests()
    {
        ParseOk("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close, x\r\nExpect: 100-continue\r\n\r\n");
        ParseOk("GET / HTTP/1.0\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Chunked || _head.ConnectionClose || _head.ConnectionNamesOthers || _head.ExpectContinue || _head.HasHost, Is.False);
            Assert.That(_head.ContentLength, Is.EqualTo(-1));
            Assert.That(_head.HeaderCount, Is.EqualTo(0));
        });
    }

    [Test]
    public void OversizeStatus()
    {
        Assert.Multiple(() =>
        {
            Assert.That(RequestParser.OversizeStatus(Bytes("GET /" + new string('a', 5000))), Is.EqualTo(414));
            Assert.That(RequestParser.OversizeStatus(Bytes("\r\n\r\nGET /aaaa")), Is.EqualTo(414));
            Assert.That(RequestParser.OversizeStatus(Bytes("GET /a HTTP/1.1\r")), Is.EqualTo(414));
            Assert.That(RequestParser.OversizeStatus(Bytes("GET /a HTTP/1.1\r\nCookie: " + new string('c', 5000))), Is.EqualTo(431));
            Assert.That(RequestParser.OversizeStatus(Bytes("\r\nGET /a HTTP/1.1\r\nX: y\r\n")), Is.EqualTo(431));
        });
    }
}
