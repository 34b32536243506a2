using NUnit.Framework;
using RawKeepalive.Http;
using static RawKeepalive.Http.ResponseBodyMode;
using static RawKeepalive.Tests.Http.HttpText;

namespace RawKeepalive.Tests.Http;

/// <summary>ResponseFraming.Decide, one row per rule: heads are parsed from text, as the proxy gets them.</summary>
[TestFixture, CancelAfter(60_000)]
public class ResponseFramingTests
{
    /// <summary>What the client asked: method, HTTP/1.x minor version, whether the request body is all
    /// sent, whether the client wants (and may have) keep-alive.</summary>
    public readonly record struct Request(HttpMethod Method, int Minor = 1, bool BodySent = true, bool WantsKeepAlive = true);

    private static readonly Request Get11 = new(HttpMethod.Get);
    private static readonly Request Get10 = new(HttpMethod.Get, Minor: 0);
    private static readonly Request Head11 = new(HttpMethod.Head);
    private static readonly Request PostUnsent = new(HttpMethod.Post, BodySent: false);
    private static readonly Request GetNoKeepAlive = new(HttpMethod.Get, WantsKeepAlive: false);

    private static TestCaseData Row(string name, Request request, string response, ResponseBodyMode mode, bool upstreamReusable, bool clientKeepAlive) =>
        new TestCaseData(request, response, new FramingDecision(mode, upstreamReusable, clientKeepAlive)).SetName($"Decide: {name}");

    public static IEnumerable<TestCaseData> Rows()
    {
        // Bodiless: HEAD, 1xx, 204, 304, whatever the framing headers say.
        yield return Row("HEAD with Content-Length", Head11, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", None, true, true);
        yield return Row("HEAD with chunked", Head11, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", None, true, true);
        yield return Row("HEAD with neither (no close-delimited body)", Head11, "HTTP/1.1 200 OK\r\n\r\n", None, true, true);
        yield return Row("HEAD from an HTTP/1.0 client, chunked head", Head11 with { Minor = 0 }, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", None, true, true);
        yield return Row("100 Continue (interim: bodiless if ever given one)", Get11, "HTTP/1.1 100 Continue\r\n\r\n", None, true, true);
        yield return Row("103 Early Hints", Get11, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", None, true, true);
        yield return Row("204 No Content", Get11, "HTTP/1.1 204 No Content\r\n\r\n", None, true, true);
        yield return Row("204 with Connection: close", Get11, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", None, false, true);
        yield return Row("304 with the Content-Length of the full body", Get11, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 1234\r\n\r\n", None, true, true);
        yield return Row("304 to an HTTP/1.0 client", Get10, "HTTP/1.1 304 Not Modified\r\n\r\n", None, true, true);

        // Content-Length.
        yield return Row("Content-Length > 0", Get11, Response, Length, true, true);
        yield return Row("Content-Length: 0", Get11, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Length, true, true);
        yield return Row("Content-Length to an HTTP/1.0 client", Get10, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", Length, true, true);
        yield return Row("404 with Content-Length", Get11, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n", Length, true, true);

        // Chunked.
        yield return Row("chunked to an HTTP/1.1 client", Get11, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ChunkedPassthrough, true, true);
        yield return Row("chunked to an HTTP/1.0 client (dechunked, then close)", Get10, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Dechunk, true, false);

        // Close-delimited: neither side is reused.
        yield return Row("close-delimited from HTTP/1.1", Get11, "HTTP/1.1 200 OK\r\n\r\n", UntilClose, false, false);
        yield return Row("close-delimited with Connection: keep-alive", Get11, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", UntilClose, false, false);
        yield return Row("close-delimited from HTTP/1.0", Get11, "HTTP/1.0 200 OK\r\n\r\n", UntilClose, false, false);

        // The upstream's persistence (RFC 9112 9.3).
        yield return Row("HTTP/1.0 upstream without keep-alive", Get11, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n", Length, false, true);
        yield return Row("HTTP/1.0 upstream with Connection: keep-alive", Get11, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n", Length, true, true);
        yield return Row("HTTP/1.0 upstream with keep-alive and close", Get11, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, close\r\n\r\n", Length, false, true);
        yield return Row("HTTP/1.1 upstream with Connection: close", Get11, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", Length, false, true);
        yield return Row("HTTP/1.1 upstream, close among other options", Get11, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: X-Trace, Close\r\n\r\n", ChunkedPassthrough, false, true);

        // The request's side.
        yield return Row("request body not all sent", PostUnsent, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", Length, false, true);
        yield return Row("request body not all sent, early 413", PostUnsent, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n", Length, false, true);
        yield return Row("request body all sent", PostUnsent with { BodySent = true }, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", Length, true, true);
        yield return Row("client does not want keep-alive", GetNoKeepAlive, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", Length, true, false);
        yield return Row("client does not want keep-alive, chunked", GetNoKeepAlive, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ChunkedPassthrough, true, false);
    }

    [TestCaseSource(nameof(Rows))]
    public void Decide(Request request, string response, FramingDecision expected)
    {
        var head = new ResponseHead();
        Assert.That(ResponseParser.Parse(Bytes(response), head), Is.EqualTo(ParseResult.Complete), response);
        var decision = ResponseFraming.Decide(request.Method, request.Minor, request.BodySent, request.WantsKeepAlive, head);
        Assert.That(decision, Is.EqualTo(expected));
    }

    /// <summary>A head whose framing is in conflict is a parse error (answered 502, never decided on).</summary>
    public static IEnumerable<TestCaseData> Conflicts()
    {
        static TestCaseData Conflict(string name, string response, ResponseError error) =>
            new TestCaseData(response, error).SetName($"Conflict: {name}");
        yield return Conflict("Content-Length then Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", ResponseError.LengthAndEncoding);
        yield return Conflict("Transfer-Encoding then Content-Length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", ResponseError.LengthAndEncoding);
        yield return Conflict("two Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", ResponseError.DuplicateHeader);
        yield return Conflict("Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", ResponseError.InvalidContentLength);
        yield return Conflict("a coding other than chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ResponseError.UnknownEncoding);
        yield return Conflict("Transfer-Encoding in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ResponseError.Invalid);
    }

    [TestCaseSource(nameof(Conflicts))]
    public void ConflictIsRefusedByTheParser(string response, ResponseError error)
    {
        var head = new ResponseHead();
        Assert.That(ResponseParser.Parse(Bytes(response), head), Is.EqualTo(ParseResult.Error), response);
        Assert.That(head.Error, Is.EqualTo(error));
    }
}
