using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 15: <c>max_conns=N</c> with <c>zone</c> counts the connections of every worker (old ones still
/// draining after a reload included) against N; without <c>zone</c> each worker has N of its own, as in
/// nginx. Two worker processes; the backend counts the connections alive at once
/// (<see cref="TestBackend.PeakLiveConnections"/>).
/// </summary>
[TestFixture, Category("Integration"), NonParallelizable, CancelAfter(120_000)]
public sealed class ZoneMaxConnsTests : ProxyTestBase
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    private static string Config(string upstreamExtra) => $$"""
        worker_processes 2;
        events { worker_connections 256; }
        http {
            upstream app_backend {
                server 127.0.0.1:{BACKEND} max_conns=2;
                {{upstreamExtra}}
            }
            server {
                listen 127.0.0.1:{PORT};
                location / { proxy_pass http://app_backend; }
                location = /status { stub_status; }
                location = /metrics { metrics; }
            }
        }
        """;

    private const string Zoned = "zone app_backend 64k; queue 256 timeout=30s;";

    private static string Held(string n) => $"GET /?hold=1&n={n} HTTP/1.1\r\nHost: localhost\r\n\r\n";

    private (TestBackend, ProxyProcess) Start(string upstreamExtra)
    {
        var backend = StartBackend();
        backend.TrackPeak = true;
        var proxy = Track(ProxyProcess.Start(Config(upstreamExtra), backend.Port, master: true));
        Assert.That(Wait.Until(() => proxy.ChildPids().Length == 2, Settle), Is.True, "two workers");
        return (backend, proxy);
    }

    /// <summary>Requests the proxy has read and not yet answered, over every worker (stub_status's Writing, less the status request).</summary>
    private int InFlight(ProxyProcess proxy)
    {
        using var c = Connect(proxy);
        string page = c.Get("/status", extraHeaders: "Connection: close\r\n").BodyText;
        int at = page.IndexOf("Writing: ", StringComparison.Ordinal) + "Writing: ".Length;
        return int.Parse(page[at..page.IndexOf(' ', at)]) - 1;
    }

    /// <summary>Client connections until each of <paramref name="workers"/> holds two (SO_REUSEPORT spreads
    /// them by their ports): two clients per worker, in the order of <paramref name="workers"/>.</summary>
    private RawHttpClient[][] TwoClientsOnEach(ProxyProcess proxy, int[] workers)
    {
        var held = workers.Select(_ => new List<RawHttpClient>()).ToArray();
        for (int i = 0; i < 200 && held.Any(h => h.Count < 2); i++)
        {
            var client = Connect(proxy);
            int owner = 0;
            Assert.That(Wait.Until(() => (owner = ProcessesProbe.OwnerOf(workers, proxy.Port, client.LocalPort)) != 0, Settle, TimeSpan.FromMilliseconds(5)),
                Is.True, "a worker accepted the client");
            var mine = held[Array.IndexOf(workers, owner)];
            if (mine.Count < 2) mine.Add(client);
            else client.Dispose();
        }
        Assert.That(held.All(h => h.Count == 2), Is.True, "connections reach every worker");
        return held.Select(h => h.ToArray()).ToArray();
    }

    [Test]
    public void Zone_ManyConcurrentSlowRequests_AllServed_NeverMoreThanTwoConnections()
    {
        var (backend, proxy) = Start(Zoned);
        var result = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 16,
            RequestsPerClient = 8,
            Request = _ => LoadRequest.Get("/?size=10&delay=20", TestBackend.Body(10)),
            Deadline = TimeSpan.FromSeconds(90),
        }.Run(Cancellation);

        Assert.That(result.Succeeded, Is.EqualTo(128), result.ToString());
        Assert.That(backend.PeakLiveConnections, Is.LessThanOrEqualTo(2), "the two workers together keep to max_conns=2");
        var page = MetricsScrape.Get(proxy.Port);
        foreach (string worker in new[] { "0", "1" })
            Assert.That(page.Value("rawkeepalive_worker_http_requests_total", $"worker=\"{worker}\""), Is.GreaterThan(0),
                $"worker {worker} served some of the clients");
        Assert.That(proxy.ErrorLog, Does.Not.Contain("upstream queue"));
    }

    [Test]
    public void Zone_AQueuedRequestInOneWorker_IsServedWhenTheOtherReleasesItsConnections()
    {
        var (backend, proxy) = Start(Zoned);
        var clients = TwoClientsOnEach(proxy, proxy.ChildPids());
        var (a, b) = (clients[0], clients[1]);
        a[0].Send(Held("a0"));
        a[1].Send(Held("a1"));
        Assert.That(Wait.Until(() => backend.RequestCount == 2, Settle), Is.True, "worker A holds both of the zone's connections");
        b[0].Send(Held("b0"));
        b[1].Send(Held("b1"));
        Assert.That(Wait.Until(() => InFlight(proxy) == 4, Settle), Is.True, "worker B has read its two requests");
        Assert.That(Wait.HoldsFor(() => backend.RequestCount == 2, TimeSpan.FromMilliseconds(300)), Is.True,
            "worker B's requests wait in its queue: the zone is at max_conns");

        backend.ReleaseHeld();
        foreach (var c in a.Concat(b))
            Assert.That(c.ReadResponse().Status, Is.EqualTo(200));
        Assert.That(backend.RequestCount, Is.EqualTo(4));
        Assert.That(backend.PeakLiveConnections, Is.LessThanOrEqualTo(2));
        Assert.That(MetricsScrape.Get(proxy.Port).Peer("rawkeepalive_upstream_connections_closed_total", "app_backend", $"127.0.0.1:{backend.Port}",
            "reason=\"max_conns\""), Is.GreaterThanOrEqualTo(1), "worker A closed an idle connection for worker B's requests");
    }

    [Test]
    public void WithoutZone_EachWorkerHasMaxConnsOfItsOwn()
    {
        var (backend, proxy) = Start("queue 256 timeout=30s;");
        var clients = TwoClientsOnEach(proxy, proxy.ChildPids());
        foreach (var (c, i) in clients.SelectMany(w => w).Select((c, i) => (c, i)))
            c.Send(Held($"{i}"));
        Assert.That(Wait.Until(() => backend.RequestCount == 4, Settle), Is.True, "two connections from each worker");
        Assert.That(backend.PeakLiveConnections, Is.EqualTo(4));

        backend.ReleaseHeld();
        foreach (var c in clients.SelectMany(w => w))
            Assert.That(c.ReadResponse().Status, Is.EqualTo(200));
    }

    /// <summary>master_process off: the zone lives in the process's private segment, one worker's count.</summary>
    [Test]
    public void SingleProcess_ZoneCountsItsOneWorker()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config(Zoned).Replace("worker_processes 2;", "", StringComparison.Ordinal), backend);
        var first = Connect(proxy);
        var second = Connect(proxy);
        var third = Connect(proxy);
        first.Send(Held("1"));
        second.Send(Held("2"));
        Assert.That(Wait.Until(() => backend.RequestCount == 2, Settle), Is.True);
        third.Send(Held("3"));
        Assert.That(Wait.Until(() => InFlight(proxy) == 3, Settle), Is.True, "the proxy has read the third request");
        Assert.That(Wait.HoldsFor(() => backend.RequestCount == 2, TimeSpan.FromMilliseconds(300)), Is.True, "it waits in the queue");
        backend.ReleaseHeld();
        foreach (var c in new[] { first, second, third })
            Assert.That(c.ReadResponse().Status, Is.EqualTo(200));
        Assert.That(backend.AcceptedConnections, Is.EqualTo(2), "the third took a released connection");
    }

    [Test]
    public void Zone_OldWorkersDrainingAfterAReload_StillCount()
    {
        var (backend, proxy) = Start(Zoned);
        var old = proxy.ChildPids();
        var clients = TwoClientsOnEach(proxy, old);
        clients[0][0].Send(Held("old0"));
        clients[1][0].Send(Held("old1"));
        Assert.That(Wait.Until(() => backend.RequestCount == 2, Settle), Is.True, "the old workers hold the zone's two connections");

        proxy.Signal(1);
        int[] fresh = [];
        Assert.That(Wait.Until(() => (fresh = proxy.ChildPids().Except(old).ToArray()).Length == 2
            && old.All(pid => !ProcessesProbe.Listens(pid, proxy.Port)), Settle), Is.True, "a new generation listens; the old one drains");
        var next = Connect(proxy);
        next.Send(Held("new"));
        Assert.That(Wait.Until(() => InFlight(proxy) == 3, Settle), Is.True, "a new worker has read the request");
        Assert.That(Wait.HoldsFor(() => backend.RequestCount == 2, TimeSpan.FromMilliseconds(300)), Is.True,
            "it waits: the old workers' connections count");

        backend.ReleaseHeld();
        Assert.That(next.ReadResponse().Status, Is.EqualTo(200));
        Assert.That(clients[0][0].ReadResponse().Status, Is.EqualTo(200));
        Assert.That(clients[1][0].ReadResponse().Status, Is.EqualTo(200));
        Assert.That(backend.PeakLiveConnections, Is.LessThanOrEqualTo(2));
    }
}
