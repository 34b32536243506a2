using NUnit.Framework;
using RawKeepalive.Tests.Support;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Upstream;

/// <summary>Structure issue: every upstream close has a reason, counted per upstream and per peer
/// together with opens, reuses and stale retries. A real worker loop over loopback against the
/// counting backend; the figures are the worker's own, and the metrics page shows the peer's (issue 14).</summary>
[TestFixture, CancelAfter(60_000), NonParallelizable]
public sealed class CloseReasonTests : ProxyTestBase
{
    private static string Config(string upstream) => $$"""
        events { worker_connections 64; }
        http {
            upstream app_backend { server 127.0.0.1:BACKEND; {{upstream}} }
            server {
                listen 127.0.0.1:PORT;
                location / { proxy_pass http://app_backend; }
                location = /metrics { metrics; }
            }
        }
        """;

    private static readonly TimeSpan Settles = TimeSpan.FromSeconds(10);

    private (InProcessWorker Host, TestBackend Backend) Start(string upstream, TimeSpan? backendIdle = null)
    {
        var backend = StartBackend(backendIdle);
        return (Track(new InProcessWorker(Config(upstream), backend.Port)), backend);
    }

    private static UpstreamStats Group(InProcessWorker host) => host.Groups.Single().Stats;
    private static UpstreamStats Peer(InProcessWorker host) => host.Groups.Single().Peers.Single().Stats;

    private static void AssertClosed(InProcessWorker host, UpstreamCloseReason reason, long count)
    {
        Assert.That(Wait.Until(() => Group(host).Closed(reason) == count, Settles), Is.True,
            $"{reason}: {Group(host).Closed(reason)} closes, expected {count}");
        Assert.That(Peer(host).Closed(reason), Is.EqualTo(count), $"{reason} for the peer");
        Assert.That(MetricsScrape.Get(host.Port).Peer("rawkeepalive_upstream_connections_closed_total", "app_backend", host.Groups.Single().Peers.Single().Name,
            $"reason=\"{UpstreamFigures.ReasonLabels[(int)reason]}\""), Is.EqualTo(count), $"{reason} on the metrics page (the peer's shared entry)");
    }

    [Test]
    public void KeepaliveRequests_RetiresTheConnection_AsMaxRequests()
    {
        var (host, backend) = Start("keepalive 4; keepalive_requests 2;");
        var client = Connect(host.Port);
        var numbers = Enumerable.Range(0, 3).Select(_ => client.Get("/").HeaderInt("X-Connection")).ToArray();

        Assert.That(numbers, Is.EqualTo(new[] { 1, 1, 2 }), "the second request reused the first connection, the third opened a new one");
        AssertClosed(host, UpstreamCloseReason.MaxRequests, 1);
        Assert.Multiple(() =>
        {
            Assert.That(Group(host).Opened, Is.EqualTo(2));
            Assert.That(Group(host).Reused, Is.EqualTo(1));
            Assert.That(Peer(host).Reused, Is.EqualTo(1));
            Assert.That(backend.AcceptedConnections, Is.EqualTo(2));
        });
    }

    [Test]
    public void KeepaliveTime_RetiresTheConnectionAtRelease_AsMaxTime()
    {
        var (host, _) = Start("keepalive 4; keepalive_time 200ms;");
        var client = Connect(host.Port);
        var opened = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(client.Get("/").HeaderInt("X-Connection"), Is.EqualTo(1));
        // Only the connection's age matters here: any delay past 200 ms gives the same outcome.
        Assert.That(Wait.Until(() => opened.ElapsedMilliseconds > 300, Settles), Is.True);
        Assert.That(client.Get("/").HeaderInt("X-Connection"), Is.EqualTo(1), "still reused: keepalive_time is judged at release");
        AssertClosed(host, UpstreamCloseReason.MaxTime, 1);
    }

    [Test]
    public void ConnectionCloseFromTheUpstream_IsNotReusable()
    {
        var (host, _) = Start("keepalive 4;");
        var client = Connect(host.Port);
        Assert.That(client.Get("/?close=1").Status, Is.EqualTo(200));
        AssertClosed(host, UpstreamCloseReason.NotReusable, 1);
    }

