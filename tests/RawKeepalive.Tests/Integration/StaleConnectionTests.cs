using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// The stale pooled connection, made deterministic: the backend reads a request that arrives on a
/// reused connection and resets it without answering, as a server does whose idle close crossed the
/// request on the wire. Idempotent requests are replayed once on a fresh connection; others get 502
/// as in nginx unless proxy_next_upstream non_idempotent.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class StaleConnectionTests : ProxyTestBase
{
    [Test]
    public void GetOnAConnectionResetByTheUpstream_IsRetriedOnAFreshConnection()
    {
        var backend = StartBackend();
        backend.ResetReusedConnections = true;
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var client = Connect(proxy);

        for (int i = 0; i < 20; i++)
        {
            var r = client.Get($"/?size={i}");
            Assert.That(r.Status, Is.EqualTo(200), $"request {i}");
            Assert.That(r.Body, Is.EqualTo(TestBackend.Body(i)));
        }
        Assert.That(backend.ResetOnReuse, Is.EqualTo(19), "every request after the first met a stale pooled connection");
        Assert.That(backend.AcceptedConnections, Is.EqualTo(20), "each later request: the pooled connection is reset, a fresh one serves it and is pooled");
    }

    [Test]
    public void PostOnAConnectionResetByTheUpstream_Is502AndNotReplayed()
    {
        var backend = StartBackend();
        backend.ResetReusedConnections = true;
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var client = Connect(proxy);

        Assert.That(client.Post("/echo", TestBackend.Body(10)).Status, Is.EqualTo(200));
        Assert.That(client.Post("/echo", TestBackend.Body(10)).Status, Is.EqualTo(502));
        Assert.That(backend.ResetOnReuse, Is.EqualTo(1));
        Assert.That(backend.AcceptedConnections, Is.EqualTo(1), "a non-idempotent request is never replayed");
    }

    [Test]
    public void PostWithNonIdempotentRetry_IsReplayedOnAFreshConnection()
    {
        var backend = StartBackend();
        backend.ResetReusedConnections = true;
        var proxy = StartProxy(Configs.Keepalive(locationExtra: "proxy_next_upstream error timeout non_idempotent;"), backend);
        var client = Connect(proxy);

        Assert.That(client.Post("/echo", TestBackend.Body(10)).Status, Is.EqualTo(200));
        var second = client.Post("/echo", TestBackend.Body(100));
        Assert.That(second.Status, Is.EqualTo(200));
        Assert.That(second.Body, Is.EqualTo(TestBackend.Body(100)));
        Assert.That(backend.AcceptedConnections, Is.EqualTo(2));
    }
}
