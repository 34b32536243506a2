using System.Text;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 10, item 1: generated head bytes are never cut. Either the upstream receives one
/// complete, correctly framed request, or it receives nothing and the client gets 431 (its own bytes
/// made the generated headers too big) or 500. The denied location is never reached.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class GeneratedHeadLimitTests : ProxyTestBase
{
    /// <summary>The shipped config's shape: X-Forwarded-For from $proxy_add_x_forwarded_for, and a
    /// location the client must never reach.</summary>
    private static string Config(string serverExtra = "", string locationExtra = "") => $$"""
        events { worker_connections 1024; }
        http {
            upstream app_backend { server 127.0.0.1:{BACKEND}; }
            server {
                listen 127.0.0.1:{PORT};
                {{serverExtra}}
                location /internal { deny all; }
                location / {
                    proxy_pass http://app_backend;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    {{locationExtra}}
                }
            }
        }
        """;

    private const string Smuggled = "\r\n\r\nGET /internal HTTP/1.1\r\nHost: x\r\n\r\n";

    /// <summary>The issue's request: two 7,000-digit X-Forwarded-For lines joined into one generated
    /// header of 14 KB, and a body that reads as a request of the client's choosing if the head is cut.</summary>
    private static string SmugglingRequest(string digits) =>
        $"POST / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: {digits}\r\nX-Forwarded-For: {digits}\r\nContent-Length: {Smuggled.Length}\r\n\r\n{Smuggled}";

    [Test]
    public void IssueRequest_JoinedXForwardedFor_ArrivesWholeAsOneRequest()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config(), backend);
        var client = Connect(proxy);
        string digits = new('7', 7000);
        client.Send(SmugglingRequest(digits));
        var response = client.ReadResponse();

        Assert.That(response.Status, Is.EqualTo(200), response.ToString());
        var sent = backend.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(sent.Path, Is.EqualTo("/"));
            Assert.That(sent.Get("X-Forwarded-For"), Is.EqualTo($"{digits}, {digits}, 127.0.0.1"));
            Assert.That(sent.BodyLength, Is.EqualTo(Smuggled.Length));
            Assert.That(backend.ProtocolErrors, Is.Empty);
        });
        // The body stayed a body: nothing reached /internal on the pooled connection afterwards.
        Assert.That(client.Get("/after").Status, Is.EqualTo(200));
        Assert.That(backend.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/", "/after" }));
    }

    [Test]
    public void IssueRequest_OverTheCap_Is431_AndTheUpstreamSeesNothing()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config(serverExtra: "generated_headers_max_size 8k;"), backend);
        var client = Connect(proxy);
        client.Send(SmugglingRequest(new string('7', 7000)));
        var response = client.ReadResponse();

        Assert.That(response.Status, Is.EqualTo(431), response.ToString());
        Assert.That(response.Get("Connection"), Is.EqualTo("close"));
        Assert.That(response.ConnectionClosedAfter || client.IsClosedByPeer(TimeSpan.FromSeconds(10)), Is.True, "the connection closes after a 431");
        AssertUpstreamSawNothing(backend);
        Assert.That(proxy.ErrorLog, Does.Contain("over generated_headers_max_size 8192"));
    }

    [Test]
    public void CookieCopiedIntoSeveralHeaders_OverTheCap_Is431()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config(locationExtra: """
            proxy_set_header X-Cookie-1 $http_cookie;
            proxy_set_header X-Cookie-2 $http_cookie;
            proxy_set_header X-Cookie-3 $http_cookie;
            proxy_set_header X-Cookie-4 $http_cookie;
            proxy_set_header X-Cookie-5 $http_cookie;
            proxy_set_header X-Cookie-6 $http_cookie;
            """), backend);
        var client = Connect(proxy);
        client.Send($"GET / HTTP/1.1\r\nHost: a\r\nCookie: s={new string('c', 6000)}\r\n\r\n");
        var response = client.ReadResponse();

        Assert.That(response.Status, Is.EqualTo(431), response.ToString());
        AssertUpstreamSawNothing(backend);
    }

    [Test]
    public void CookieCopiedIntoSeveralHeaders_UnderTheCap_ArrivesWhole()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config(locationExtra: """
            proxy_set_header X-Cookie-1 $http_cookie;
            proxy_set_header X-Cookie-2 $http_cookie;
            proxy_set_header X-Cookie-3 $cookie_s;
            """), backend);
        var client = Connect(proxy);
        string value = new('c', 6000);
        var response = client.Get("/", extraHeaders: $"Cookie: s={value}\r\n");

        Assert.That(response.Status, Is.EqualTo(200), response.ToString());
        var sent = backend.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(sent.Get("X-Cookie-1"), Is.EqualTo($"s={value}"));
            Assert.That(sent.Get("X-Cookie-2"), Is.EqualTo($"s={value}"));
            Assert.That(sent.Get("X-Cookie-3"), Is.EqualTo(value));
            Assert.That(sent.Get("Cookie"), Is.EqualTo($"s={value}"));
        });
    }

    [Test]
    public void LongRequestUri_InSeveralHeaders_ArrivesWhole()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config(locationExtra: """
            proxy_set_header X-Original-Uri $request_uri;
            proxy_set_header X-Request $request;
            proxy_set_header X-Args $args;
            """), backend);
        var client = Connect(proxy);
        string query = "q=" + new string('u', 7000);
        var response = client.Get("/path?" + query);

        Assert.That(response.Status, Is.EqualTo(200), response.ToString());
        var sent = backend.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(sent.Get("X-Original-Uri"), Is.EqualTo("/path?" + query));
            Assert.That(sent.Get("X-Request"), Is.EqualTo($"GET /path?{query} HTTP/1.1"));
            Assert.That(sent.Get("X-Args"), Is.EqualTo(query));
            Assert.That(sent.Target, Is.EqualTo("/path?" + query));
        });
    }

    /// <summary>A map whose source is longer than its stack buffer is looked up with the whole source
    /// (it used to be cut at 2,048 bytes): the regex anchored at the end still sees the end.</summary>
    [Test]
    public void MapSource_LongerThanTheStackBuffer_IsMatchedWhole()
    {
        var backend = StartBackend();
        var proxy = StartProxy($$"""
            events { worker_connections 64; }
            http {
                map $http_x_long $long_kind { default "other"; "~z$" "ends-in-z"; }
                upstream app_backend { server 127.0.0.1:{BACKEND}; }
                server {
                    listen 127.0.0.1:{PORT};
                    location / { proxy_pass http://app_backend; proxy_set_header X-Kind $long_kind; }
                }
            }
            """, backend);
        var client = Connect(proxy);
        Assert.That(client.Get("/", extraHeaders: $"X-Long: {new string('a', 3000)}z\r\n").Status, Is.EqualTo(200));
        Assert.That(client.Get("/", extraHeaders: "X-Long: shortz\r\n").Status, Is.EqualTo(200));
        Assert.That(backend.Requests.Select(r => r.Get("X-Kind")), Is.EqualTo(new[] { "ends-in-z", "ends-in-z" }));
    }

    [Test]
    public void ConfiguredHeadersOverTheCap_Are500_WithAnErrorLine()
    {
        var backend = StartBackend();
        string literal = new('L', 2000);
        var proxy = StartProxy(Config(serverExtra: "generated_headers_max_size 1k;", locationExtra: $"proxy_set_header X-Static \"{literal}\";"), backend);
        var client = Connect(proxy);
        var response = client.Get("/");

        Assert.That(response.Status, Is.EqualTo(500), response.ToString());
        AssertUpstreamSawNothing(backend);
        Assert.That(proxy.WaitForErrorLog("[error]"), Is.True, proxy.ErrorLog);
        Assert.That(proxy.ErrorLog, Does.Contain("the generated request headers would take"));
    }

    [Test]
    public void Redirect_WithALongRequestUri_KeepsTheWholeLocation()
    {
        var proxy = StartProxy("""
            events { worker_connections 64; }
            http {
                server {
                    listen 127.0.0.1:{PORT};
                    location /r { return 301 http://example.test$request_uri; }
                    location /t { return 200 "uri=$request_uri"; }
                }
            }
            """);
        var client = Connect(proxy);
        string path = "/r/" + new string('p', 7000);
        var redirect = client.Get(path);
        Assert.That(redirect.Status, Is.EqualTo(301), redirect.ToString());
        Assert.That(redirect.Get("Location"), Is.EqualTo("http://example.test" + path));

        string textPath = "/t/" + new string('t', 7000);
        var text = client.Get(textPath);
        Assert.That(text.Status, Is.EqualTo(200), text.ToString());
        Assert.That(text.BodyText, Is.EqualTo("uri=" + textPath));
        Assert.That(text.HeaderInt("Content-Length"), Is.EqualTo(text.Body.Length));
    }

    [Test]
    public void Redirect_OverTheCap_Is431()
    {
        var proxy = StartProxy("""
            events { worker_connections 64; }
            http {
                generated_headers_max_size 2k;
                server {
                    listen 127.0.0.1:{PORT};
                    location / { return 302 http://example.test$request_uri; }
                }
            }
            """);
        var client = Connect(proxy);
        var response = client.Get("/" + new string('p', 3000));
        Assert.That(response.Status, Is.EqualTo(431), response.ToString());
        Assert.That(response.Get("Location"), Is.Null);
    }

    private static void AssertUpstreamSawNothing(TestBackend backend) => Assert.Multiple(() =>
    {
        Assert.That(backend.RequestCount, Is.EqualTo(0), "requests the upstream received");
        Assert.That(backend.AcceptedConnections, Is.EqualTo(0), "connections the upstream accepted");
        Assert.That(backend.ProtocolErrors, Is.Empty);
    });
}