    [Test]
    public void TwoAtOnceIntoAPoolOfOne_OneIsEvictedAsPoolFull()
    {
        var (host, backend) = Start("keepalive 1;");
        var a = Connect(host.Port);
        var b = Connect(host.Port);
        a.Send("GET /?hold=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        b.Send("GET /?hold=1 HTTP/1.1\r\nHost: b\r\n\r\n");
        Assert.That(Wait.Until(() => backend.RequestCount == 2, Settles), Is.True, "both requests reach the backend");
        backend.ReleaseHeld();
        Assert.That(new[] { a.ReadResponse().Status, b.ReadResponse().Status }, Is.All.EqualTo(200));

        AssertClosed(host, UpstreamCloseReason.PoolFull, 1);
        Assert.That(Group(host).Opened, Is.EqualTo(2));
    }

    [Test]
    public void UpstreamClosingAnIdleConnection_IsClosedWhileIdle()
    {
        var (host, backend) = Start("keepalive 4;", backendIdle: TimeSpan.FromMilliseconds(100));
        var client = Connect(host.Port);
        Assert.That(client.Get("/").Status, Is.EqualTo(200));
        Assert.That(Wait.Until(() => backend.IdleClosed == 1, Settles), Is.True, "the backend closes the idle connection");
        AssertClosed(host, UpstreamCloseReason.ClosedWhileIdle, 1);
    }

    [Test]
    public void UpstreamClosingRightAfterTheResponse_IsNeverReused_AndTheCloseIsCounted()
    {
        var (host, backend) = Start("keepalive 4;");
        var client = Connect(host.Port);
        Assert.That(client.Get("/?size=2&fin=1").HeaderInt("X-Connection"), Is.EqualTo(1));
        // Where the FIN lands against the release is the scheduler's choice: found at release (the usual case
        // on loopback: it follows the response at once) or, arriving later, by the pool's watch. Either way it
        // is counted once, and the connection is never handed out again (ReleaseCheckTests pins each case).
        long Dead() => Group(host).Closed(UpstreamCloseReason.ClosedAtRelease) + Group(host).Closed(UpstreamCloseReason.ClosedWhileIdle);
        Assert.That(Wait.Until(() => Dead() == 1, Settles), Is.True, $"closed: {Dead()}");
        TestContext.Out.WriteLine($"measured: closed at release {Group(host).Closed(UpstreamCloseReason.ClosedAtRelease)}, while idle {Group(host).Closed(UpstreamCloseReason.ClosedWhileIdle)}");

        var post = client.Post("/echo", TestBackend.Body(2));
        Assert.That(post.Status, Is.EqualTo(200), post.ToString());
        Assert.That(post.HeaderInt("X-Connection"), Is.EqualTo(2), "a fresh connection");
        Assert.Multiple(() =>
        {
            Assert.That(Group(host).Reused, Is.Zero);
            Assert.That(Peer(host).Closed(UpstreamCloseReason.ClosedAtRelease) + Peer(host).Closed(UpstreamCloseReason.ClosedWhileIdle), Is.EqualTo(1));
            Assert.That(backend.AcceptedConnections, Is.EqualTo(2));
        });
    }

    [Test]
    public void KeepaliveTimeout_IsIdleTimeout()
    {
        var (host, _) = Start("keepalive 4; keepalive_timeout 100ms;");
        var client = Connect(host.Port);
        Assert.That(client.Get("/").Status, Is.EqualTo(200));
        AssertClosed(host, UpstreamCloseReason.IdleTimeout, 1);
    }

    [Test]
    public void AStaleReusedConnection_IsRetried_AndClosedAsAnErrorMidExchange()
    {
        var (host, backend) = Start("keepalive 4;");
        var client = Connect(host.Port);
        Assert.That(client.Get("/").Status, Is.EqualTo(200));
        backend.ResetReusedConnections = true;   // the pooled connection dies when it is used again
        var second = client.Get("/");

        Assert.That(second.Status, Is.EqualTo(200), second.ToString());
        Assert.That(second.HeaderInt("X-Connection"), Is.EqualTo(2), "replayed on a fresh connection");
        AssertClosed(host, UpstreamCloseReason.ErrorMidExchange, 1);
        Assert.Multiple(() =>
        {
            Assert.That(Group(host).StaleRetries, Is.EqualTo(1));
            Assert.That(Peer(host).StaleRetries, Is.EqualTo(1));
            Assert.That(Group(host).Reused, Is.EqualTo(1));
            Assert.That(Group(host).Opened, Is.EqualTo(2));
        });
    }

    [Test]
    public void StoppingTheWorker_ClosesPooledConnectionsAsShutdown()
    {
        var (host, _) = Start("keepalive 4;");
        var client = Connect(host.Port);
        Assert.That(client.Get("/").Status, Is.EqualTo(200));
        host.Dispose();
        Assert.That(Group(host).Closed(UpstreamCloseReason.Shutdown), Is.EqualTo(1));
        Assert.That(Peer(host).Closed(UpstreamCloseReason.Shutdown), Is.EqualTo(1));
    }
}
