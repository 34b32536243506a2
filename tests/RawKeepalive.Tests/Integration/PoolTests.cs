using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2 "The idle upstream pool": at most N idle connections kept (the least recently used
/// closed), `local` pools per location, keepalive_time, and LIFO reuse.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class PoolTests : ProxyTestBase
{
    [Test]
    public void AfterABurst_AtMostKeepaliveIdleConnectionsStayOpen()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.With(upstreamExtra: "keepalive 2;"), backend);
        var result = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 16,
            RequestsPerClient = 10,
            Request = _ => LoadRequest.Get("/?size=10&delay=20", TestBackend.Body(10)),
            Deadline = TimeSpan.FromSeconds(60),
        }.Run(Cancellation);

        Assert.That(result.Succeeded, Is.EqualTo(160), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.GreaterThan(2), "the burst needed more than the idle cache holds");
        Assert.That(Wait.Until(() => backend.OpenConnections == 2, TimeSpan.FromSeconds(10)), Is.True,
            $"keepalive 2 keeps two idle connections, closes the rest (open: {backend.OpenConnections})");
        Assert.That(Wait.HoldsFor(() => backend.OpenConnections == 2, TimeSpan.FromMilliseconds(500)), Is.True);
    }

    private const string TwoLocations = """
        events { worker_connections 1024; }
        http {
            upstream app_backend { server 127.0.0.1:{BACKEND}; KEEPALIVE }
            server {
                listen 127.0.0.1:{PORT};
                location /a { proxy_pass http://app_backend; }
                location /b { proxy_pass http://app_backend; }
            }
        }
        """;

    [TestCase("", ExpectedResult = new[] { "1", "2", "1", "2" }, TestName = "ImplicitKeepalive32Local_EachLocationHasItsOwnPool")]
    [TestCase("keepalive 32;", ExpectedResult = new[] { "1", "1", "1", "1" }, TestName = "KeepaliveWithoutLocal_LocationsShareThePool")]
    public string[] PoolPerLocation(string keepalive)
    {
        var backend = StartBackend();
        var proxy = StartProxy(TwoLocations.Replace("KEEPALIVE", keepalive), backend);
        var client = Connect(proxy);
        return new[] { "/a", "/b", "/a", "/b" }.Select(p => client.Get(p).Get("X-Connection")!).ToArray();
    }

    [Test]
    public void KeepaliveTime_RetiresAConnectionThatHasLivedTooLong()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive("keepalive_time 2s;"), backend);
        var client = Connect(proxy);

        // Only the first exchange must end within keepalive_time of the connection's birth (it is pooled young),
        // and 2 s leave a stalled machine ample room for one loopback exchange.
        Assert.That(client.Get("/").Get("X-Connection"), Is.EqualTo("1"));
        // The connection was born before that answer arrived, so after this sleep it is older than keepalive_time
        // whatever the scheduler does (a longer sleep changes nothing). The connection's age is the test's subject.
        Thread.Sleep(TimeSpan.FromSeconds(2.1));
        Assert.That(client.Get("/").Get("X-Connection"), Is.EqualTo("1"), "the exchange that crosses keepalive_time still runs on it");
        Assert.That(client.Get("/").Get("X-Connection"), Is.EqualTo("2"), "but it is then closed, not pooled");
    }

    [Test]
    public void Reuse_IsMostRecentlyUsedFirst()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var c1 = Connect(proxy);
        var c2 = Connect(proxy);
        // Two concurrent exchanges open two upstream connections: the first is held at the backend until the
        // second has been answered.
        c1.Send("GET /?size=1&hold=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(Wait.Until(() => backend.RequestCount == 1, TimeSpan.FromSeconds(10)), Is.True);
        var second = c2.Get("/?size=1");
        backend.ReleaseHeld();
        var first = c1.ReadResponse();
        Assert.That((first.Get("X-Connection"), second.Get("X-Connection")), Is.EqualTo(("1", "2")));
        // Connection 1 went idle last, so it is taken first, every time.
        for (int i = 0; i < 5; i++) Assert.That(c2.Get("/").Get("X-Connection"), Is.EqualTo("1"));
    }
}
