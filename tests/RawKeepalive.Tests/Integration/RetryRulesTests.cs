using NUnit.Framework;
using RawKeepalive.Observability;
using RawKeepalive.Tests.Support;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Pool issue, retry rules: a fresh connection closed before any response byte moves on to the next
/// peer (idempotent requests, or any with proxy_next_upstream non_idempotent); once a 1xx has come
/// the exchange has begun and is never replayed; a client that goes away while its request waits
/// on the upstream has the upstream connection closed (never pooled) and is recorded as 499.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class RetryRulesTests : ProxyTestBase
{
    private const string Ok = "HTTP/1.1 200 OK\r\nX-Connection: {CONN}\r\nContent-Length: 2\r\n\r\nok";
    private static readonly TimeSpan Settles = TimeSpan.FromSeconds(10);

    private static string TwoPeers(string nextUpstream) => $$"""
        events { worker_connections 64; }
        http {
            upstream app_backend { server 127.0.0.1:{BACKEND}; server 127.0.0.1:{BACKEND2}; }
            server {
                listen 127.0.0.1:{PORT};
                location / { proxy_pass http://app_backend; {{nextUpstream}} }
            }
        }
        """;

    /// <summary>The first peer closes each new connection as soon as a request head arrives, before a
    /// byte of any response; the second answers. The first request of a fresh proxy goes to the first peer.</summary>
    [TestCase("GET", "", 200, 2, TestName = "FreshConnectionClosedEarly_Get_MovesToTheNextPeer")]
    [TestCase("POST", "", 502, 1, TestName = "FreshConnectionClosedEarly_Post_IsNotReplayed")]
    [TestCase("POST", "proxy_next_upstream error non_idempotent;", 200, 2, TestName = "FreshConnectionClosedEarly_PostWithNonIdempotent_MovesToTheNextPeer")]
    public void FreshConnectionClosedBeforeAnyByte(string method, string nextUpstream, int status, int tries)
    {
        var closer = Track(new ScriptedBackend(_ => null));
        var answerer = Track(new ScriptedBackend(_ => Ok));
        var proxy = StartProxy(TwoPeers(nextUpstream), closer.Port, answerer.Port);
        var client = Connect(proxy);
        var r = method == "GET" ? client.Get("/a") : client.Post("/a", "hi"u8.ToArray());

        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(status));
            Assert.That(closer.Requests.Count + answerer.Requests.Count, Is.EqualTo(tries), "requests the peers saw");
            Assert.That(closer.Requests, Has.Count.EqualTo(1), "the closing peer saw the request once");
        });
        Assert.That(proxy.WaitForErrorLog("upstream prematurely closed connection while reading response header from upstream", Settles), Is.True, proxy.ErrorLog);
    }

    /// <summary>The second request goes out on the pooled connection; the upstream answers it with a
    /// 103, then resets. The exchange has begun (a response is on its way): the request is not replayed
    /// as if the connection had been stale, and the client gets 502.</summary>
    [Test]
    public void InterimResponseThenReset_IsNeverReplayed()
    {
        var backend = Track(new ScriptedBackend(path => path == "/hint"
            ? "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + ScriptedBackend.Reset
            : Ok));
        var proxy = StartProxy(Configs.Keepalive(), backend.Port);
        var client = Connect(proxy);
        Assert.That(client.Get("/first").Get("X-Connection"), Is.EqualTo("1"));
        var r = client.Get("/hint");

        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(502));
            Assert.That(backend.Requests.Count(q => q.Path == "/hint"), Is.EqualTo(1), "the backend saw the request once: " + string.Join(", ", backend.Requests));
            Assert.That(backend.AcceptedConnections, Is.EqualTo(1), "no new connection was opened to replay it");
        });
    }

    /// <summary>The client resets its connection while its request is held by the backend: the proxy
    /// notices at once, closes the upstream connection (counted as an error mid-exchange, not pooled)
    /// and records 499, while the backend still holds the request.</summary>
    [Test]
    public void ClientGoneWhileWaiting_ClosesTheUpstreamConnection_AndRecords499()
    {
        var backend = StartBackend();
        var host = Track(new InProcessWorker($$"""
            events { worker_connections 64; }
            http {
                upstream app_backend { server 127.0.0.1:BACKEND; }
                server { listen 127.0.0.1:PORT; location / { proxy_pass http://app_backend; } }
            }
            """, backend.Port));
        var client = Connect(host.Port);
        client.Send("GET /?hold=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(Wait.Until(() => backend.RequestCount == 1, Settles), Is.True, "the request reached the backend");
        client.Reset();

        var stats = host.Groups.Single().Stats;
        bool closed = Wait.Until(() => stats.Closed(UpstreamCloseReason.ErrorMidExchange) == 1, Settles);
        long recorded = host.Worker.Segment.Sum().Responses4xx;
        backend.ReleaseHeld();
        Assert.Multiple(() =>
        {
            Assert.That(closed, Is.True, "the upstream connection was closed while the backend still held the request");
            Assert.That(recorded, Is.EqualTo(1), "recorded as 499");
            Assert.That(stats.Reused, Is.Zero);
        });
    }
}
