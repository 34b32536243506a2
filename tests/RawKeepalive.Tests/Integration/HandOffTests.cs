using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 15 "Hand-off before eviction": a connection released past keepalive N while a request
/// of the same worker needs one goes to that request; it is not evicted for the request to open a new
/// one. The backend numbers its connections, so the test says which connection carried which request.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class HandOffTests : ProxyTestBase
{
    /// <summary>keepalive 1. Requests A and B hold connections 1 and 2 at the backend. The proxy is stopped
    /// (SIGSTOP, <see cref="ProxyProcess.Pause"/>) while both responses and the requests of two more clients, C and D, reach its sockets, so
    /// that one epoll batch holds all four when it resumes: the releases come first (upstream events lead
    /// each batch), then C and D. Evicting at release closed connection 1 (the pool holds one) and D opened
    /// connection 3; with the hand-off C and D take 2 and 1, no connection is opened, and the one left over
    /// past keepalive 1 is closed afterwards.</summary>
    [Test]
    public void ConnectionsReleasedInABatch_GoToItsRequests_NotEvictedAndOpenedAgain()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.With(upstreamExtra: "keepalive 1;", server: "location = /local { return 204; }"), backend);
        var a = Connect(proxy);
        var b = Connect(proxy);
        a.Send("GET /?hold=1&size=10 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        b.Send("GET /?hold=1&size=10 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(Wait.Until(() => backend.RequestCount == 2, TimeSpan.FromSeconds(10)), Is.True, "A and B reach the backend");
        // C and D are accepted and idle before the stop: their requests are then plain read events.
        var c = Connect(proxy);
        var d = Connect(proxy);
        Assert.That(c.Get("/local").Status, Is.EqualTo(204));
        Assert.That(d.Get("/local").Status, Is.EqualTo(204));

        proxy.Pause();
        try
        {
            backend.ReleaseHeld();
            c.Send("GET /?size=10 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            d.Send("GET /?size=10 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            // All four must wait in the proxy's receive queues before it resumes: send() returning is not
            // enough under load, when the kernel delivers loopback segments late.
            Assert.That(Wait.Until(() => TcpTable.WithUnreadData(backend.Port, backend.PeerPort(1)) == 1 && TcpTable.WithUnreadData(backend.Port, backend.PeerPort(2)) == 1
                    && TcpTable.WithUnreadData(c.LocalPort, proxy.Port) == 1 && TcpTable.WithUnreadData(d.LocalPort, proxy.Port) == 1,
                TimeSpan.FromSeconds(10)), Is.True, "both responses and both requests wait at the stopped proxy");
        }
        finally
        {
            proxy.Resume();
        }

        Assert.That(a.ReadResponse().Status, Is.EqualTo(200));
        Assert.That(b.ReadResponse().Status, Is.EqualTo(200));
        var onC = c.ReadResponse().Get("X-Connection");
        var onD = d.ReadResponse().Get("X-Connection");
        var carried = backend.Requests.Select(r => r.Connection).ToArray();
        TestContext.Out.WriteLine($"measured: requests A, B, C, D on backend connections {string.Join(", ", carried)}; {backend.AcceptedConnections} accepted");
        Assert.Multiple(() =>
        {
            Assert.That(new[] { onC, onD }, Is.EquivalentTo(new[] { "1", "2" }), "C and D took the two connections released in their batch");
            Assert.That(backend.AcceptedConnections, Is.EqualTo(2), "no connection was opened for C or D");
        });
        Assert.That(Wait.Until(() => backend.OpenConnections == 1, TimeSpan.FromSeconds(10)), Is.True,
            $"keepalive 1: the connection left over past the pool is closed after the hand-off window (open: {backend.OpenConnections})");
        Assert.That(backend.ResetsInExchange, Is.Zero);
    }
}
