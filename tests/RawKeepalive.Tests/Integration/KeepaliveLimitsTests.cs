using System.Collections.Concurrent;
using System.Diagnostics;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2, "Must show" 3: keepalive_requests retires connections, keepalive_timeout closes idle ones,
/// and a backend that closes idle connections first causes no 502 (the stale-connection race).
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(180_000)]
public sealed class KeepaliveLimitsTests : ProxyTestBase
{
    [Test]
    public void KeepaliveRequests100_OpensANewUpstreamConnectionEvery100Requests()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive("keepalive_requests 100;"), backend);
        var seen = new ConcurrentDictionary<int, (int Connection, int Request)>();
        var result = new LoadRunner
        {
            Port = proxy.Port,
            RequestsPerClient = 1000,
            Request = _ => LoadRequest.Get("/?size=10", TestBackend.Body(10)),
            OnResponse = (i, r) => seen[i] = (r.HeaderInt("X-Connection"), r.HeaderInt("X-Request")),
            Deadline = TimeSpan.FromSeconds(120),
        }.Run(Cancellation);

        Assert.That(result.Succeeded, Is.EqualTo(1000), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.EqualTo(10));
        var expected = Enumerable.Range(0, 1000).Select(i => (i / 100 + 1, i % 100 + 1));
        Assert.That(Enumerable.Range(0, 1000).Select(i => seen[i]), Is.EqualTo(expected), "(X-Connection, X-Request) per request");
    }

    [Test]
    public void KeepaliveTimeout1s_ClosesIdleUpstreamConnections()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive("keepalive_timeout 1s;"), backend);
        var client = Connect(proxy);

        Assert.That(client.Get("/").Get("X-Connection"), Is.EqualTo("1"));
        var sent = Stopwatch.StartNew();   // the connection goes idle once this request is answered, not before
        var reused = client.Get("/");
        Assert.That((reused.Get("X-Connection"), reused.Get("X-Request")), Is.EqualTo(("1", "2")), "reused within the timeout");

        Assert.That(Wait.Until(() => backend.OpenConnections == 0, TimeSpan.FromSeconds(10)), Is.True,
            "the idle upstream connection must be closed about a second after it went idle");
        // Measured from before the timer can have started, so a stalled test thread only makes this longer.
        Assert.That(sent.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900)),
            "the idle upstream connection must stay open for the timeout (timers run late by a tick, never early)");

        var after = client.Get("/");
        Assert.That(after.Status, Is.EqualTo(200));
        Assert.That((after.Get("X-Connection"), after.Get("X-Request")), Is.EqualTo(("2", "1")), "a new upstream connection after the timeout");
        Assert.That(backend.AcceptedConnections, Is.EqualTo(2));
    }

    [Test]
    public void BackendClosesIdleFirst_StaleConnectionRace_NoBadGateway()
    {
        var backend = StartBackend(idleTimeout: TimeSpan.FromMilliseconds(500));
        var proxy = StartProxy(Configs.Keepalive("keepalive_timeout 65s;"), backend);
        var result = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 20,
            RequestsPerClient = 100,
            Request = i => LoadRequest.Get($"/?size={i % 1000}", TestBackend.Body(i % 1000)),
            ThinkTime = (client, j) => TimeSpan.FromMilliseconds(400 + new Random(client * 1000 + j).Next(201)),
            Deadline = TimeSpan.FromSeconds(75),
        }.Run(Cancellation);

        Assert.Multiple(() =>
        {
            Assert.That(result.Status(502), Is.Zero, result.ToString());
            Assert.That(result.Failed, Is.Zero, result.ToString());
            Assert.That(result.Succeeded, Is.GreaterThanOrEqualTo(1500), "enough requests ran to hit the race: " + result);
            // LIFO reuse keeps the hot connection hot, so the race is rare but the condition is real:
            // the backend did close pooled connections behind the proxy's back.
            Assert.That(backend.IdleClosed, Is.GreaterThan(0), "the backend closed idle pooled connections");
        });
    }
}
