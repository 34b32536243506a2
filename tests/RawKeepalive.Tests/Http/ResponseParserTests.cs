using NUnit.Framework;
using RawKeepalive.Tests.Support;
using RawKeepalive.Http;
using static RawKeepalive.Tests.Http.HttpText;

namespace RawKeepalive.Tests.Http;

[TestFixture, CancelAfter(60_000)]
public class ResponseParserTests
{
    private readonly ResponseHead _head = new();

    private byte[] ParseOk(string text)
    {
        var b = Bytes(text);
        Assert.That(ResponseParser.Parse(b, _head), Is.EqualTo(ParseResult.Complete), text);
        return b;
    }

    [Test]
    public void TypicalResponse()
    {
        var b = ParseOk(Response + "body");
        Assert.Multiple(() =>
        {
            Assert.That(_head.VersionMinor, Is.EqualTo(1));
            Assert.That(_head.Status, Is.EqualTo(200));
            Assert.That(_head.Reason.Text(b), Is.EqualTo("OK"));
            Assert.That(_head.HeaderCount, Is.EqualTo(6));
            Assert.That(_head.Headers[0].Kind, Is.EqualTo(HeaderKind.Server));
            Assert.That(_head.Headers[0].Value(b), Is.EqualTo("nginx/1.29.7"));
            Assert.That(_head.Headers[1].Kind, Is.EqualTo(HeaderKind.Date));
            Assert.That(_head.Headers[2].Name(b), Is.EqualTo("Content-Type"));
            Assert.That(_head.Headers[3].Kind, Is.EqualTo(HeaderKind.ContentLength));
            Assert.That(_head.ContentLength, Is.EqualTo(1234));
            Assert.That(_head.Chunked, Is.False);
            Assert.That(_head.ConnectionKeepAlive, Is.True);
            Assert.That(_head.ConnectionValue.Text(b), Is.EqualTo("keep-alive"));
            Assert.That(_head.HeadLength, Is.EqualTo(Response.Length));
        });
    }

