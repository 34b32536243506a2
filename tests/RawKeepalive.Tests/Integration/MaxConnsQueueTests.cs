using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 15: <c>server ADDR max_conns=N</c> (at most N connections, active and idle, per worker to the
/// peer; nginx skips a peer at its limit and answers 502 "no live upstreams" when none is left) and
/// nginx Plus's <c>queue N timeout=T</c> (FIFO waiting for a connection, 502 when full or timed out).
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class MaxConnsQueueTests : ProxyTestBase
{
    private const string Held = "GET /?hold=1 HTTP/1.1\r\nHost: localhost\r\n\r\n";

    /// <summary>The upstream with <paramref name="upstreamExtra"/>, and a stub_status location: its
    /// Writing figure counts the requests the proxy has read and not yet answered (itself included).</summary>
    private static string Config(string maxConns, string upstreamExtra = "") => Configs.With(
        servers: $"server 127.0.0.1:{{BACKEND}} {maxConns};", upstreamExtra: upstreamExtra,
        server: "location = /status { stub_status; }");

    private int Writing(ProxyProcess proxy)
    {
        using var c = Connect(proxy);
        string page = System.Text.Encoding.ASCII.GetString(c.Get("/status").Body);
        int at = page.IndexOf("Writing: ", StringComparison.Ordinal) + "Writing: ".Length;
        return int.Parse(page[at..page.IndexOf(' ', at)]) - 1;
    }

    /// <summary>Sends a request on a new client and waits until the proxy has read it (it is in flight or queued).</summary>
    private RawHttpClient SendAndWaitInFlight(ProxyProcess proxy, string head, int inFlightAfter)
    {
        var c = Track(Connect(proxy));
        c.Send(head);
        Assert.That(Wait.Until(() => Writing(proxy) >= inFlightAfter, TimeSpan.FromSeconds(10)), Is.True,
            $"the proxy should have read request {inFlightAfter}");
        return c;
    }

    [Test]
    public void WithoutQueue_TheThirdConcurrentRequestGets502_NoLiveUpstreams()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("max_conns=2"), backend);
        var c1 = Track(Connect(proxy));
        var c2 = Track(Connect(proxy));
        c1.Send(Held);
        c2.Send(Held);
        Assert.That(Wait.Until(() => backend.RequestCount == 2, TimeSpan.FromSeconds(10)), Is.True);

        using (var c3 = Connect(proxy))
            Assert.That(c3.Get("/").Status, Is.EqualTo(502));
        Assert.That(proxy.WaitForErrorLog("no live upstreams while connecting to upstream"), Is.True, proxy.ErrorLog);
        Assert.That(proxy.ErrorLog, Does.Contain("upstream: \"http://app_backend/\""), "nginx names the upstream group");

        backend.ReleaseHeld();
        Assert.That(c1.ReadResponse().Status, Is.EqualTo(200));
        Assert.That(c2.ReadResponse().Status, Is.EqualTo(200));
        // the two pooled connections serve the next ones; no third is ever opened
        using (var c4 = Connect(proxy))
            Assert.That(c4.Get("/").Status, Is.EqualTo(200));
        Assert.That(backend.AcceptedConnections, Is.EqualTo(2));
    }

    /// <summary>8 clients, each sending <paramref name="requestsPerClient"/> GETs the backend answers after 10 ms.</summary>
    private LoadResult EightClients(ProxyProcess proxy, int requestsPerClient) => new LoadRunner
    {
        Port = proxy.Port,
        Clients = 8,
        RequestsPerClient = requestsPerClient,
        Request = _ => LoadRequest.Get("/?size=10&delay=10", TestBackend.Body(10)),
        Deadline = TimeSpan.FromSeconds(60),
    }.Run(Cancellation);

    [Test]
    public void MaxConns2_Queue_EightConcurrentClients_AllServedOverAtMostTwoConnections()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("max_conns=2", "queue 64 timeout=30s;"), backend);
        var result = EightClients(proxy, requestsPerClient: 10);

        Assert.That(result.Succeeded, Is.EqualTo(80), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.LessThanOrEqualTo(2));
        Assert.That(proxy.ErrorLog, Does.Not.Contain("queue"));
    }

    [Test]
    public void MaxConns2_WithoutKeepalive_QueuedRequestsOpenInFreedSlots()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("max_conns=2", "keepalive 0; queue 64;"), backend);
        var result = EightClients(proxy, requestsPerClient: 5);

        Assert.That(result.Succeeded, Is.EqualTo(40), result.ToString());
        Assert.That(Wait.Until(() => backend.OpenConnections == 0, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(backend.AcceptedConnections, Is.EqualTo(40), "one connection per request: each queued request opened one in a slot a close freed");
    }

    [Test]
    public void QueuedRequests_AreServedInArrivalOrder()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("max_conns=1", "queue 10;"), backend);
        var first = SendAndWaitInFlight(proxy, Held, 1);
        Assert.That(Wait.Until(() => backend.RequestCount == 1, TimeSpan.FromSeconds(10)), Is.True);
        var queued = Enumerable.Range(1, 4)
            .Select(i => SendAndWaitInFlight(proxy, $"GET /?n={i} HTTP/1.1\r\nHost: localhost\r\n\r\n", 1 + i)).ToArray();
        Assert.That(backend.RequestCount, Is.EqualTo(1), "the others wait in the queue");

        backend.ReleaseHeld();
        Assert.That(first.ReadResponse().Status, Is.EqualTo(200));
        foreach (var c in queued) Assert.That(c.ReadResponse().Status, Is.EqualTo(200));
        Assert.That(backend.Requests.Skip(1).Select(r => r.Target), Is.EqualTo(new[] { "/?n=1", "/?n=2", "/?n=3", "/?n=4" }));
        Assert.That(backend.AcceptedConnections, Is.EqualTo(1), "the released connection went to each waiter in turn");
    }

    [Test]
    public void QueueTimeout_Answers502()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("max_conns=1", "queue 10 timeout=300ms;"), backend);
        var first = SendAndWaitInFlight(proxy, Held, 1);
        using (var c = Connect(proxy))
        {
            var started = DateTime.UtcNow;
            Assert.That(c.Get("/").Status, Is.EqualTo(502));
            Assert.That(DateTime.UtcNow - started, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), "it waited the queue's timeout");
        }
        Assert.That(proxy.WaitForErrorLog("upstream queue timed out while connecting to upstream"), Is.True, proxy.ErrorLog);
        backend.ReleaseHeld();
        Assert.That(first.ReadResponse().Status, Is.EqualTo(200));
    }

    [Test]
    public void QueueFull_Answers502AtOnce()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("max_conns=1", "queue 1;"), backend);
        var first = SendAndWaitInFlight(proxy, Held, 1);
        var second = SendAndWaitInFlight(proxy, "GET /?n=2 HTTP/1.1\r\nHost: localhost\r\n\r\n", 2);
        using (var c = Connect(proxy))
            Assert.That(c.Get("/?n=3").Status, Is.EqualTo(502));
        Assert.That(proxy.WaitForErrorLog("upstream queue is full while connecting to upstream"), Is.True, proxy.ErrorLog);
        backend.ReleaseHeld();
        Assert.That(first.ReadResponse().Status, Is.EqualTo(200));
        Assert.That(second.ReadResponse().Status, Is.EqualTo(200));
    }

    [Test]
    public void AClientThatGoesAway_LeavesTheQueue()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("max_conns=1", "queue 1;"), backend);
        var first = SendAndWaitInFlight(proxy, Held, 1);
        var leaving = SendAndWaitInFlight(proxy, "GET /?n=gone HTTP/1.1\r\nHost: localhost\r\n\r\n", 2);
        leaving.Dispose();
        Assert.That(Wait.Until(() => Writing(proxy) == 1, TimeSpan.FromSeconds(10)), Is.True, "the proxy saw it go");
        var next = SendAndWaitInFlight(proxy, "GET /?n=next HTTP/1.1\r\nHost: localhost\r\n\r\n", 2);
        backend.ReleaseHeld();
        Assert.That(first.ReadResponse().Status, Is.EqualTo(200));
        Assert.That(next.ReadResponse().Status, Is.EqualTo(200), "its place in the queue was free");
        Assert.That(backend.Requests.Select(r => r.Target), Does.Not.Contain("/?n=gone"));
    }
}
