using System.Text;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 10, item 1, the property: for random header sets up to the configured limits, with
/// every proxy_set_header variable in play, the upstream receives exactly one request that parses
/// strictly, with the expected headers and framing; or the client gets 431 and the upstream receives
/// nothing. Seeded: <c>RAWKEEPALIVE_FUZZ_SEED</c> replays another seed; a failure names seed and case.</summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class GeneratedHeadPropertyTests : ProxyTestBase
{
    private const int DefaultSeed = 10_2026;
    private const int Cases = 80;
    private const int Cap = 12 * 1024;
    /// <summary>What the generated headers take besides the client's bytes: names, addresses, times,
    /// ids; measured well below this.</summary>
    private const int ConfigBytesBound = 1024;

    /// <summary>Heads stay within the 16 KiB receive buffer, so any 431 is the generated headers' doing.</summary>
    private const int MaxHead = 15 * 1024;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("RAWKEEPALIVE_FUZZ_SEED"), out int s) ? s : DefaultSeed;

    private static readonly string Config = $$"""
        events { worker_connections 1024; }
        http {
            generated_headers_max_size {{Cap}};
            map $http_x_route $route { default "r-default"; ~^a "r-a-$http_x_a"; }
            upstream app_backend { server 127.0.0.1:{BACKEND}; }
            server {
                listen 127.0.0.1:{PORT};
                server_name prop.test;
                location / {
                    proxy_pass http://app_backend;
                    proxy_set_header X-V-Host $host;
                    proxy_set_header X-V-A $http_x_a;
                    proxy_set_header X-V-Cookie $http_cookie;
                    proxy_set_header X-V-Cookie-S $cookie_s;
                    proxy_set_header X-V-Arg $arg_a;
                    proxy_set_header X-V-Args $args;
                    proxy_set_header X-V-Request-Uri $request_uri;
                    proxy_set_header X-V-Uri $uri;
                    proxy_set_header X-V-Request $request;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-V-Length $content_length;
                    proxy_set_header X-V-Type $content_type;
                    proxy_set_header X-V-Method $request_method;
                    proxy_set_header X-V-Map $route;
                    proxy_set_header X-V-Addr "$remote_addr:$remote_port $server_addr:$server_port $server_name $scheme $proxy_host:$proxy_port $server_protocol";
                    proxy_set_header X-V-Misc "$connection $connection_requests $request_id $msec $time_local $time_iso8601 $is_args $hostname $pid $nginx_version";
                }
            }
        }
        """;

    private sealed record Case(string Method, string Path, string Query, string A, string Cookie, string[] Forwarded, string Route, string Type, byte[] Body, bool Chunked)
    {
        public string Target => Query.Length == 0 ? Path : $"{Path}?{Query}";

        public string Head()
        {
            var h = new StringBuilder($"{Method} {Target} HTTP/1.1\r\nHost: Prop.Test\r\n");
            if (A.Length > 0) h.Append($"X-A: {A}\r\n");
            if (Cookie.Length > 0) h.Append($"Cookie: {Cookie}\r\n");
            foreach (var f in Forwarded) h.Append($"X-Forwarded-For: {f}\r\n");
            if (Route.Length > 0) h.Append($"X-Route: {Route}\r\n");
            if (Type.Length > 0) h.Append($"Content-Type: {Type}\r\n");
            if (Chunked) h.Append("Transfer-Encoding: chunked\r\n");
            else if (Body.Length > 0) h.Append($"Content-Length: {Body.Length}\r\n");
            return h.Append("\r\n").ToString();
        }

        public string CookieS => Cookie.StartsWith("s=") ? Cookie[2..].Split(';')[0] : "";
        public string ArgA => Query.Split('&').FirstOrDefault(p => p.StartsWith("a="))?[2..] ?? "";
        public string Map => Route.StartsWith('a') ? "r-a-" + A : "r-default";
        public string ForwardedFor => string.Join(", ", Forwarded.Append("127.0.0.1"));
        public string LengthValue => Chunked || Body.Length == 0 ? "" : Body.Length.ToString();

        /// <summary>The generated header bytes that come from the request (each variable as written).</summary>
        public int ClientBytes =>
            "prop.test".Length + A.Length + Cookie.Length + CookieS.Length + ArgA.Length + Query.Length + Target.Length * 2
            + Path.Length + Method.Length * 2 + " HTTP/1.1".Length + ForwardedFor.Length + LengthValue.Length + Type.Length + Map.Length;
    }

    private static Case NewCase(Random r)
    {
        string Run(char c, int max) => new(c, r.Next(0, max + 1));
        string path = "/p/" + Run('p', r.Next(4) == 0 ? 3000 : 200);
        string query = r.Next(3) switch { 0 => "", 1 => "a=" + Run('q', 2500), _ => "b=1&a=" + Run('q', 400) };
        string a = Run('a', r.Next(3) == 0 ? 7000 : 500);
        string cookie = r.Next(3) == 0 ? "" : "s=" + Run('c', 3000) + "; t=1";
        var forwarded = new string[r.Next(0, 4)];
        for (int i = 0; i < forwarded.Length; i++) forwarded[i] = "10.0.0." + Run('9', r.Next(2) == 0 ? 2000 : 3);
        string route = r.Next(2) == 0 ? "a1" : r.Next(2) == 0 ? "b" : "";
        bool post = r.Next(2) == 0;
        byte[] body = post ? TestBackend.Body(r.Next(0, 3000)) : [];
        return new Case(post ? "POST" : "GET", path, query, a, cookie, forwarded, route, post ? "text/x-" + Run('t', 50) : "", body, post && r.Next(2) == 0);
    }

    [Test]
    public void RandomHeaderSets_OneCompleteRequestUpstream_Or431AndNothing()
    {
        int seed = Seed;
        var random = new Random(seed);
        var backend = StartBackend();
        var proxy = StartProxy(Config, backend);
        int forwarded = 0, refused = 0;
        for (int i = 0; i < Cases; i++)
        {
            var c = NewCase(random);
            while (c.Head().Length > MaxHead) c = NewCase(random);
            string where = $"seed {seed}, case {i}: {c.Method} target {c.Target.Length} B, X-A {c.A.Length} B, cookie {c.Cookie.Length} B, "
                + $"{c.Forwarded.Length} X-Forwarded-For, body {c.Body.Length} B{(c.Chunked ? " chunked" : "")}, client bytes {c.ClientBytes}";
            int before = backend.RequestCount;
            using var client = new RawHttpClient(proxy.Port);
            client.Send(c.Head(), c.Chunked ? RawHttpClient.Chunk(c.Body) : c.Body);
            var response = client.ReadResponse();

            if (response.Status == 431)
            {
                refused++;
                Assert.That(c.ClientBytes, Is.GreaterThan(Cap - ConfigBytesBound), $"431 for a request that fits: {where}");
                Assert.That(backend.RequestCount, Is.EqualTo(before), $"the upstream received a refused request: {where}");
                continue;
            }
            Assert.That(response.Status, Is.EqualTo(200), $"{where}\n{response}");
            // ClientBytes counts a few literal bytes too (" HTTP/1.1", ", "): a small allowance over the cap.
            Assert.That(c.ClientBytes, Is.LessThanOrEqualTo(Cap + 64), $"forwarded although over the cap: {where}");
            forwarded++;
            Assert.That(backend.RequestCount, Is.EqualTo(before + 1), $"one request upstream: {where}");
            var sent = backend.Requests[^1];
            Assert.Multiple(() =>
            {
                Assert.That(sent.Method, Is.EqualTo(c.Method), where);
                Assert.That(sent.Target, Is.EqualTo(c.Target), where);
                Assert.That(sent.BodyLength, Is.EqualTo(c.Body.Length), where);
                Assert.That(sent.BodyChunked, Is.EqualTo(c.Chunked), where);
                Assert.That(sent.Get("X-V-Host"), Is.EqualTo("prop.test"), where);
                Assert.That(sent.Get("X-V-A") ?? "", Is.EqualTo(c.A), where);
                Assert.That(sent.Get("X-V-Cookie") ?? "", Is.EqualTo(c.Cookie), where);
                Assert.That(sent.Get("X-V-Cookie-S") ?? "", Is.EqualTo(c.CookieS), where);
                Assert.That(sent.Get("X-V-Arg") ?? "", Is.EqualTo(c.ArgA), where);
                Assert.That(sent.Get("X-V-Args") ?? "", Is.EqualTo(c.Query), where);
                Assert.That(sent.Get("X-V-Request-Uri"), Is.EqualTo(c.Target), where);
                Assert.That(sent.Get("X-V-Uri"), Is.EqualTo(c.Path), where);
                Assert.That(sent.Get("X-V-Request"), Is.EqualTo($"{c.Method} {c.Target} HTTP/1.1"), where);
                Assert.That(sent.Headers.GetAll("X-Forwarded-For"), Is.EqualTo(new[] { c.ForwardedFor }), where);
                Assert.That(sent.Get("X-V-Length") ?? "", Is.EqualTo(c.LengthValue), where);
                Assert.That(sent.Get("X-V-Type") ?? "", Is.EqualTo(c.Type), where);
                Assert.That(sent.Get("X-V-Method"), Is.EqualTo(c.Method), where);
                Assert.That(sent.Get("X-V-Map"), Is.EqualTo(c.Map), where);
                Assert.That(sent.Get("X-V-Addr"), Does.Match(@"^127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ prop\.test http app_backend:80 HTTP/1\.1$"), where);
                Assert.That(sent.Get("X-V-Misc"), Does.Match(@"^\d+ 1 [0-9a-f]{32} \d+\.\d{3} .+$"), where);
            });
        }
        Assert.Multiple(() =>
        {
            Assert.That(backend.ProtocolErrors, Is.Empty, "every byte the upstream received parsed as exactly the requests above");
            Assert.That(backend.RequestCount, Is.EqualTo(forwarded));
            Assert.That(forwarded, Is.GreaterThan(Cases / 4), "the cases exercise forwarding");
            Assert.That(refused, Is.GreaterThan(Cases / 10), "the cases exercise the cap");
        });
    }
}
