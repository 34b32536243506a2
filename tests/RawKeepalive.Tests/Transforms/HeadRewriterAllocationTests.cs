using NUnit.Framework;
using RawKeepalive.Tests.Support;
using RawKeepalive.Http;
using RawKeepalive.Proxy;
using RawKeepalive.Tests.Http;
using RawKeepalive.Transforms;

namespace RawKeepalive.Tests.Transforms;

/// <summary>The head rewriters run once per request on the worker's loop thread: they must not allocate.</summary>
[TestFixture, CancelAfter(60_000)]
public sealed unsafe class HeadRewriterAllocationTests
{
    [Test]
    public void RewritersDoNotAllocate()
    {
        using var request = new GatherBuffer();
        using var response = new GatherBuffer();
        // The Connection header names a header, and a proxy_set_header name is compared per line:
        // every drop rule runs.
        RequestHead req = request.ParseRequest(HttpText.Browser.Replace("Connection: keep-alive", "Connection: keep-alive, X-Hop"));
        ResponseHead resp = response.ParseResponse(HttpText.Response.Replace("Connection: keep-alive", "Connection: X-Internal"));
        var location = TestLocations.Matching("/app/dashboard",
            "location /app/ { proxy_pass http://backend/v2/; proxy_set_header X-Real-IP $remote_addr; }");

        long sink = 0;
        void Run(int n)
        {
            for (int i = 0; i < n; i++)
            {
                request.List.Clear();
                if (!RequestHeadRewriter.TryAppend(ref request.List, req, request.Head, location)) throw new InvalidOperationException("gather list full");
                response.List.Clear();
                if (!ResponseHeadRewriter.TryAppendStatusLine(ref response.List, resp, response.Head)) throw new InvalidOperationException("gather list full");
                if (!ResponseHeadRewriter.TryAppendKeptHeaders(ref response.List, resp, response.Head)) throw new InvalidOperationException("gather list full");
                sink += request.List.Count + response.List.Count;
            }
        }

        Run(1000); // warm-up: tiered JIT
        Assert.That(Allocations.SteadyState(() => Run(10_000)), Is.EqualTo(0));
        Assert.That(sink, Is.GreaterThan(0));
    }
}
