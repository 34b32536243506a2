using System.Net;
using NUnit.Framework;
using RawKeepalive.Config;
using static RawKeepalive.Tests.Config.ConfigText;

namespace RawKeepalive.Tests.Config;

[TestFixture, CancelAfter(60_000)]
public class DefaultsAndInheritanceTests
{
    private const string Backend = "upstream backend { server 127.0.0.1:8080; }\n";

    [Test]
    public void MainDefaults()
    {
        var config = Load("events {}\n");
        Assert.That(config.WorkerProcesses, Is.EqualTo(1));
        Assert.That(config.WorkerConnections, Is.EqualTo(512));
        Assert.That(config.Daemon, Is.True);
        Assert.That(config.MasterProcess, Is.True);
        Assert.That(config.PidPath, Is.EqualTo("/prefix/logs/rawkeepalive.pid"));
        Assert.That(config.ErrorLogPath, Is.EqualTo("/prefix/logs/error.log"));
        Assert.That(config.ErrorLogLevel, Is.EqualTo("error"));
        Assert.That(config.Prefix, Is.EqualTo("/prefix"));
        Assert.That(config.ConfigFile, Is.EqualTo(Path.GetFullPath("t.conf")));
        Assert.That(config.Http.Servers, Is.Empty);
    }

    [Test]
    public void MainDirectives()
    {
        var config = Load("""
            worker_processes auto;
            daemon off;
            master_process off;
            pid run/rk.pid;
            error_log stderr info;
            worker_rlimit_nofile 65536;
            worker_rlimit_core 500m;
            events { worker_connections 4096; use epoll; multi_accept on; accept_mutex off; }
            """);
        Assert.That(config.WorkerProcesses, Is.EqualTo(Environment.ProcessorCount));
        Assert.That(config.Daemon, Is.False);
        Assert.That(config.MasterProcess, Is.False);
        Assert.That(config.PidPath, Is.EqualTo("/prefix/run/rk.pid"));
        Assert.That(config.ErrorLogPath, Is.EqualTo("stderr"));
        Assert.That(config.ErrorLogLevel, Is.EqualTo("info"));
        Assert.That(config.WorkerRlimitNofile, Is.EqualTo(65536));
        Assert.That(config.WorkerConnections, Is.EqualTo(4096));

        var absolute = Load("pid /run/rk.pid;\nerror_log /var/log/rk.log warn;\n");
        Assert.That(absolute.PidPath, Is.EqualTo("/run/rk.pid"));
        Assert.That(absolute.ErrorLogPath, Is.EqualTo("/var/log/rk.log"));
    }

    [Test]
    public void UpstreamGetsAnImplicitLocalPoolOfThirtyTwo()
    {
        var location = OnlyLocation(LoadHttp(Backend + "server { location / { proxy_pass http://backend; } }"));
        var upstream = location.ProxyPass!.Upstream;
        Assert.That(upstream.Keepalive, Is.EqualTo(32));
        Assert.That(upstream.KeepaliveLocal, Is.True);
        Assert.That(upstream.Implicit, Is.False);
        Assert.That(upstream.KeepaliveRequests, Is.EqualTo(1000));
        Assert.That(upstream.KeepaliveTimeoutMs, Is.EqualTo(60_000));
        Assert.That(upstream.KeepaliveTimeMs, Is.EqualTo(3_600_000));
        Assert.That(location.Proxy.HttpVersionMinor, Is.EqualTo(1));
        Assert.That(location.Proxy.SetHeaders.Select(h => h.Name + ": " + h.Value.Source), Is.EqualTo(new[] { "Host: $proxy_host" }));
        Assert.That(location.Proxy.SetHeaders[0].Value.Segments.Single().Variable, Is.EqualTo(Variable.ProxyHost));
    }

