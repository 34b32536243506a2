using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2 "Timeouts": the client side of keepalive_timeout and keepalive_requests, and
/// client_header_timeout. Waits are bounded conditions; the lower bounds only check that nothing
/// closes early.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class ClientTimeoutTests : ProxyTestBase
{
    private const string Returns = """
        events { worker_connections 1024; }
        http {
            EXTRA
            server {
                listen 127.0.0.1:{PORT};
                location / { return 200 "ok"; }
            }
        }
        """;

    [Test]
    public void ClientKeepaliveTimeout_ClosesAnIdleClientConnection()
    {
        var proxy = StartProxy(Returns.Replace("EXTRA", "keepalive_timeout 1s;"));
        var client = Connect(proxy);
        Assert.That(client.Get("/").Status, Is.EqualTo(200));

        Assert.That(client.IsClosedByPeer(TimeSpan.FromMilliseconds(500)), Is.False, "kept for the timeout");
        Assert.That(Wait.Until(() => client.IsClosedByPeer(TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(10)), Is.True);
    }

    [Test]
    public void ClientKeepaliveRequests_TheLastResponseSaysCloseAndCloses()
    {
        var proxy = StartProxy(Returns.Replace("EXTRA", "keepalive_requests 3;"));
        var client = Connect(proxy);
        Assert.That(client.Get("/").Get("Connection"), Is.EqualTo("keep-alive"));
        Assert.That(client.Get("/").Get("Connection"), Is.EqualTo("keep-alive"));
        var last = client.Get("/");
        Assert.That(last.Get("Connection"), Is.EqualTo("close"));
        Assert.That(Wait.Until(() => client.IsClosedByPeer(TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(10)), Is.True);
    }

    [Test]
    public void ClientHeaderTimeout_ClosesAConnectionWhoseHeadNeverEnds()
    {
        var proxy = StartProxy(Returns.Replace("EXTRA", "client_header_timeout 1s;"));
        var client = Connect(proxy);
        client.SendRaw("GET / HTTP/1.1\r\nHost: x\r\n"u8);

        Assert.That(client.IsClosedByPeer(TimeSpan.FromMilliseconds(500)), Is.False, "waits for the rest of the head");
        Assert.That(Wait.Until(() => client.IsClosedByPeer(TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Connect(proxy).Get("/").Status, Is.EqualTo(200), "the server goes on serving");
    }
}
