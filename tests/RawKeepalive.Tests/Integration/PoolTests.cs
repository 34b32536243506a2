using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2 "The idle upstream pool": at most N idle connections kept (the least recently used
/// closed), keepalive_time, and LIFO reuse; issue 12: one cache per upstream, whose `local` entries
/// only their own location takes back.
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

    /// <summary>One upstream with <paramref name="keepalive"/>, proxied to by a location per path.</summary>
    private static string Locations(string keepalive, params string[] paths) => $$"""
        events { worker_connections 1024; }
        http {
            upstream app_backend { server 127.0.0.1:{BACKEND}; {{keepalive}} }
            server {
                listen 127.0.0.1:{PORT};
                {{string.Concat(paths.Select(p => $"location {p} {{ proxy_pass http://app_backend; }}\n"))}}
            }
        }
        """;

    [TestCase("", ExpectedResult = new[] { "1", "2", "1", "2" }, TestName = "ImplicitKeepalive32Local_EachLocationTakesBackOnlyItsOwnConnections")]
    [TestCase("keepalive 32;", ExpectedResult = new[] { "1", "1", "1", "1" }, TestName = "KeepaliveWithoutLocal_LocationsShareThePool")]
    public string[] ConnectionsPerLocation(string keepalive)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Locations(keepalive, "/a", "/b"), backend);
        var client = Connect(proxy);
        return new[] { "/a", "/b", "/a", "/b" }.Select(p => client.Get(p).Get("X-Connection")!).ToArray();
    }

    /// <summary>Issue 12: nginx 1.29.7 keeps one cache of at most N idle connections per upstream and worker;
    /// <c>local</c> tags each entry with its location and a lookup takes only its own tag. Load on three
    /// locations at once needs more than two connections; afterwards two stay open in all (not two per
    /// location), and the backend's connection numbers tell which location each carried.</summary>
    [TestCase("keepalive 2 local;", true, TestName = "KeepaliveLocal_OneCacheOfNPerUpstream_EachLocationReusesOnlyItsOwn")]
    [TestCase("keepalive 2;", false, TestName = "KeepaliveWithoutLocal_OneCacheOfNPerUpstream_LocationsShareIt")]
    public void OneCachePerUpstream(string keepalive, bool local)
    {
        const int clientsPerLocation = 4, requestsPerClient = 10;
        var backend = StartBackend();
        var proxy = StartProxy(Locations(keepalive, "/a", "/b", "/c"), backend);
        static string LocationOf(int client) => "/" + "abc"[client % 3];
        var result = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 3 * clientsPerLocation,
            RequestsPerClient = requestsPerClient,
            Request = i => LoadRequest.Get($"{LocationOf(i / requestsPerClient)}?size=10&delay=20", TestBackend.Body(10)),
            Deadline = TimeSpan.FromSeconds(60),
        }.Run(Cancellation);

        Assert.That(result.Succeeded, Is.EqualTo(3 * clientsPerLocation * requestsPerClient), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.GreaterThan(2), "the load needed more than the cache holds");
        Assert.That(Wait.Until(() => backend.OpenConnections <= 2, TimeSpan.FromSeconds(10)), Is.True,
            $"keepalive 2 keeps two idle connections for the upstream, whatever the locations (open: {backend.OpenConnections})");
        Assert.That(Wait.HoldsFor(() => backend.OpenConnections == 2, TimeSpan.FromMilliseconds(500)), Is.True,
            $"two stay open (open: {backend.OpenConnections})");
        var mixed = backend.Requests.GroupBy(r => r.Connection).Where(g => g.Select(r => r.Path).Distinct().Count() > 1).Select(g => g.Key).ToArray();
        if (local)
            Assert.That(mixed, Is.Empty, "upstream connections that carried requests of more than one location");

        // One client after the load: the most recently released connection, whichever location released it.
        var client = Connect(proxy);
        var numbers = new[] { "/a", "/b", "/c" }.Select(p => client.Get(p).HeaderInt("X-Connection")).ToArray();
        TestContext.Out.WriteLine($"measured: {backend.AcceptedConnections} connections under load, {mixed.Length} carried several locations; then /a /b /c on {string.Join(" ", numbers)}");
        if (local)
            Assert.That(numbers.Distinct().Count(), Is.EqualTo(3), "each location takes only a connection it released itself");
        else
            Assert.That(numbers.Distinct().Count(), Is.EqualTo(1), "the locations share the upstream's connections");
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
