using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 3: server and location selection, map and variables, end to end through the binary.
/// Every route sends a header naming itself, so the backend's view tells which one was chosen.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class RoutingTests : ProxyTestBase
{
    private const string Config = """
        http {
            upstream b { server 127.0.0.1:{BACKEND}; }

            map $uri $api_version {
                default    v1;
                ~^/api/v2/ v2;
            }
            map $host $tenant {
                hostnames;
                default        public;
                *.acme.test    acme;
            }

            server {
                listen 127.0.0.1:{PORT} default_server;
                location / { return 200 "default $host\n"; }
            }
            server {
                listen 127.0.0.1:{PORT};
                server_name www.example.test;
                proxy_set_header X-Route exact;
                proxy_set_header X-Host $host;
                location / { proxy_pass http://b; }
                location ~* \.png$ {
                    proxy_set_header X-Route png;
                    proxy_pass http://b;
                }
                location ^~ /static/ {
                    proxy_set_header X-Route static;
                    proxy_pass http://b;
                }
                location /api/ {
                    proxy_set_header X-Route api;
                    proxy_set_header X-Api-Version $api_version;
                    proxy_set_header X-Page $arg_page;
                    proxy_set_header X-Args "$is_args$args";
                    proxy_pass http://b;
                    location ~ /admin$ {
                        proxy_set_header X-Route api-admin;
                        proxy_pass http://b;
                    }
                }
            }
            server {
                listen 127.0.0.1:{PORT};
                server_name *.acme.test;
                location / {
                    proxy_set_header X-Route acme;
                    proxy_set_header X-Tenant $tenant;
                    proxy_set_header X-Conn "$connection/$connection_requests";
                    proxy_set_header X-Request-Id $request_id;
                    proxy_set_header X-Time "$msec|$time_local";
                    proxy_set_header X-Request $request;
                    proxy_pass http://b;
                }
            }
            server {
                listen 127.0.0.1:{PORT};
                server_name ~^preview-\d+\.example\.test$;
                location / {
                    proxy_set_header X-Route preview;
                    proxy_pass http://b;
                }
            }
        }
        events {}
        """;

    private (TestBackend Backend, RawHttpClient Client) Start()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config, backend);
        return (backend, Connect(proxy));
    }

    private static string? Route(TestBackend backend, RawHttpClient client, string path, string host)
    {
        int before = backend.RequestCount;
        var response = client.Get(path, host);
        Assert.That(response.Status, Is.EqualTo(200), response.ToString());
        return backend.RequestCount > before ? backend.Requests[^1].Get("X-Route") : "local:" + response.BodyText.Trim();
    }

    [Test]
    public void ServersAndLocations_AreChosenAsNginxDocuments()
    {
        var (backend, client) = Start();
        Assert.Multiple(() =>
        {
            Assert.That(Route(backend, client, "/", "WWW.Example.Test."), Is.EqualTo("exact"));
            Assert.That(Route(backend, client, "/img/a.PNG", "www.example.test"), Is.EqualTo("png"));          // regex beats prefix "/"
            Assert.That(Route(backend, client, "/static/a.png", "www.example.test"), Is.EqualTo("static"));  // ^~ stops regexes
            Assert.That(Route(backend, client, "/api/x.png", "www.example.test"), Is.EqualTo("png"));        // top regex beats /api/
            Assert.That(Route(backend, client, "/api/admin", "www.example.test"), Is.EqualTo("api-admin"));  // nested regex
            Assert.That(Route(backend, client, "/api/users", "www.example.test"), Is.EqualTo("api"));
            Assert.That(Route(backend, client, "/", "shop.acme.test:8080"), Is.EqualTo("acme"));
            Assert.That(Route(backend, client, "/", "preview-42.example.test"), Is.EqualTo("preview"));
            Assert.That(Route(backend, client, "/", "preview-x.example.test"), Is.EqualTo("local:default preview-x.example.test"));
            Assert.That(Route(backend, client, "/", "Other.Test"), Is.EqualTo("local:default other.test"));
        });
    }

    [Test]
    public void MapsAndArguments_ReachTheUpstream()
    {
        var (backend, client) = Start();
        client.Get("/api/v2/items?sort=asc&PAGE=3", "www.example.test");
        client.Get("/api/v1/items", "www.example.test");
        client.Get("/", "x.acme.test");
        var sent = backend.Requests;
        Assert.Multiple(() =>
        {
            Assert.That(sent[0].Get("X-Api-Version"), Is.EqualTo("v2"), sent[0].Head);
            Assert.That(sent[0].Get("X-Page"), Is.EqualTo("3"), sent[0].Head);
            Assert.That(sent[0].Get("X-Args"), Is.EqualTo("?sort=asc&PAGE=3"), sent[0].Head);
            Assert.That(sent[0].Get("X-Host"), Is.Null, sent[0].Head);   // location sets its own headers: server's not inherited
            Assert.That(sent[1].Get("X-Api-Version"), Is.EqualTo("v1"), sent[1].Head);
            Assert.That(sent[1].Get("X-Page"), Is.Null, sent[1].Head);  // empty value: header not sent
            Assert.That(sent[2].Get("X-Tenant"), Is.EqualTo("acme"), sent[2].Head);
        });
    }

    [Test]
    public void PerRequestVariables_ConnectionRequestIdAndTime()
    {
        var (backend, client) = Start();
        client.Get("/a?x=1", "x.acme.test");
        client.Get("/b", "x.acme.test");
        using var second = Connect(client.Port);
        second.Get("/c", "x.acme.test");
        var sent = backend.Requests;
        Assert.Multiple(() =>
        {
            string[] first = sent[0].Get("X-Conn")!.Split('/');
            Assert.That(first[1], Is.EqualTo("1"), sent[0].Head);
            Assert.That(sent[1].Get("X-Conn"), Is.EqualTo(first[0] + "/2"), sent[1].Head);
            Assert.That(sent[2].Get("X-Conn")!.Split('/')[0], Is.Not.EqualTo(first[0]), sent[2].Head);
            Assert.That(sent[0].Get("X-Request-Id"), Does.Match("^[0-9a-f]{32}$"), sent[0].Head);
            Assert.That(sent[1].Get("X-Request-Id"), Is.Not.EqualTo(sent[0].Get("X-Request-Id")), sent[1].Head);
            Assert.That(sent[0].Get("X-Time"), Does.Match(@"^\d{10}\.\d{3}\|\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$"), sent[0].Head);
            Assert.That(sent[0].Get("X-Request"), Is.EqualTo("GET /a?x=1 HTTP/1.1"), sent[0].Head);
        });
    }
}
