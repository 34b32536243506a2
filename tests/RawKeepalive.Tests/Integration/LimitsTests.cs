using System.Text;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 5 "Limits": large_client_header_buffers (414/431), client_max_body_size (413, also for a
/// chunked body), worker_connections exhaustion (idle keepalive clients make room; otherwise the
/// backlog holds new connections), and lingering close after an error response.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class LimitsTests : ProxyTestBase
{
    private static string Proxying(string http = "", string events = "worker_connections 1024;") => $$"""
        events { {{events}} }
        http {
            {{http}}
            upstream app_backend { server 127.0.0.1:{BACKEND}; }
            server {
                listen 127.0.0.1:{PORT};
                location / { proxy_pass http://app_backend; }
            }
        }
        """;

    [TestCase(8192, 414, TestName = "ARequestLineLongerThanALargeBuffer_Is414")]
    [TestCase(0, 431, TestName = "AHeaderLineLongerThanALargeBuffer_Is431")]
    public void LongLines(int pathLength, int expected)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Proxying(), backend);
        var client = Connect(proxy);
        string path = "/" + new string('a', pathLength);
        string header = pathLength == 0 ? $"Cookie: {new string('c', 8200)}\r\n" : "";
        client.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n{header}\r\n");

        Assert.That(client.ReadResponse().Status, Is.EqualTo(expected));
        Assert.That(Wait.Until(() => client.IsClosedByPeer(TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(backend.RequestCount, Is.Zero);
    }

    /// <summary>The body that arrives in the same read as the head is no header line, however long.</summary>
    [Test]
    public void ABodyArrivingWithItsHead_IsNotMistakenForALongLine()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Proxying(), backend);
        var client = Connect(proxy);
        var body = new byte[12_000];   // no line break in it, longer than a large buffer (8k)
        client.Send($"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n", body);
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Body, Is.EqualTo(body));
    }

    [Test]
    public void SmallerLargeBuffers_AreHonoured()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Proxying("large_client_header_buffers 4 1k;"), backend);
        var client = Connect(proxy);
        client.Send($"GET / HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 1100)}\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(431));
        Assert.That(Connect(proxy).Get($"/?size=3&pad={new string('p', 900)}").Status, Is.EqualTo(200), "a line under the limit passes");
    }

    [TestCase(false, TestName = "ContentLengthOverClientMaxBodySize_Is413BeforeTheBodyIsRead")]
    [TestCase(true, TestName = "ChunkedBodyOverClientMaxBodySize_Is413")]
    public void BodyTooLarge(bool chunked)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Proxying("client_max_body_size 10k;"), backend);
        var client = Connect(proxy);

        var response = client.Post("/echo", TestBackend.Body(50_000), chunked);

        Assert.That(response.Status, Is.EqualTo(413), "the response arrives whole: the close lingers instead of resetting");
        Assert.That(Wait.Until(() => client.IsClosedByPeer(TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(15)), Is.True);
        Assert.That(Connect(proxy).Post("/echo", TestBackend.Body(5_000), chunked).Status, Is.EqualTo(200), "under the limit passes");
    }

    [Test]
    public void WorkerConnectionsExhausted_IdleKeepaliveClientsAreClosedToMakeRoom()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Proxying(events: "worker_connections 16;"), backend);
        var idle = new List<RawHttpClient>();
        for (int i = 0; i < 12; i++)
        {
            var c = Connect(proxy);
            Assert.That(c.Get("/?size=1").Status, Is.EqualTo(200));
            idle.Add(c);
        }
        // 12 idle clients + 1 pooled upstream connection: new clients need the idle ones' slots.
        for (int i = 0; i < 10; i++)
            Assert.That(Connect(proxy).Get("/?size=2").Status, Is.EqualTo(200), $"new client {i}");
        Assert.That(idle.Count(c => c.IsClosedByPeer(TimeSpan.FromMilliseconds(50))), Is.GreaterThan(0), "idle clients were closed");
        Assert.That(proxy.ErrorLog, Does.Contain("worker_connections are not enough, reusing connections"));
    }

    [Test]
    public void WorkerConnectionsExhaustedByBusyClients_NewConnectionsWaitInTheBacklog()
    {
        // A fixed response needs no upstream slot, so all eight slots can be clients.
        var proxy = StartProxy("""
            events { worker_connections 8; }
            http { server { listen 127.0.0.1:{PORT}; location / { return 200 "served"; } } }
            """);
        var busy = new List<RawHttpClient>();
        for (int i = 0; i < 8; i++)
        {
            var c = Connect(proxy);
            c.Send("GET / HTTP/1.1\r\n");   // half a head: the slot is in use, not idle
            busy.Add(c);
        }
        var waiting = Connect(proxy);
        waiting.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(waiting.IsClosedByPeer(TimeSpan.FromMilliseconds(300)), Is.False, "not refused, not closed: queued");

        busy[0].Send("Host: x\r\nConnection: close\r\n\r\n");
        Assert.That(busy[0].ReadResponse().Status, Is.EqualTo(200));
        var served = waiting.ReadResponse();
        Assert.That(served.Status, Is.EqualTo(200), "served once a slot freed");
        Assert.That(served.Body, Is.EqualTo("served"u8.ToArray()));
        for (int i = 1; i < 8; i++)
        {
            busy[i].Send("Host: x\r\n\r\n");
            Assert.That(busy[i].ReadResponse().Status, Is.EqualTo(200), $"busy client {i} was never disturbed");
        }
    }
}
