using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2 "Forwarding" and "Upstream servers": nginx's URI replacement, a chunked body to an
/// HTTP/1.0 upstream, a 101 from the upstream, round robin across servers.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class ForwardingTests : ProxyTestBase
{
    private const string UriReplacement = """
        events { worker_connections 1024; }
        http {
            upstream app_backend { server 127.0.0.1:{BACKEND}; }
            server {
                listen 127.0.0.1:{PORT};
                location /api/ { proxy_pass http://app_backend/v2/; }
                location /raw/ { proxy_pass http://app_backend; }
            }
        }
        """;

    [Test]
    public void ProxyPassWithUri_ReplacesTheMatchedPrefix_WithoutUri_PassesTheTargetUnchanged()
    {
        var backend = StartBackend();
        var proxy = StartProxy(UriReplacement, backend);
        var client = Connect(proxy);

        Assert.That(client.Get("/api/users/7?size=3&x=y").Status, Is.EqualTo(200));
        Assert.That(client.Get("/raw/a/b?size=2").Status, Is.EqualTo(200));
        Assert.That(client.Get("/api/").Status, Is.EqualTo(200));

        var targets = backend.Requests.Select(r => r.Target).ToArray();
        Assert.That(targets, Is.EqualTo(new[] { "/v2/users/7?size=3&x=y", "/raw/a/b?size=2", "/v2/" }));
    }

    [Test]
    public void ChunkedUploadToAnHttp10Upstream_IsSentWholeWithContentLength()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.With(locationExtra: "proxy_http_version 1.0;"), backend);
        var client = Connect(proxy);
        var body = TestBackend.Body(200_000);

        var r = client.Post("/echo", body, chunked: true);

        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Body, Is.EqualTo(body));
        var seen = backend.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(seen.Version, Is.EqualTo("HTTP/1.0"));
            Assert.That(seen.BodyChunked, Is.False);
            Assert.That(seen.Get("Content-Length"), Is.EqualTo("200000"));
            Assert.That(seen.Get("Transfer-Encoding"), Is.Null);
        });
    }

    [Test]
    public void ChunkedUploadToAnHttp11Upstream_IsForwardedChunked()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var client = Connect(proxy);
        var body = TestBackend.Body(100_000);

        var r = client.Post("/echo", body, chunked: true);

        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Body, Is.EqualTo(body));
        Assert.That(backend.Requests.Single().BodyChunked, Is.True);
    }

    [Test]
    public void SwitchingProtocolsFromTheUpstream_Is502_AndThatConnectionIsNotPooled()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var client = Connect(proxy);

        Assert.That(client.Get("/?status=101").Status, Is.EqualTo(502));
        var next = Connect(proxy).Get("/?size=5");
        Assert.That(next.Status, Is.EqualTo(200));
        Assert.That(next.Get("X-Connection"), Is.EqualTo("2"), "the connection that answered 101 was closed");
        Assert.That(proxy.WaitForErrorLog("upstream sent 101 Switching Protocols"), Is.True, "the error log names the 101:\n" + proxy.ErrorLog);
    }

    [Test]
    public void TwoServers_AreUsedRoundRobin()
    {
        var a = StartBackend();
        var b = StartBackend();
        var proxy = StartProxy(Configs.With(upstreamExtra: "keepalive 0;", servers: "server 127.0.0.1:{BACKEND}; server 127.0.0.1:{BACKEND2};"), a, b);
        var client = Connect(proxy);

        for (int i = 0; i < 100; i++) Assert.That(client.Get("/?size=1").Status, Is.EqualTo(200));

        Assert.That((a.RequestCount, b.RequestCount), Is.EqualTo((50, 50)));
    }
}
