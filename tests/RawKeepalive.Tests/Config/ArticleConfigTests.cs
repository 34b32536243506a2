using NUnit.Framework;
using static RawKeepalive.Tests.Config.ConfigText;

namespace RawKeepalive.Tests.Config;

/// <summary>The configs from reference/nginx-upstream-keepalive-article.txt, wrapped in events{} and http{}
/// (the article shows only the http-level parts).</summary>
[TestFixture, CancelAfter(60_000)]
public class ArticleConfigTests
{
    private const string ProductionConfig = """
        upstream app_backend {
        server 127.0.0.1:8080;
        # Maximum number of idle keepalive connections per worker process.
        # These are kept open and reused for new requests.
        # Rule of thumb: (expected_rps / worker_processes) * 0.5
        keepalive 64;
        # Number of requests served through one keepalive connection
        # before it is closed and recycled. Prevents memory leaks in
        # long-running upstream connections.
        keepalive_requests 1000;
        # How long an idle keepalive connection is kept open.
        # Should be slightly less than the upstream's own keepalive timeout
        # to avoid race conditions where NGINX sends on a connection
        # the upstream has already decided to close.
        keepalive_timeout 65s;
        }
        server {
        listen 443 ssl http2;
        server_name api.example.com;
        location /api/ {
        proxy_pass http://app_backend;
        # REQUIRED: Use HTTP/1.1 — keepalive does not work with HTTP/1.0
        proxy_http_version 1.1;
        # REQUIRED: Clear the Connection header so it is not forwarded
        # to the upstream. Forwarding "Connection: close" would
        # immediately close the keepalive connection.
        proxy_set_header Connection "";
        # Standard proxy headers
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        # Timeouts — tighten from the 60s defaults
        proxy_connect_timeout 5s;
        proxy_send_timeout 30s;
        proxy_read_timeout 30s;
        }
        }
        """;

    private const string TlDrConfig = """
        upstream your_backend {
        server 127.0.0.1:8080;
        keepalive 64;
        keepalive_requests 1000;
        keepalive_timeout 65s;
        }
        server {
        listen 127.0.0.1:8080;
        location / {
        proxy_pass http://your_backend;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        }
        }
        """;

    [Test]
    public void ProductionConfigLoadsWithPlainListen()
    {
        var config = LoadHttp(ProductionConfig.Replace("listen 443 ssl http2;", "listen 80;"));
        var upstream = config.Http.Upstreams.Single();
        Assert.That(upstream.Name, Is.EqualTo("app_backend"));
        Assert.That(upstream.Keepalive, Is.EqualTo(64));
        Assert.That(upstream.KeepaliveLocal, Is.False);
        Assert.That(upstream.KeepaliveRequests, Is.EqualTo(1000));
        Assert.That(upstream.KeepaliveTimeoutMs, Is.EqualTo(65_000));
        Assert.That(upstream.Servers.Single().Addresses.Single().ToString(), Is.EqualTo("127.0.0.1:8080"));

        var server = config.Http.Servers.Single();
        Assert.That(server.Listens.Single().EndPoint.ToString(), Is.EqualTo("0.0.0.0:80"));
        Assert.That(server.ServerNames, Is.EqualTo(new[] { "api.example.com" }));

        var location = server.Locations.Single();
        Assert.That(location.Path, Is.EqualTo("/api/"));
        Assert.That(location.ProxyPass!.Upstream, Is.SameAs(upstream));
        Assert.That(location.ProxyPass.Uri, Is.Null);
        Assert.That(location.Proxy.HttpVersionMinor, Is.EqualTo(1));
        Assert.That(location.Proxy.SetHeaders.Select(h => h.Name + ": " + h.Value.Source), Is.EqualTo(new[]
        {
            "Connection: ", "Host: $host", "X-Real-IP: $remote_addr", "X-Forwarded-For: $proxy_add_x_forwarded_for",
            "X-Forwarded-Proto: $scheme",
        }));
        Assert.That(location.Proxy.SetHeaders[0].Value.IsEmptyLiteral, Is.True);
        Assert.That(location.Proxy.ConnectTimeoutMs, Is.EqualTo(5_000));
        Assert.That(location.Proxy.SendTimeoutMs, Is.EqualTo(30_000));
        Assert.That(location.Proxy.ReadTimeoutMs, Is.EqualTo(30_000));
    }

    [Test]
    public void ProductionConfigAsWrittenFailsAtTheListenLine()
    {
        string text = WrapHttp(ProductionConfig);
        int line = Array.IndexOf(text.Split('\n'), "listen 443 ssl http2;") + 1;
        Assert.That(line, Is.EqualTo(20));
        Assert.That(ErrorOf(text), Is.EqualTo($"the \"ssl\" parameter of the \"listen\" directive is not supported yet in t.conf:{line}"));
    }

    [Test]
    public void TlDrConfigLoads()
    {
        var location = OnlyLocation(LoadHttp(TlDrConfig));
        Assert.That(location.ProxyPass!.Upstream.Keepalive, Is.EqualTo(64));
        Assert.That(location.Proxy.HttpVersionMinor, Is.EqualTo(1));
        Assert.That(Header(location, "Connection"), Is.EqualTo(""));
        Assert.That(Header(location, "Host"), Is.EqualTo("$proxy_host"));
    }

    [Test]
    public void Mistake1UnderLegacyDefaultsHasAPoolButNeverReusesIt()
    {
        var config = LoadHttp("""
            keepalive_defaults legacy;
            upstream app_backend {
            server 127.0.0.1:8080;
            keepalive 64;
            }
            server {
            listen 80;
            location /api/ {
            proxy_pass http://app_backend;
            }
            }
            """);
        var location = OnlyLocation(config);
        Assert.That(config.Http.LegacyKeepaliveDefaults, Is.True);
        Assert.That(location.ProxyPass!.Upstream.Keepalive, Is.EqualTo(64));
        Assert.That(location.Proxy.HttpVersionMinor, Is.EqualTo(0));
        Assert.That(Header(location, "Connection"), Is.EqualTo("close"));
    }

    [Test]
    public void Mistake1UnderCurrentDefaultsJustWorks()
    {
        var location = OnlyLocation(LoadHttp("""
            upstream app_backend { server 127.0.0.1:8080; keepalive 64; }
            server { listen 80; location /api/ { proxy_pass http://app_backend; } }
            """));
        Assert.That(location.Proxy.HttpVersionMinor, Is.EqualTo(1));
        Assert.That(location.Proxy.SetHeaders.Any(h => h.Name == "Connection"), Is.False);
    }

    [Test]
    public void ShippedDefaultConfigLoads()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "RawKeepalive.sln"))) dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "repository root not found above the test directory");
        string path = Path.Combine(dir!.FullName, "conf", "rawkeepalive.conf");
        var config = RawKeepalive.Config.ConfigLoader.Load(path, "/prefix");
        Assert.That(config.Http.Servers, Has.Count.EqualTo(2));
        Assert.That(config.Http.Servers[1].Locations.Single().Return!.Status, Is.EqualTo(200));
    }
}
