using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 14, "across workers": the metrics page of a master with two workers sums both (each
/// shown to have served traffic), and no counter goes backwards across a reload (SIGHUP) or a worker
/// killed and restarted: the master folds an exited worker's totals into the shared counters.</summary>
[TestFixture]
[NonParallelizable]
public sealed class ProcessesMetricsTests : ProxyTestBase
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);
    private const int RequestsPerClient = 40;

    private const string Template = """
        worker_processes 2;
        events { worker_connections 256; }
        http {
            upstream app_backend { server 127.0.0.1:{BACKEND}; keepalive 16; }
            server {
                listen 127.0.0.1:{PORT};
                location / { proxy_pass http://app_backend; }
                location = /metrics { metrics; }
            }
        }
        """;

    [Test]
    [CancelAfter(120_000)]
    public void SumsOverTwoWorkers_AndNoCounterGoesBack_AcrossAReloadAndARestart()
    {
        var backend = StartBackend();
        var proxy = Track(ProxyProcess.Start(Template, backend.Port, master: true));
        Assert.That(Wait.Until(() => proxy.ChildPids().Length == 2, Settle), Is.True, "two workers");
        string peer = $"127.0.0.1:{backend.Port}";
        int sent = Traffic(proxy, proxy.ChildPids());

        var first = MetricsScrape.Get(proxy.Port);
        long Up(MetricsScrape page, string name) => page.Peer(name, "app_backend", peer);
        Assert.Multiple(() =>
        {
            Assert.That(Up(first, "rawkeepalive_upstream_requests_total"), Is.EqualTo(sent), "every request of both workers");
            Assert.That(Up(first, "rawkeepalive_upstream_connections_opened_total"), Is.EqualTo(backend.AcceptedConnections));
            Assert.That(Up(first, "rawkeepalive_upstream_connections_reused_total"), Is.EqualTo(sent - backend.AcceptedConnections));
            foreach (string worker in new[] { "0", "1" })
                Assert.That(first.Value("rawkeepalive_worker_http_requests_total", $"worker=\"{worker}\""), Is.GreaterThanOrEqualTo(RequestsPerClient),
                    $"worker {worker} served a client's requests");
            Assert.That(first.Value("rawkeepalive_http_requests_total"),
                Is.EqualTo(first.Value("rawkeepalive_worker_http_requests_total", "worker=\"0\"") + first.Value("rawkeepalive_worker_http_requests_total", "worker=\"1\"")),
                "the server's figure is the sum of its workers'");
        });

        int[] old = proxy.ChildPids();
        proxy.Signal(1);
        Assert.That(Wait.Until(() => proxy.ChildPids() is { Length: 2 } now && !now.Intersect(old).Any(), Settle), Is.True, "the old generation exits");
        var afterReload = MetricsScrape.Get(proxy.Port);
        AssertNoneWentBack(first, afterReload);
        Assert.That(afterReload.Value("rawkeepalive_reloads_total"), Is.EqualTo(1));
        Assert.That(Up(afterReload, "rawkeepalive_upstream_requests_total"), Is.EqualTo(sent), "the old workers' totals stay");

        sent += Traffic(proxy, proxy.ChildPids());
        var beforeKill = MetricsScrape.Get(proxy.Port);
        Assert.That(Up(beforeKill, "rawkeepalive_upstream_requests_total"), Is.EqualTo(sent));
        int victim = proxy.ChildPids()[0];
        proxy.ExpectLog($"worker process {victim} exited on signal 9, restarting it");
        ProxyProcess.SendSignal(victim, 9);
        Assert.That(Wait.Until(() => proxy.ChildPids() is { Length: 2 } now && !now.Contains(victim), Settle), Is.True, "a new worker replaces the killed one");
        var afterKill = MetricsScrape.Get(proxy.Port);
        AssertNoneWentBack(beforeKill, afterKill);
        Assert.Multiple(() =>
        {
            Assert.That(afterKill.Value("rawkeepalive_worker_restarts_total"), Is.EqualTo(1));
            Assert.That(Up(afterKill, "rawkeepalive_upstream_requests_total"), Is.EqualTo(sent), "the killed worker's totals stay");
            Assert.That(Up(afterKill, "rawkeepalive_upstream_connections_active"), Is.Zero, "the killed worker's gauges go");
        });
    }

    /// <summary>Client connections until both workers hold one (SO_REUSEPORT spreads them by their ports),
    /// each sending <see cref="RequestsPerClient"/> requests; the number of requests sent.</summary>
    private int Traffic(ProxyProcess proxy, int[] workers)
    {
        var owners = new HashSet<int>();
        var clients = new List<RawHttpClient>();
        Assert.That(Wait.Until(() =>
        {
            var client = Connect(proxy);
            Assert.That(client.Get("/").Status, Is.EqualTo(200));
            clients.Add(client);
            int owner = ProcessesProbe.OwnerOf(workers, proxy.Port, client.LocalPort);
            if (owner != 0) owners.Add(owner);
            return owners.Count == 2;
        }, Settle, TimeSpan.Zero), Is.True, "connections reach both workers");
        foreach (var client in clients)
            for (int i = 1; i < RequestsPerClient; i++)
                Assert.That(client.Get($"/?size={i}").Status, Is.EqualTo(200));
        foreach (var client in clients) client.Dispose();
        return clients.Count * RequestsPerClient;
    }

    private static void AssertNoneWentBack(MetricsScrape before, MetricsScrape after)
    {
        var back = before.Monotonic()
            .Where(s => !after.Samples.TryGetValue(s.Key, out double now) || now < s.Value)
            .Select(s => $"{s.Key}: {s.Value} → {(after.Samples.TryGetValue(s.Key, out double now) ? now : double.NaN)}")
            .ToList();
        Assert.That(back, Is.Empty, "counters that went backwards or vanished:\n" + string.Join("\n", back));
        Assert.That(before.Monotonic().Count(), Is.GreaterThan(100), "the page's counters and histograms were compared");
    }
}
