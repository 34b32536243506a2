using NUnit.Framework;
using RawKeepalive.Observability;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Proxy;

/// <summary>Structure issue: the log phase is the one place a finished request is recorded, once per
/// request whatever way it ended (proxied, answered here, refused, the client gone first). A real
/// worker loop over loopback; the figures are its counters of responses by status class.</summary>
[TestFixture, CancelAfter(60_000), NonParallelizable]
public sealed class LogPhaseTests : ProxyTestBase
{
    private const string Config = """
        events { worker_connections 64; }
        http {
            upstream app_backend { server 127.0.0.1:BACKEND; }
            server {
                listen 127.0.0.1:PORT;
                location / { proxy_pass http://app_backend; }
                location /moved { return 302 /elsewhere; }
                location /nothing { }
                location /closed { deny all; }
            }
        }
        """;

    private static readonly TimeSpan Settles = TimeSpan.FromSeconds(10);

    [Test]
    public void EveryEndOfAnExchange_IsRecordedOnce_WithItsStatusClass()
    {
        var backend = StartBackend();
        var host = Track(new InProcessWorker(Config, backend.Port));
        var client = Connect(host.Port);

        Assert.Multiple(() =>
        {
            Assert.That(client.Get("/").Status, Is.EqualTo(200));
            Assert.That(client.Get("/?status=204").Status, Is.EqualTo(204));
            Assert.That(client.Get("/moved").Status, Is.EqualTo(302));
            Assert.That(client.Get("/nothing").Status, Is.EqualTo(404));
            Assert.That(client.Get("/closed").Status, Is.EqualTo(403));
            Assert.That(client.Get("/?status=503").Status, Is.EqualTo(503));
        });
        var bad = Connect(host.Port);
        bad.SendRaw("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"u8);
        Assert.That(bad.ReadResponse().Status, Is.EqualTo(400));

        // A client that goes away while its request waits on the upstream: 499, as nginx logs it.
        var gone = Connect(host.Port);
        gone.Send("GET /?hold=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(Wait.Until(() => backend.Requests.Count(r => r.Target.Contains("hold=1")) == 1, Settles), Is.True, "the held request reached the backend");
        gone.Reset();
        backend.ReleaseHeld();

        Assert.That(Wait.Until(() => Totals(host).Responses4xx == 4, Settles), Is.True, $"4xx: {Totals(host).Responses4xx}, expected 404, 403, 400 and 499");
        var t = Totals(host);
        Assert.Multiple(() =>
        {
            Assert.That(t.Responses1xx, Is.EqualTo(0));
            Assert.That(t.Responses2xx, Is.EqualTo(2), "200 and 204");
            Assert.That(t.Responses3xx, Is.EqualTo(1), "the redirect");
            Assert.That(t.Responses5xx, Is.EqualTo(1), "the upstream's 503");
            Assert.That(t.Requests, Is.EqualTo(t.Responses2xx + t.Responses3xx + t.Responses4xx + t.Responses5xx), "every request recorded exactly once");
        });
    }

    private static SharedCounters.Totals Totals(InProcessWorker host) => host.Worker.Segment.Sum();
}
