using NUnit.Framework;
using RawKeepalive.Proxy;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Proxy;

/// <summary>
/// The hot path allocates nothing: a real worker loop runs in this process on its own thread, real
/// clients proxy through it over loopback to a real backend, and the loop thread's own allocation
/// counter (Worker.LoopAllocatedBytes) must not move across 100,000 requests after a warm-up.
/// </summary>
[TestFixture, CancelAfter(420_000), NonParallelizable]
public sealed class WorkerAllocationTests : ProxyTestBase
{
    private const string Template = """
        events { worker_connections 1024; }
        http {
            upstream app_backend { server 127.0.0.1:BACKEND; keepalive 16; }
            server {
                listen 127.0.0.1:PORT;
                location / {
                    proxy_pass http://app_backend;
                    proxy_set_header X-Real-IP $remote_addr;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header Host $host;
                }
                location = /fixed { return 200 "fixed"; }
                location = /metrics { metrics; }
            }
        }
        """;

    [Test]
    public void SteadyStateProxying_AllocatesNothingOnTheLoopThread()
    {
        var backend = StartBackend();
        var host = Track(new InProcessWorker(Template, backend.Port));
        var worker = host.Worker;
        // Warm-up: pools and free lists reach their peak, and every path runs once, including
        // the close and reconnect at the client's keepalive_requests (1000).
        Run(host.Port, requestsPerClient: 1_100);
        long before = Settled(worker);
        var result = Run(host.Port, requestsPerClient: 12_500);  // 8 × 12,500 = 100,000 requests
        long after = Settled(worker);

        Assert.That(result.Succeeded, Is.EqualTo(100_000), result.ToString());
        TestContext.Out.WriteLine($"measured: {after - before} bytes allocated on the loop thread over {result.Succeeded} requests");
        Assert.That(after - before, Is.Zero, "bytes allocated by the worker loop in steady state");
        Assert.That(worker.Pipes.SplicedBytes, Is.GreaterThan(0), "the large bodies went through the splice path");
        Assert.That(Wait.Until(() => worker.Slab.InUse == 0, TimeSpan.FromSeconds(10)), Is.True,
            $"every buffer is back once the clients are gone (idle pooled connections hold none): {worker.Slab.InUse} in use");
    }

    /// <summary>A mix of what the hot path does: small, large and chunked downloads, uploads, a fixed response,
    /// and the metrics page (issue 14: summed and written without allocating).</summary>
    private static LoadResult Run(int port, int requestsPerClient) => new LoadRunner
    {
        Port = port,
        Clients = 8,
        RequestsPerClient = requestsPerClient,
        Request = i => (i % 5) switch
        {
            0 => LoadRequest.Get("/?size=100", TestBackend.Body(100)),
            4 => LoadRequest.Get("/?size=100000", TestBackend.Body(100_000)),   // spliced through a worker pipe
            1 => LoadRequest.Get("/?size=20000&chunked=1", TestBackend.Body(20_000)),
            2 => new LoadRequest("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n", TestBackend.Body(1000), ExpectedBody: TestBackend.Body(1000)),
            _ => i % 10 == 3 ? LoadRequest.Get("/metrics") : LoadRequest.Get("/fixed", "fixed"u8.ToArray()),
        },
        Deadline = TimeSpan.FromSeconds(300),
    }.Run(CancellationToken.None);

    /// <summary>The counter is refreshed at the end of each loop iteration: read it once it stops moving.</summary>
    private static long Settled(Worker worker)
    {
        long value = worker.LoopAllocatedBytes;
        Assert.That(Wait.HoldsFor(() =>
        {
            long now = worker.LoopAllocatedBytes;
            bool same = now == value;
            value = now;
            return same;
        }, TimeSpan.FromMilliseconds(300)) || Wait.HoldsFor(() => worker.LoopAllocatedBytes == value, TimeSpan.FromMilliseconds(300)), Is.True);
        return worker.LoopAllocatedBytes;
    }
}