    [Test]
    public void LegacyDefaultsHaveNoPoolHttp10AndConnectionClose()
    {
        var location = OnlyLocation(LoadHttp("keepalive_defaults legacy;\n" + Backend + "server { location / { proxy_pass http://backend; } }"));
        Assert.That(location.ProxyPass!.Upstream.Keepalive, Is.EqualTo(0));
        Assert.That(location.ProxyPass.Upstream.KeepaliveLocal, Is.False);
        Assert.That(location.Proxy.HttpVersionMinor, Is.EqualTo(0));
        Assert.That(location.Proxy.SetHeaders.Select(h => h.Name + ": " + h.Value.Source), Is.EqualTo(new[] { "Host: $proxy_host", "Connection: close" }));
        var close = location.Proxy.SetHeaders[1].Value.Segments.Single();
        Assert.That(close.IsLiteral && System.Text.Encoding.ASCII.GetString(close.Literal!) == "close", Is.True);
    }

    [Test]
    public void KeepaliveDefaultsMayComeAfterTheUpstreams()
    {
        var location = OnlyLocation(LoadHttp(Backend + "server { location / { proxy_pass http://backend; } }\nkeepalive_defaults legacy;"));
        Assert.That(location.ProxyPass!.Upstream.Keepalive, Is.EqualTo(0));
        Assert.That(location.Proxy.HttpVersionMinor, Is.EqualTo(0));
    }

    [TestCase("keepalive 0;", false, 0, false)]
    [TestCase("keepalive 16;", false, 16, false)]
    [TestCase("keepalive 16 local;", false, 16, true)]
    [TestCase("keepalive 16;", true, 16, false)]
    [TestCase("keepalive 16 local;", true, 16, true)]
    public void ExplicitKeepalive(string directive, bool legacy, int expected, bool local)
    {
        var config = LoadHttp((legacy ? "keepalive_defaults legacy;\n" : "") + "upstream b { server 127.0.0.1:1; " + directive + " }");
        Assert.That(config.Http.Upstreams.Single().Keepalive, Is.EqualTo(expected));
        Assert.That(config.Http.Upstreams.Single().KeepaliveLocal, Is.EqualTo(local));
    }

    [Test]
    public void UpstreamKeepaliveSettings()
    {
        var upstream = LoadHttp("upstream b { server 127.0.0.1:1; keepalive_requests 50; keepalive_timeout 10s; keepalive_time 30m; }")
            .Http.Upstreams.Single();
        Assert.That(upstream.KeepaliveRequests, Is.EqualTo(50));
        Assert.That(upstream.KeepaliveTimeoutMs, Is.EqualTo(10_000));
        Assert.That(upstream.KeepaliveTimeMs, Is.EqualTo(1_800_000));
    }

    [Test]
    public void ConfiguredHeaderReplacesTheBuiltInOfTheSameName()
    {
        var location = OnlyLocation(LoadHttp("keepalive_defaults legacy;\n" + Backend +
            "server { location / { proxy_pass http://backend; proxy_set_header connection \"\"; proxy_set_header HOST $host; } }"));
        Assert.That(location.Proxy.SetHeaders.Select(h => h.Name + ": " + h.Value.Source), Is.EqualTo(new[] { "connection: ", "HOST: $host" }));
        Assert.That(System.Text.Encoding.ASCII.GetString(location.Proxy.SetHeaders[1].NameBytes), Is.EqualTo("HOST"));
    }

    [Test]
    public void ProxySetHeaderIsInheritedOnlyByLevelsThatSetNone()
    {
        var server = LoadHttp(Backend + """
            proxy_set_header X-Http http;
            server {
                location /inherits-http/ { proxy_pass http://backend; }
            }
            server {
                proxy_set_header X-Server server;
                location /inherits-server/ { proxy_pass http://backend; }
                location /own/ {
                    proxy_set_header X-Own own;
                    proxy_pass http://backend;
                    location /own/nested/ { proxy_pass http://backend; }
                }
            }
            """).Http.Servers;
        string Names(LocationConfig l) => string.Join(",", l.Proxy.SetHeaders.Select(h => h.Name));
        Assert.That(Names(server[0].Locations[0]), Is.EqualTo("X-Http,Host"));
        Assert.That(Names(server[1].Locations[0]), Is.EqualTo("X-Server,Host"));
        Assert.That(Names(server[1].Locations[1]), Is.EqualTo("X-Own,Host"));
        Assert.That(server[1].Locations[2].Path, Is.EqualTo("/own/nested/"));
        Assert.That(Names(server[1].Locations[2]), Is.EqualTo("X-Own,Host"));
    }

