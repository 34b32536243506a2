using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Process;
using RawKeepalive.Proxy;
using RawKeepalive.Tests.Support;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Proxy;

/// <summary>
/// The hot path allocates nothing: a real worker loop runs in this process on its own thread, real
/// clients proxy through it over loopback to a real backend, and the loop thread's own allocation
/// counter (Worker.LoopAllocatedBytes) must not move across 100,000 requests after a warm-up.
/// </summary>
[TestFixture, CancelAfter(420_000), NonParallelizable]
public sealed class WorkerAllocationTests
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
            }
        }
        """;

    [Test]
    public void SteadyStateProxying_AllocatesNothingOnTheLoopThread()
    {
        using var backend = new TestBackend();
        string prefix = Directory.CreateTempSubdirectory("rawkeepalive-alloc-").FullName;
        int port = FreePort.Probe();
        var config = ConfigLoader.LoadText(Template.Replace("BACKEND", backend.Port.ToString()).Replace("PORT", port.ToString()), "alloc.conf", prefix);
        var groups = new Dictionary<UpstreamConfig, UpstreamGroup>();
        foreach (var u in config.Http.Upstreams) groups[u] = new UpstreamGroup(u, config.WorkerConnections);
        var listeners = ListenSockets.Open(config, groups);
        using var log = new ErrorLog(Path.Combine(prefix, "error.log"), LogLevel.Error);
        var worker = new Worker(config, log, listeners);
        var loop = new Thread(worker.Run) { IsBackground = true, Name = "worker loop" };
        loop.Start();
        try
        {
            // Warm-up: pools and free lists reach their peak, and every path runs once, including
            // the close and reconnect at the client's keepalive_requests (1000).
            Run(port, requestsPerClient: 1_100);
            long before = Settled(worker);
            var result = Run(port, requestsPerClient: 12_500);  // 8 × 12,500 = 100,000 requests
            long after = Settled(worker);

            Assert.That(result.Succeeded, Is.EqualTo(100_000), result.ToString());
            TestContext.Out.WriteLine($"measured: {after - before} bytes allocated on the loop thread over {result.Succeeded} requests");
            Assert.That(after - before, Is.Zero, "bytes allocated by the worker loop in steady state");
            Assert.That(Wait.Until(() => worker.Slab.InUse == 0, TimeSpan.FromSeconds(10)), Is.True,
                $"every buffer is back once the clients are gone (idle pooled connections hold none): {worker.Slab.InUse} in use");
        }
        finally
        {
            worker.RequestStop();
            loop.Join(TimeSpan.FromSeconds(10));
            worker.Dispose();
            foreach (var l in listeners) Tmds.Linux.LibC.close(l.Fd);
            Directory.Delete(prefix, recursive: true);
        }
    }

    /// <summary>A mix of what the hot path does: small and chunked downloads, uploads, a fixed response.</summary>
    private static LoadResult Run(int port, int requestsPerClient) => new LoadRunner
    {
        Port = port,
        Clients = 8,
        RequestsPerClient = requestsPerClient,
        Request = i => (i % 4) switch
        {
            0 => LoadRequest.Get("/?size=100", TestBackend.Body(100)),
            1 => LoadRequest.Get("/?size=20000&chunked=1", TestBackend.Body(20_000)),
            2 => new LoadRequest("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n", TestBackend.Body(1000), ExpectedBody: TestBackend.Body(1000)),
            _ => LoadRequest.Get("/fixed", "fixed"u8.ToArray()),
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
