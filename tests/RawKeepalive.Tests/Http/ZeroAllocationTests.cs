using NUnit.Framework;
using RawKeepalive.Tests.Support;
using RawKeepalive.Http;
using static RawKeepalive.Tests.Http.HttpText;

namespace RawKeepalive.Tests.Http;

/// <summary>The parsers and the framing decision run once per request on the worker's loop thread:
/// they must not allocate.</summary>
[TestFixture, CancelAfter(60_000)]
public class ZeroAllocationTests
{
    [Test]
    public void ParsersDoNotAllocate()
    {
        var request = Bytes(Browser);
        var absolute = Bytes("POST http://h:8080/p?q HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close, X-A\r\nExpect: 100-continue\r\n\r\n");
        var bad = Bytes("GET / HTTP/1.1\r\nHost: a b\r\n\r\n");
        var partial = Bytes("GET / HTTP/1.1\r\nHost: a");
        var response = Bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\nContent-Length: 3, 3\r\n\r\n");
        var framed = Bytes(Response);
        var body = Bytes("4;x=\"y\"\r\nWiki\r\n7\r\npedia i\r\nB\r\nn \r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n");
        var requestHead = new RequestHead();
        var responseHead = new ResponseHead();

        long sink = 0;
        void Run(int n)
        {
            for (int i = 0; i < n; i++)
            {
                sink += (int)RequestParser.Parse(request, requestHead) + requestHead.HeadLength;
                sink += (int)RequestParser.Parse(absolute, requestHead);
                sink += (int)RequestParser.Parse(bad, requestHead) + requestHead.ErrorStatus;
                sink += (int)RequestParser.Parse(partial, requestHead) + RequestParser.OversizeStatus(partial);
                sink += (int)ResponseParser.Parse(response, responseHead) + responseHead.HeadLength;
                sink += (int)ResponseParser.Parse(framed, responseHead);
                var framing = ResponseFraming.Decide(HttpMethod.Get, 1, requestBodySent: true, clientWantsKeepAlive: true, responseHead);
                sink += (int)framing.Mode + (framing.UpstreamReusable ? 1 : 0) + (framing.ClientKeepAlive ? 1 : 0);
                var decoder = new ChunkedDecoder();
                sink += (int)decoder.Skip(body, out int consumed) + consumed;
                decoder.Reset();
                int offset = 0;
                while (decoder.Decode(body.AsSpan(offset), out consumed, out _, out int length) == ChunkStatus.Data)
                {
                    offset += consumed;
                    sink += length;
                }
                sink += ConnectionTokens.ConnectionNames("close, X-A"u8, "x-a"u8) ? 1 : 0;
            }
        }

        Run(1000); // warm-up: static SearchValues, tiered JIT
        Assert.That(Allocations.SteadyState(() => Run(10_000)), Is.EqualTo(0));
        Assert.That(sink, Is.GreaterThan(0));
    }
}