    [Test]
    public void ScalarsInheritFromTheNearestLevelThatSetsThem()
    {
        var servers = LoadHttp(Backend + """
            keepalive_timeout 30s 25;
            keepalive_requests 50;
            proxy_read_timeout 10s;
            proxy_http_version 1.0;
            client_max_body_size 0;
            client_header_timeout 5s;
            large_client_header_buffers 8 16k;
            proxy_splice off;
            server {
                proxy_read_timeout 20s;
                client_header_buffer_size 4k;
                client_body_timeout 7s;
                send_timeout 8s;
                location / {
                    keepalive_timeout 0;
                    proxy_connect_timeout 1s;
                    proxy_send_timeout 2s;
                    proxy_next_upstream error non_idempotent;
                    proxy_next_upstream_tries 3;
                    proxy_http_version 1.1;
                    proxy_pass http://backend;
                }
                location /b/ { proxy_next_upstream off; proxy_splice on; proxy_pass http://backend; }
            }
            server { }
            """).Http.Servers;
        var a = servers[0].Locations[0];
        Assert.That(a.KeepaliveTimeoutMs, Is.EqualTo(0));
        Assert.That(a.KeepaliveHeaderTimeoutSeconds, Is.EqualTo(25));
        Assert.That(a.KeepaliveRequests, Is.EqualTo(50));
        Assert.That(a.Proxy.ReadTimeoutMs, Is.EqualTo(20_000));
        Assert.That(a.Proxy.ConnectTimeoutMs, Is.EqualTo(1_000));
        Assert.That(a.Proxy.SendTimeoutMs, Is.EqualTo(2_000));
        Assert.That(a.Proxy.HttpVersionMinor, Is.EqualTo(1));
        Assert.That(a.ClientMaxBodySize, Is.EqualTo(0));
        Assert.That(a.ClientBodyTimeoutMs, Is.EqualTo(7_000));
        Assert.That(a.SendTimeoutMs, Is.EqualTo(8_000));
        Assert.That((a.Proxy.NextUpstreamError, a.Proxy.NextUpstreamTimeout, a.Proxy.NextUpstreamNonIdempotent), Is.EqualTo((true, false, true)));
        Assert.That(a.Proxy.NextUpstreamTries, Is.EqualTo(3));
        Assert.That(a.Proxy.Splice, Is.False);

        var b = servers[0].Locations[1];
        Assert.That(b.KeepaliveTimeoutMs, Is.EqualTo(30_000));
        Assert.That(b.Proxy.HttpVersionMinor, Is.EqualTo(0));
        Assert.That((b.Proxy.NextUpstreamError, b.Proxy.NextUpstreamTimeout, b.Proxy.NextUpstreamNonIdempotent), Is.EqualTo((false, false, false)));
        Assert.That(b.Proxy.NextUpstreamTries, Is.EqualTo(0));
        Assert.That(b.Proxy.Splice, Is.True);

        Assert.That(servers[0].ClientHeaderTimeoutMs, Is.EqualTo(5_000));
        Assert.That(servers[0].ClientHeaderBufferSize, Is.EqualTo(4096));
        Assert.That(servers[0].LargeClientHeaderBuffersCount, Is.EqualTo(8));
        Assert.That(servers[0].LargeClientHeaderBufferSize, Is.EqualTo(16384));
        Assert.That(servers[1].ClientHeaderBufferSize, Is.EqualTo(1024));
        Assert.That(servers[1].Locations, Is.Empty);
    }

    [Test]
    public void LocationDefaults()
    {
        var l = OnlyLocation(LoadHttp("server { location / { } }"));
        Assert.That(l.ProxyPass, Is.Null);
        Assert.That(l.Return, Is.Null);
        Assert.That(l.KeepaliveTimeoutMs, Is.EqualTo(75_000));
        Assert.That(l.KeepaliveHeaderTimeoutSeconds, Is.Null);
        Assert.That(l.KeepaliveRequests, Is.EqualTo(1000));
        Assert.That(l.ClientMaxBodySize, Is.EqualTo(1024 * 1024));
        Assert.That((l.Proxy.NextUpstreamError, l.Proxy.NextUpstreamTimeout, l.Proxy.NextUpstreamNonIdempotent), Is.EqualTo((true, true, false)));
    }

