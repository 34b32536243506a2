using NUnit.Framework;
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

    [Test]
    public void ChunkedWinsOverContentLength()
    {
        ParseOk("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Chunked, Is.True);
            Assert.That(_head.ContentLength, Is.EqualTo(-1));
            Assert.That(_head.FramingConflict, Is.True);
        });
        ParseOk("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n");
        Assert.That(_head.Chunked, Is.True);
        Assert.That(_head.FramingConflict, Is.False);
    }

    [Test]
    public void TransferEncodingWithoutFinalChunkedReadsToClose()
    {
        ParseOk("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(_head.Chunked, Is.False);
            Assert.That(_head.ContentLength, Is.EqualTo(-1));
            Assert.That(_head.FramingConflict, Is.True);
        });
    }

    [Test]
    public void EqualContentLengthsAreAccepted()
    {
        ParseOk("HTTP/1.1 200 OK\r\nContent-Length: 42\r\nContent-Length: 42\r\n\r\n");
        Assert.That(_head.ContentLength, Is.EqualTo(42));
        ParseOk("HTTP/1.1 200 OK\r\nContent-Length: 42, 042\r\n\r\n");
        Assert.That(_head.ContentLength, Is.EqualTo(42));
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
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 1,\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n")]
    [TestCase("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nConnection: a b\r\n\r\n")]
    [TestCase("\r\nHTTP/1.1 200 OK\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\nX: y\n\n")]
    public void Rejects(string text)
    {
        Assert.That(ResponseParser.Parse(Bytes(text), _head), Is.EqualTo(ParseResult.Error));
    }

    [Test]
    public void TooManyHeaders()
    {
        string fields = string.Concat(Enumerable.Range(0, ResponseHead.MaxHeaders).Select(i => $"X-H{i}: {i}\r\n"));
        ParseOk("HTTP/1.1 200 OK\r\n" + fields + "\r\n");
        Assert.That(ResponseParser.Parse(Bytes("HTTP/1.1 200 OK\r\n" + fields + "X: y\r\n\r\n"), _head), Is.EqualTo(ParseResult.Error));
    }
}