    [TestCase("HTTP/1.1 200\r\n\r\n", 200, "")]
    [TestCase("HTTP/1.1 200 \r\n\r\n", 200, "")]
    [TestCase("HTTP/1.0 404 Not Found\r\n\r\n", 404, "Not Found")]
    [TestCase("HTTP/1.1 599 Whatever  it\tsays\r\n\r\n", 599, "Whatever  it\tsays")]
    [TestCase("HTTP/1.1 100 Continue\r\n\r\n", 100, "Continue")]
    [TestCase("HTTP/1.1 204 No Content\r\n\r\n", 204, "No Content")]
    [TestCase("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 304, "Not Modified")]
    [TestCase("HTTP/1.1 200 caf\xe9\r\n\r\n", 200, "caf\xe9")]
    public void StatusLines(string text, int status, string reason)
    {
        var b = ParseOk(text);
        Assert.Multiple(() =>
        {
            Assert.That(_head.Status, Is.EqualTo(status));
            Assert.That(_head.Reason.Text(b), Is.EqualTo(reason));
            Assert.That(_head.HeadLength, Is.EqualTo(b.Length));
            Assert.That(_head.ContentLength, Is.EqualTo(-1));
        });
    }

    [Test]
    public void SwitchingProtocols()
    {
        ParseOk("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
        Assert.That(_head.ConnectionUpgrade, Is.True);
        Assert.That(_head.Headers[0].Kind, Is.EqualTo(HeaderKind.Upgrade));
    }

    [Test]
    public void InterimThenFinalInOneBuffer()
    {
        string interim = "HTTP/1.1 100 Continue\r\n\r\n";
        var b = ParseOk(interim + Response);
        Assert.That(_head.HeadLength, Is.EqualTo(interim.Length));
        Assert.That(ResponseParser.Parse(b.AsSpan(_head.HeadLength), _head), Is.EqualTo(ParseResult.Complete));
        Assert.That(_head.Status, Is.EqualTo(200));
    }

    [TestCase("Transfer-Encoding: chunked")]
    [TestCase("Transfer-Encoding: Chunked")]
    [TestCase("transfer-encoding:CHUNKED  ")]
    public void ChunkedAlone(string line)
    {
        ParseOk($"HTTP/1.1 200 OK\r\n{line}\r\n\r\n");
        Assert.That(_head.Chunked, Is.True);
        Assert.That(_head.ContentLength, Is.EqualTo(-1));
        Assert.That(_head.Error, Is.EqualTo(ResponseError.None));
    }

    // Each refused head with the error kind, the offending field's index (and the earlier field's, for
    // a duplicate) and the message: nginx 1.23 and later (ngx_http_upstream.c, the Content-Length and
    // Transfer-Encoding handlers) answers 502 to all of these; 1.22 dropped Content-Length and forwarded.
    [TestCase("Content-Length: 10\r\nTransfer-Encoding: chunked", ResponseError.LengthAndEncoding, 1, -1,
        "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time")]
    [TestCase("Transfer-Encoding: chunked\r\nX-A: 1\r\nContent-Length: 10", ResponseError.LengthAndEncoding, 2, -1,
        "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time")]
    [TestCase("Content-Length: 5\r\nContent-Length: 5", ResponseError.DuplicateHeader, 1, 0,
        "upstream sent duplicate header line: \"Content-Length: 5\", previous value: \"Content-Length: 5\"")]
    [TestCase("content-length: 1\r\nX-A: 1\r\nContent-Length:  2 ", ResponseError.DuplicateHeader, 2, 0,
        "upstream sent duplicate header line: \"Content-Length: 2\", previous value: \"content-length: 1\"")]
    [TestCase("Content-Length: abc", ResponseError.InvalidContentLength, 0, -1,
        "upstream sent invalid \"Content-Length\" header: \"Content-Length: abc\"")]
    [TestCase("Content-Length: 42, 42", ResponseError.InvalidContentLength, 0, -1,
        "upstream sent invalid \"Content-Length\" header: \"Content-Length: 42, 42\"")]
    [TestCase("Content-Length:", ResponseError.InvalidContentLength, 0, -1,
        "upstream sent invalid \"Content-Length\" header: \"Content-Length: \"")]
    [TestCase("Content-Length: -1", ResponseError.InvalidContentLength, 0, -1,
        "upstream sent invalid \"Content-Length\" header: \"Content-Length: -1\"")]
    [TestCase("Content-Length: 1234567890123456789", ResponseError.InvalidContentLength, 0, -1,
        "upstream sent invalid \"Content-Length\" header: \"Content-Length: 1234567890123456789\"")]
    [TestCase("Transfer-Encoding: gzip", ResponseError.UnknownEncoding, 0, -1,
        "upstream sent unknown \"Transfer-Encoding\": \"gzip\"")]
    [TestCase("Transfer-Encoding: gzip, chunked", ResponseError.UnknownEncoding, 0, -1,
        "upstream sent unknown \"Transfer-Encoding\": \"gzip, chunked\"")]
    [TestCase("Transfer-Encoding: chunked, gzip", ResponseError.UnknownEncoding, 0, -1,
        "upstream sent unknown \"Transfer-Encoding\": \"chunked, gzip\"")]
    [TestCase("Transfer-Encoding: chunked, chunked", ResponseError.UnknownEncoding, 0, -1,
        "upstream sent unknown \"Transfer-Encoding\": \"chunked, chunked\"")]
    [TestCase("Transfer-Encoding: chunked;ext=1", ResponseError.UnknownEncoding, 0, -1,
        "upstream sent unknown \"Transfer-Encoding\": \"chunked;ext=1\"")]
    [TestCase("Transfer-Encoding: identity", ResponseError.UnknownEncoding, 0, -1,
        "upstream sent unknown \"Transfer-Encoding\": \"identity\"")]
    [TestCase("Transfer-Encoding: gzip\r\nContent-Length: 3", ResponseError.UnknownEncoding, 0, -1,
        "upstream sent unknown \"Transfer-Encoding\": \"gzip\"")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", ResponseError.DuplicateHeader, 1, 0,
        "upstream sent duplicate header line: \"Transfer-Encoding: chunked\", previous value: \"Transfer-Encoding: chunked\"")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip", ResponseError.DuplicateHeader, 1, 0,
        "upstream sent duplicate header line: \"Transfer-Encoding: gzip\", previous value: \"Transfer-Encoding: chunked\"")]
    // nginx's handler order: a duplicate is reported before a conflict with the other framing header.
    [TestCase("Content-Length: 1\r\nTransfer-Encoding: chunked", ResponseError.LengthAndEncoding, 1, -1,
        "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\nContent-Length: 1", ResponseError.DuplicateHeader, 1, 0,
        "upstream sent duplicate header line: \"Transfer-Encoding: chunked\", previous value: \"Transfer-Encoding: chunked\"")]
    [TestCase("Transfer-Encoding: chunked\r\nContent-Length: abc", ResponseError.LengthAndEncoding, 1, -1,
        "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time")]
    public void FramingConflicts_AreErrorsThatSayWhy(string fields, ResponseError error, int field, int previous, string message)
    {
        var b = Bytes($"HTTP/1.1 200 OK\r\n{fields}\r\n\r\n");
        Assert.That(ResponseParser.Parse(b, _head), Is.EqualTo(ParseResult.Error));
        Assert.Multiple(() =>
        {
            Assert.That(_head.Error, Is.EqualTo(error));
            Assert.That(_head.ErrorField, Is.EqualTo(field));
            Assert.That(_head.ErrorPrevious, Is.EqualTo(previous));
            Assert.That(_head.ErrorMessage(b), Is.EqualTo(message));
        });
    }

    [Test]
    public void ParsingAgainClearsTheError()
    {
        Assert.That(ResponseParser.Parse(Bytes("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), _head), Is.EqualTo(ParseResult.Error));
        ParseOk("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Error, Is.EqualTo(ResponseError.None));
            Assert.That(_head.ErrorField, Is.EqualTo(-1));
            Assert.That(_head.ErrorPrevious, Is.EqualTo(-1));
            Assert.That(_head.ContentLength, Is.EqualTo(3));
        });
    }

    [Test]
    public void ContentLengthWithLeadingZeros_IsAPlainDecimal()
    {
        ParseOk("HTTP/1.1 200 OK\r\nContent-Length: 042\r\n\r\n");
        Assert.That(_head.ContentLength, Is.EqualTo(42));
    }

    /// <summary>nginx 1.23+ keeps the first Expires and ignores later ones with a [warn]
    /// (ngx_http_upstream.c: "upstream sent duplicate header line: ..., ignoring").</summary>
    [Test]
    public void LaterExpiresLines_AreIgnored_TheFirstIsKept()
    {
        var b = ParseOk("HTTP/1.1 200 OK\r\nExpires: A\r\nX-A: 1\r\nexpires: B\r\nEXPIRES:  C \r\nContent-Length: 0\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.ExpiresField, Is.EqualTo(0));
            Assert.That(_head.IsIgnored(0), Is.False);
            Assert.That(_head.IsIgnored(1), Is.False);
            Assert.That(_head.IsIgnored(2), Is.True);
            Assert.That(_head.IsIgnored(3), Is.True);
            Assert.That(_head.IsIgnored(4), Is.False);
            Assert.That(_head.IgnoredMessage(b, 2),
                Is.EqualTo("upstream sent duplicate header line: \"expires: B\", previous value: \"Expires: A\", ignoring"));
            Assert.That(_head.IgnoredMessage(b, 3),
                Is.EqualTo("upstream sent duplicate header line: \"EXPIRES: C\", previous value: \"Expires: A\", ignoring"));
        });

        ParseOk("HTTP/1.1 200 OK\r\nExpires: A\r\nX-Expires: B\r\nExpire: C\r\n\r\n");
        Assert.That(_head.IgnoredFields, Is.EqualTo(UInt128.Zero), "other names, and one Expires, ignore nothing");
    }

    [Test]
    public void ExpiresAsTheLastOfMaxHeaders_IsIgnoredToo()
    {
        string fields = "Expires: A\r\n" + string.Concat(Enumerable.Range(1, ResponseHead.MaxHeaders - 2).Select(i => $"X-H{i}: {i}\r\n")) + "Expires: B\r\n";
        ParseOk("HTTP/1.1 200 OK\r\n" + fields + "\r\n");
        Assert.That(_head.HeaderCount, Is.EqualTo(ResponseHead.MaxHeaders));
        Assert.That(_head.IsIgnored(ResponseHead.MaxHeaders - 1), Is.True);
        Assert.That(_head.IsIgnored(ResponseHead.MaxHeaders - 2), Is.False);
    }

    [Test]
    public void ConnectionFlags()
    {
        var b = ParseOk("HTTP/1.0 200 OK\r\nConnection: keep-alive, X-Private\r\nConnection: close\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.VersionMinor, Is.EqualTo(0));
            Assert.That(_head.ConnectionKeepAlive && _head.ConnectionClose && _head.ConnectionNamesOthers, Is.True);
            Assert.That(_head.ConnectionValue.Text(b), Is.EqualTo("close"));
        });
    }

    [Test]
    public void EveryStrictPrefixIsIncomplete()
    {
        var b = Bytes(Response);
        for (int n = 0; n < b.Length; n++)
            Assert.That(ResponseParser.Parse(b.AsSpan(0, n), _head), Is.EqualTo(ParseResult.Incomplete), $"prefix {n}");
    }

    [TestCase("HTTP/1.2 200 OK\r\n\r\n")]
    [TestCase("HTTP/2.0 200 OK\r\n\r\n")]
    [TestCase("HTTP/2 200 OK\r\n\r\n")]
    [TestCase("http/1.1 200 OK\r\n\r\n")]
    [TestCase("HTTP/1.1  200 OK\r\n\r\n")]
    [TestCase("HTTP/1.1 20 OK\r\n\r\n")]
    [TestCase("HTTP/1.1 2000 OK\r\n\r\n")]
    [TestCase("HTTP/1.1 099 Low\r\n\r\n")]
    [TestCase("HTTP/1.1 600 High\r\n\r\n")]
    [TestCase("HTTP/1.1 abc OK\r\n\r\n")]
    [TestCase("HTTP/1.1 200 O\0K\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nX : a\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n")]
    [TestCase("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nConnection: a b\r\n\r\n")]
    [TestCase("\r\nHTTP/1.1 200 OK\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\nX: y\n\n")]
    public void Rejects(string text)
    {
        var b = Bytes(text);
        Assert.That(ResponseParser.Parse(b, _head), Is.EqualTo(ParseResult.Error));
        Assert.That(_head.Error, Is.EqualTo(ResponseError.Invalid));
        Assert.That(_head.ErrorMessage(b), Is.EqualTo("upstream sent invalid header"));
    }

    [Test]
    public void TooManyHeaders()
    {
        string fields = string.Concat(Enumerable.Range(0, ResponseHead.MaxHeaders).Select(i => $"X-H{i}: {i}\r\n"));
        ParseOk("HTTP/1.1 200 OK\r\n" + fields + "\r\n");
        Assert.That(ResponseParser.Parse(Bytes("HTTP/1.1 200 OK\r\n" + fields + "X: y\r\n\r\n"), _head), Is.EqualTo(ParseResult.Error));
        Assert.That(_head.Error, Is.EqualTo(ResponseError.TooManyHeaders));
        Assert.That(_head.ErrorMessage([]), Is.EqualTo("upstream sent too big header"));
    }

    /// <summary>The success path allocates nothing, a chunked head with an ignored Expires included.</summary>
    [Test]
    public void SuccessPathDoesNotAllocate()
    {
        var chunked = Bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nExpires: A\r\nExpires: B\r\nConnection: keep-alive\r\n\r\n");
        var length = Bytes(Response);
        long sink = 0;
        void Run(int n)
        {
            for (int i = 0; i < n; i++)
            {
                sink += (int)ResponseParser.Parse(chunked, _head) + (_head.IsIgnored(2) ? 1 : 0);
                sink += (int)ResponseParser.Parse(length, _head) + _head.ContentLength;
            }
        }
        Run(1000);
        Assert.That(Allocations.SteadyState(() => Run(10_000)), Is.EqualTo(0));
        Assert.That(sink, Is.GreaterThan(0));
    }
}
