using System.Diagnostics;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2 "Timeouts": the client side of keepalive_timeout and keepalive_requests, and
/// client_header_timeout. Waits are bounded conditions; the lower bounds only check that nothing
/// closes early, measured from a moment before the timer can have started, so a stalled test thread
/// can make them see a close later, never sooner.
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

    /// <summary>Timers run late by up to a tick, never early; this allows for the loop's cached clock.</summary>
    private static readonly TimeSpan AtLeast = TimeSpan.FromMilliseconds(900);

    [Test]
    public void ClientKeepaliveTimeout_ClosesAnIdleClientConnection()
    {
        var proxy = StartProxy(Returns.Replace("EXTRA", "keepalive_timeout 1s;"));
        var client = Connect(proxy);
        var sent = Stopwatch.StartNew();   // the idle timer starts once this request is answered
        Assert.That(client.Get("/").Status, Is.EqualTo(200));

        Assert.That(Wait.Until(() => client.IsClosedByPeer(TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(sent.Elapsed, Is.GreaterThanOrEqualTo(AtLeast), "kept for the timeout");
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
        var connected = Stopwatch.StartNew();   // the header timer starts once the connection is accepted
        var client = Connect(proxy);
        client.SendRaw("GET / HTTP/1.1\r\nHost: x\r\n"u8);

        Assert.That(Wait.Until(() => client.IsClosedByPeer(TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(connected.Elapsed, Is.GreaterThanOrEqualTo(AtLeast), "waits for the rest of the head for the timeout");
        Assert.That(Connect(proxy).Get("/").Status, Is.EqualTo(200), "the server goes on serving");
    }
}
