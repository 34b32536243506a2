using NUnit.Framework;
using RawKeepalive.Proxy;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Proxy;

/// <summary>The metrics page is made without allocating: after a warm-up (its pinned buffer pooled),
/// scraping it under proxied traffic leaves the loop thread's allocation counter where it was.</summary>
[TestFixture, CancelAfter(120_000), NonParallelizable]
public sealed class MetricsAllocationTests : ProxyTestBase
{
    private const string Template = """
        events { worker_connections 256; }
        http {
            upstream app_backend { server 127.0.0.1:BACKEND; keepalive 16; }
            server {
                listen 127.0.0.1:PORT;
                location / { proxy_pass http://app_backend; }
                location = /metrics { metrics; }
            }
        }
        """;

    [Test]
    public void ScrapingUnderLoad_AllocatesNothingOnTheLoopThread()
    {
        var backend = StartBackend();
        var host = Track(new InProcessWorker(Template, backend.Port));
        Run(host.Port, requestsPerClient: 200);
        long before = Settled(host.Worker);
        var result = Run(host.Port, requestsPerClient: 500);
        long after = Settled(host.Worker);
        Assert.That(result.Succeeded, Is.EqualTo(2000), result.ToString());
        TestContext.Out.WriteLine($"measured: {after - before} bytes allocated on the loop thread over {result.Succeeded} requests, a quarter of them scrapes");
        Assert.That(after - before, Is.Zero, "bytes allocated by the worker loop while the page is scraped");
    }

    /// <summary>Four clients: three proxy, one scrapes the page over and over on its keep-alive connection.</summary>
    private static LoadResult Run(int port, int requestsPerClient) => new LoadRunner
    {
        Port = port,
        Clients = 4,
        RequestsPerClient = requestsPerClient,
        Request = i => LoadRequest.Get(i < requestsPerClient ? "/metrics" : "/?size=100"),
        Deadline = TimeSpan.FromSeconds(90),
    }.Run(CancellationToken.None);

    private static long Settled(Worker worker)
    {
        long value = worker.LoopAllocatedBytes;
        Assert.That(Wait.Until(() =>
        {
            long now = worker.LoopAllocatedBytes;
            bool same = now == value;
            value = now;
            return same;
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300)), Is.True);
        return worker.LoopAllocatedBytes;
    }
}
