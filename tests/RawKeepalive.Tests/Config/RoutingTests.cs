using System.Net;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Tests.Support;
using RawKeepalive.Config;
using RawKeepalive.Native;
using RawKeepalive.Proxy;
using RawKeepalive.Upstream;
using static RawKeepalive.Tests.Config.ConfigText;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;

namespace RawKeepalive.Tests.Config;

/// <summary>Server and location selection as nginx documents it (http://nginx.org/en/docs/http/server_names.html,
/// ngx_http_core_module "location"), run on the runtime matchers built from a loaded config. Every location
/// answers "return 200 NAME", so the chosen one is named by its return text.</summary>
[TestFixture, CancelAfter(30_000)]
public class RoutingTests
{
    private static Listener ListenerOf(string httpBody)
    {
        var config = LoadHttp(httpBody);
        var groups = new Dictionary<UpstreamConfig, UpstreamGroup>();
        var servers = config.Http.Servers.Select(s => new ServerRuntime(s, groups)).ToArray();
        var def = servers.FirstOrDefault(s => s.Config.Listens.Any(l => l.DefaultServer)) ?? servers[0];
        return new Listener(-1, new SockAddr(new IPEndPoint(IPAddress.Loopback, 80)), servers, def);
    }

    private static string ServerFor(Listener listener, string host) =>
        listener.Select(Encoding.ASCII.GetBytes(host)).Config.Return!.Text!.Source;

    private static string? LocationFor(ServerRuntime server, string uri) =>
        server.Match(Encoding.ASCII.GetBytes(uri))?.Config.Return?.Text?.Source;

    private const string Servers = """
        server { listen 80; server_name default; return 200 default; }
        server { listen 80; server_name example.org www.example.org; return 200 exact; }
        server { listen 80; server_name *.example.org; return 200 star-org; }
        server { listen 80; server_name *.mail.example.org; return 200 star-mail; }
        server { listen 80; server_name mail.*; return 200 mail-star; }
        server { listen 80; server_name mail.example.*; return 200 mail-example-star; }
        server { listen 80; server_name ~^(?<user>.+)\.example\.net$; return 200 regex-net; }
        server { listen 80; server_name ~^www\..+\.net$; return 200 regex-www; }
        server { listen 80; server_name .example.com; return 200 dot-com; }
        """;

    [TestCase("example.org", "exact")]
    [TestCase("WWW.Example.ORG", "exact")]
    [TestCase("www.example.org.", "exact")]
    [TestCase("www.example.org:8080", "exact")]
    [TestCase("a.example.org", "star-org")]
    [TestCase("a.b.example.org", "star-org")]
    [TestCase("x.mail.example.org", "star-mail")]           // the longest leading mask wins
    [TestCase("mail.example.org", "star-org")]              // a leading mask beats a trailing one
    [TestCase("mail.example.net", "mail-example-star")]     // the longest trailing mask beats a regex
    [TestCase("mail.foo", "mail-star")]
    [TestCase("www.example.net", "regex-net")]              // regexes in config order: the first match wins
    [TestCase("www.foo.net", "regex-www")]
    [TestCase("example.com", "dot-com")]                    // ".example.com" also names the bare domain
    [TestCase("a.example.com", "dot-com")]
    [TestCase("unknown.test", "default")]
    [TestCase("", "default")]
    public void ServerSelection_FollowsNginxOrder(string host, string expected) =>
        Assert.That(ServerFor(ListenerOf(Servers), host), Is.EqualTo(expected));

    [Test]
    public void DefaultServer_IsTheMarkedOne_NotTheFirst()
    {
        var listener = ListenerOf("""
            server { listen 80; server_name a; return 200 a; }
            server { listen 80 default_server; server_name b; return 200 b; }
            """);
        Assert.That(ServerFor(listener, "nomatch"), Is.EqualTo("b"));
        Assert.That(ServerFor(listener, "a"), Is.EqualTo("a"));
    }

    // The example of nginx's "location" documentation.
    private const string DocumentationLocations = """
        server {
            listen 80;
            location = / { return 200 A; }
            location / { return 200 B; }
            location /documents/ { return 200 C; }
            location ^~ /images/ { return 200 D; }
            location ~* \.(gif|jpg|jpeg)$ { return 200 E; }
        }
        """;

