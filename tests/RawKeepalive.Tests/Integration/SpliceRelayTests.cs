using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Long Content-Length response bodies go upstream → pipe → client with splice() (issue 6,
/// zero-copy). What must hold: every byte arrives, with more large responses in flight than the
/// worker has pipes (the rest relay through their buffers); a client that resets mid-body costs the
/// proxy nothing (splice into a socket has no MSG_NOSIGNAL); and the upstream connection is pooled
/// after a spliced body, in step for the next response.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(240_000)]
public sealed class SpliceRelayTests : ProxyTestBase
{
    [Test]
    public void ManyConcurrentLargeBodies_ArriveWhole()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        int[] sizes = [40_000, 300_000, 1_000_000, 2_500_000];
        var result = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 24,   // more than the worker's 16 pipes
            RequestsPerClient = 8,
            Request = i => LoadRequest.Get($"/?size={sizes[i % sizes.Length]}", TestBackend.Body(sizes[i % sizes.Length])),
            Deadline = TimeSpan.FromSeconds(180),
        }.Run(Cancellation);
        Assert.That(result.Succeeded, Is.EqualTo(result.Planned), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.LessThanOrEqualTo(24), "upstream connections were pooled after spliced bodies");
    }

    [Test]
    public void ClientResetMidBody_TheProxyCarriesOn()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        for (int i = 0; i < 5; i++)
        {
            var client = Connect(proxy);
            client.Send("GET /?size=8000000 HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.WaitReadable(TimeSpan.FromSeconds(30)), Is.True, "the response started");
            client.Reset();
        }
        var next = Connect(proxy).Get("/?size=500000");
        Assert.That(next.Status, Is.EqualTo(200));
        Assert.That(next.Body, Is.EqualTo(TestBackend.Body(500_000)));
        Assert.That(proxy.HasExited, Is.False);
    }

    [Test]
    public void SplicedBodiesBackToBack_OnOneKeptConnection()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var client = Connect(proxy);
        for (int i = 0; i < 6; i++)
        {
            int size = i % 2 == 0 ? 700_000 : 10;
            var r = client.Get($"/?size={size}");
            Assert.That(r.Body, Is.EqualTo(TestBackend.Body(size)), $"response {i}");
            Assert.That(r.Get("X-Connection"), Is.EqualTo("1"), "one upstream connection, kept in step");
        }
    }
}