    [TestCase("http://backend", "backend", "80", null)]
    [TestCase("http://backend/", "backend", "80", "/")]
    [TestCase("http://backend/api/v1/", "backend", "80", "/api/v1/")]
    [TestCase("http://127.0.0.1:8080", "127.0.0.1:8080", "8080", null)]
    [TestCase("http://127.0.0.1:8080/x?y=1", "127.0.0.1:8080", "8080", "/x?y=1")]
    [TestCase("http://127.0.0.1", "127.0.0.1", "80", null)]
    [TestCase("http://127.0.0.1:80/", "127.0.0.1", "80", "/")]
    [TestCase("http://[::1]:8081/", "[::1]:8081", "8081", "/")]
    [TestCase("HTTP://localhost:9000", "localhost:9000", "9000", null)]
    public void ProxyPassSplitsHostAndUri(string url, string proxyHost, string proxyPort, string? uri)
    {
        var pass = OnlyLocation(LoadHttp(Backend + "server { location / { proxy_pass " + url + "; } }")).ProxyPass!;
        Assert.That(pass.ProxyHost, Is.EqualTo(proxyHost));
        Assert.That(pass.ProxyPort, Is.EqualTo(proxyPort));
        Assert.That(pass.Uri, Is.EqualTo(uri));
    }

    [Test]
    public void ProxyPassToAnAddressMakesOneSharedImplicitUpstreamWithoutPool()
    {
        var config = LoadHttp(Backend + """
            server {
                location /a/ { proxy_pass http://127.0.0.1:9000/; }
                location /b/ { proxy_pass http://127.0.0.1:9000; }
                location /c/ { proxy_pass http://BACKEND; }
            }
            """);
        var locations = config.Http.Servers[0].Locations;
        var implicitUpstream = locations[0].ProxyPass!.Upstream;
        Assert.That(implicitUpstream.Implicit, Is.True);
        Assert.That(implicitUpstream.Keepalive, Is.EqualTo(0));
        Assert.That(implicitUpstream.Servers.Single().Addresses.Single(), Is.EqualTo(new IPEndPoint(IPAddress.Loopback, 9000)));
        Assert.That(locations[1].ProxyPass!.Upstream, Is.SameAs(implicitUpstream));
        Assert.That(locations[2].ProxyPass!.Upstream.Name, Is.EqualTo("backend"));
        Assert.That(config.Http.Upstreams.Select(u => u.Implicit), Is.EqualTo(new[] { false, true }));
    }

    [Test]
    public void AHostNameResolvesToEveryAddress()
    {
        var expected = Dns.GetHostAddresses("localhost").Select(a => new IPEndPoint(a, 9000)).Distinct().ToArray();
        var config = LoadHttp("upstream b { server localhost:9000; }\nserver { location / { proxy_pass http://localhost:9000; } }");
        Assert.That(config.Http.Upstreams[0].Servers.Single().Text, Is.EqualTo("localhost:9000"));
        Assert.That(config.Http.Upstreams[0].Servers.Single().Addresses, Is.EquivalentTo(expected));
        Assert.That(OnlyLocation(config).ProxyPass!.Upstream.Servers.Single().Addresses, Is.EquivalentTo(expected));
    }

    [Test]
    public void UpstreamBlockMayComeAfterItsUse()
    {
        var config = LoadHttp("server { location / { proxy_pass http://late; } }\nupstream late { server 127.0.0.1:1; }");
        Assert.That(OnlyLocation(config).ProxyPass!.Upstream.Implicit, Is.False);
    }