    [TestCase("/", "A")]
    [TestCase("/index.html", "B")]
    [TestCase("/documents/document.html", "C")]
    [TestCase("/images/1.gif", "D")]
    [TestCase("/documents/1.jpg", "E")]
    [TestCase("/documents/1.JPG", "E")]
    public void LocationSelection_NginxDocumentationExample(string uri, string expected) =>
        Assert.That(LocationFor(ListenerOf(DocumentationLocations).DefaultServer, uri), Is.EqualTo(expected));

    private const string NestedLocations = """
        server {
            listen 80;
            location /a/ {
                return 200 a;
                location ~ \.x$ { return 200 a-regex; }
                location /a/deep/ { return 200 a-deep; }
                location ^~ /a/noregex/ { return 200 a-noregex; }
            }
            location ~ \.x$ { return 200 top-regex; }
            location ~ \.y$ { return 200 first-y; }
            location ~ y$ { return 200 second-y; }
            location ~ \.Z$ { return 200 case-sensitive; }
            location ~ ^/r/ {
                return 200 r;
                location ~ \.y$ { return 200 r-y; }
            }
        }
        """;

    [TestCase("/a/1", "a")]
    [TestCase("/a/1.x", "a-regex")]               // a nested regex is tried before the outer level's
    [TestCase("/b/1.x", "top-regex")]
    [TestCase("/a/deep/1", "a-deep")]
    [TestCase("/a/noregex/1.x", "top-regex")]     // a nested ^~ stops only its own level's regexes (nginx)
    [TestCase("/q.y", "first-y")]                  // regexes in config order
    [TestCase("/qy", "second-y")]
    [TestCase("/q.z", null)]                       // "~" is case-sensitive; no "/" location: 404
    [TestCase("/r/1.x", "top-regex")]
    [TestCase("/r/1", "r")]
    public void LocationSelection_NestedAndRegex(string uri, string? expected) =>
        Assert.That(LocationFor(ListenerOf(NestedLocations).DefaultServer, uri), Is.EqualTo(expected));

    [Test]
    public void LongUri_IsMatchedAgainstRegexes()
    {
        var server = ListenerOf(NestedLocations).DefaultServer;
        Assert.That(LocationFor(server, "/b/" + new string('p', 5000) + ".x"), Is.EqualTo("top-regex"));
    }

    [Test]
    public void PrefixLocations_InsideRegex_AreRefused() =>
        Assert.That(ErrorOf(WrapHttp("server { location ~ ^/r { location /r/x { } } }")),
            Is.EqualTo("location \"/r/x\" is outside location \"^/r\" in t.conf:3"));
}

/// <summary>The per-request routing work allocates nothing once warm: server names (exact, masks,
/// regexes), locations (prefix, regex, nested) and map lookups.</summary>
[TestFixture, CancelAfter(30_000)]
public class RoutingAllocationTests
{
    [Test]
    public void Matching_DoesNotAllocate()
    {
        var config = LoadHttp("""
            map $uri $m { default d; /x x; ~^/api/ api; }
            server { listen 80; server_name a.test *.b.test c.*; location / { return 200; } }
            server { listen 80; server_name ~^r\d+\.test$; location / { location ~ \.png$ { return 200; } }
                     location ~* \.JPG$ { return 200; } location ^~ /s/ { return 200; } }
            """);
        var groups = new Dictionary<UpstreamConfig, UpstreamGroup>();
        var servers = config.Http.Servers.Select(s => new ServerRuntime(s, groups)).ToArray();
        var listener = new Listener(-1, new SockAddr(new IPEndPoint(IPAddress.Loopback, 80)), servers, servers[0]);
        var map = config.Http.Maps[0];
        byte[][] hosts = [.. new[] { "a.test", "x.b.test", "c.org", "r12.test", "none.test", "A.TEST.:81" }.Select(Encoding.ASCII.GetBytes)];
        byte[][] uris = [.. new[] { "/a.png", "/b.jpg", "/s/c.jpg", "/plain" }.Select(Encoding.ASCII.GetBytes)];
        byte[][] sources = [.. new[] { "/x", "/api/1", "/other" }.Select(Encoding.ASCII.GetBytes)];
        byte[] scratch = new byte[64];

        void Round()
        {
            foreach (var h in hosts) listener.Select(h);
            foreach (var u in uris) servers[1].Match(u);
            foreach (var s in sources)
            {
                s.CopyTo(scratch, 0);
                MapRuntime.Find(map, scratch.AsSpan(0, s.Length));
            }
        }

        for (int i = 0; i < 100; i++) Round();
        Assert.That(Allocations.SteadyState(() => { for (int i = 0; i < 1000; i++) Round(); }), Is.EqualTo(0));
    }
}
