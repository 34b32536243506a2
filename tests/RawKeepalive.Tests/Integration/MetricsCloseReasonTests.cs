using NUnit.Framework;
using RawKeepalive.Tests.Support;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 14, "close reasons": each reason provoked over loopback against the counting backend and
/// read from the metrics page (the peer's entry in the shared counters), equal to the worker's own figures.</summary>
[TestFixture, CancelAfter(60_000), NonParallelizable]
public sealed class MetricsCloseReasonTests : ProxyTestBase
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

    private static long Closed(InProcessWorker host, TestBackend backend, string reason) =>
        MetricsScrape.Get(host.Port).Peer("rawkeepalive_upstream_connections_closed_total", "app_backend", $"127.0.0.1:{backend.Port}", $"reason=\"{reason}\"");

    /// <summary>The page shows <paramref name="count"/> closes for <paramref name="reason"/>, as the worker counted them.</summary>
    private static void AssertClosed(InProcessWorker host, TestBackend backend, UpstreamCloseReason reason, long count)
    {
        string label = UpstreamFigures.ReasonLabels[(int)reason];
        Assert.That(Wait.Until(() => Closed(host, backend, label) == count, Settles), Is.True,
            $"{label}: the page says {Closed(host, backend, label)}, expected {count}");
        Assert.That(host.Groups.Single().Stats.Closed(reason), Is.EqualTo(count), "the worker's own figure");
    }

    [Test]
    public void KeepaliveTimeout_IsIdleTimeout()
    {
        var (host, backend) = Start("keepalive 4; keepalive_timeout 100ms;");
        Assert.That(Connect(host.Port).Get("/").Status, Is.EqualTo(200));
        AssertClosed(host, backend, UpstreamCloseReason.IdleTimeout, 1);
    }

    [Test]
    public void KeepaliveRequests_IsMaxRequests()
    {
        var (host, backend) = Start("keepalive 4; keepalive_requests 2;");
        var client = Connect(host.Port);
        for (int i = 0; i < 3; i++) Assert.That(client.Get("/").Status, Is.EqualTo(200));
        AssertClosed(host, backend, UpstreamCloseReason.MaxRequests, 1);
        Assert.That(MetricsScrape.Get(host.Port).Peer("rawkeepalive_upstream_connection_requests_bucket", "app_backend", $"127.0.0.1:{backend.Port}", "le=\"2\""),
            Is.EqualTo(1), "the retired connection carried 2 requests");
    }

    [Test]
    public void TheUpstreamClosingAnIdleConnection_IsClosedWhileIdle()
    {
        var (host, backend) = Start("keepalive 4;", backendIdle: TimeSpan.FromMilliseconds(100));
        Assert.That(Connect(host.Port).Get("/").Status, Is.EqualTo(200));
        Assert.That(Wait.Until(() => backend.IdleClosed == 1, Settles), Is.True, "the backend closes the idle connection");
        AssertClosed(host, backend, UpstreamCloseReason.ClosedWhileIdle, 1);
    }

    [Test]
    public void TheUpstreamClosingRightAfterAResponse_IsNotReusable()
    {
        var (host, backend) = Start("keepalive 4;");
        var client = Connect(host.Port);
        Assert.That(client.Get("/?close=1").Status, Is.EqualTo(200));
        Assert.That(client.Get("/?close=1").Status, Is.EqualTo(200));
        AssertClosed(host, backend, UpstreamCloseReason.NotReusable, 2);
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
        var page = MetricsScrape.Get(host.Port);
        string peer = $"127.0.0.1:{backend.Port}";
        Assert.That(page.Peer("rawkeepalive_upstream_connections_active", "app_backend", peer), Is.EqualTo(2), "two in flight");
        backend.ReleaseHeld();
        Assert.That(new[] { a.ReadResponse().Status, b.ReadResponse().Status }, Is.All.EqualTo(200));
        AssertClosed(host, backend, UpstreamCloseReason.PoolFull, 1);
        page = MetricsScrape.Get(host.Port);
        Assert.That(page.Peer("rawkeepalive_upstream_connections_idle", "app_backend", peer), Is.EqualTo(1), "the pool keeps one");
        Assert.That(page.Peer("rawkeepalive_upstream_connections_active", "app_backend", peer), Is.Zero);
    }
}