    [Test]
    public void ListenForms()
    {
        var listens = LoadHttp("""
            server { listen 8080; listen 127.0.0.1:81 default_server; listen [::1]:8082; listen *:83; listen 127.0.0.2; }
            server { }
            """).Http.Servers;
        Assert.That(listens[0].Listens.Select(l => l.EndPoint.ToString()),
            Is.EqualTo(new[] { "0.0.0.0:8080", "127.0.0.1:81", "[::1]:8082", "0.0.0.0:83", "127.0.0.2:80" }));
        Assert.That(listens[0].Listens.Select(l => l.DefaultServer), Is.EqualTo(new[] { false, true, false, false, false }));
        Assert.That(listens[0].Listens[0].Line, Is.EqualTo(3));
        Assert.That(listens[1].Listens.Single().EndPoint.ToString(), Is.EqualTo("0.0.0.0:80"));
        Assert.That(listens[1].ServerNames, Is.EqualTo(new[] { "" }));
    }

    [Test]
    public void DuplicateDefaultServer() =>
        Assert.That(ErrorOf(WrapHttp("server { listen 80 default_server; }\nserver { listen 80 default_server; }")),
            Is.EqualTo("a duplicate default server for 0.0.0.0:80 in t.conf:4"));

    [Test]
    public void ServerNamesAreLowerCased() =>
        Assert.That(LoadHttp("server { server_name Example.COM www.example.com \"\"; }").Http.Servers[0].ServerNames,
            Is.EqualTo(new[] { "example.com", "www.example.com", "" }));

    [Test]
    public void LocationModifiers()
    {
        var locations = LoadHttp("server { location = /x { } location ^~ /static/ { } location /p { } location =/y { } }").Http.Servers[0].Locations;
        Assert.That(locations.Select(l => (l.Path, l.Match)), Is.EqualTo(new[]
        {
            ("/x", LocationMatch.Exact), ("/static/", LocationMatch.PrefixNoRegex), ("/p", LocationMatch.Prefix), ("/y", LocationMatch.Exact),
        }));
    }

    [Test]
    public void ReturnForms()
    {
        var locations = LoadHttp("""
            server {
                location /a { return 204; }
                location /b { return 200 "hello $remote_addr\n"; }
                location /c { return 301 https://example.com$request_uri; }
                location /d { return http://example.com/; }
                location /e { return 404; proxy_pass http://127.0.0.1:1; }
            }
            """).Http.Servers[0].Locations;
        Assert.That(locations[0].Return!.Status, Is.EqualTo(204));
        Assert.That(locations[0].Return!.Text, Is.Null);
        Assert.That(locations[1].Return!.Text!.Source, Is.EqualTo("hello $remote_addr\n"));
        Assert.That(locations[2].Return!.Status, Is.EqualTo(301));
        Assert.That(locations[3].Return!.Status, Is.EqualTo(302));
        Assert.That(locations[3].Return!.Text!.Source, Is.EqualTo("http://example.com/"));
        Assert.That(locations[4].ProxyPass, Is.Null, "return answers before proxying, as in nginx");
    }

    [Test]
    public void ServerLevelReturnAnswersEveryRequest()
    {
        var servers = LoadHttp("""
            server { listen 81; return 301 https://$host$request_uri; }
            server { listen 82; return 403; location /api/ { proxy_pass http://127.0.0.1:1; } }
            """).Http.Servers;
        Assert.That(servers[0].Return!.Status, Is.EqualTo(301));
        Assert.That(servers[0].Locations.Single().Path, Is.EqualTo("/"));
        Assert.That(servers[0].Locations.Single().Return, Is.SameAs(servers[0].Return));
        Assert.That(servers[1].Locations.Select(l => (l.Path, l.Return?.Status, l.ProxyPass)),
            Is.EqualTo(new[] { ("/api/", (int?)403, (ProxyPassConfig?)null), ("/", 403, null) }));
    }

    [Test]
    public void AcceptedWithoutEffect()
    {
        var config = LoadHttp("""
            sendfile on; tcp_nopush on; tcp_nodelay on; server_tokens off; default_type application/octet-stream;
            types { text/html html htm; image/png png; }
            charset utf-8; gzip off; access_log off;
            client_body_temp_path /tmp/body 1 2; proxy_temp_path /tmp/proxy;
            log_format main '$remote_addr - [$time_local] "$request"';
            server { listen 80; access_log off; location / { return 200; } }
            """);
        Assert.That(config.Http.Servers, Has.Count.EqualTo(1));
    }
}
