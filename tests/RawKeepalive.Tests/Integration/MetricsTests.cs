using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 14: the <c>metrics;</c> page against known traffic. The figures are checked against what
/// the counting backend saw (its own accepted connections and requests), and the page against
/// <c>promtool check metrics</c> and Python's prometheus_client parser.</summary>
[TestFixture, Category("Integration"), CancelAfter(180_000)]
public sealed class MetricsTests : ProxyTestBase
{
    private const string Upstream = "app_backend";

    private static string Config(string upstream, string http = "") => Configs.With(upstream, http: http, server: """
        location = /metrics { metrics; allow 127.0.0.1; deny all; }
        location = /private { metrics; allow 10.1.2.3; deny all; }
        """);

    private static LoadResult Run(ProxyProcess proxy, int clients, int requestsPerClient) => new LoadRunner
    {
        Port = proxy.Port,
        Clients = clients,
        RequestsPerClient = requestsPerClient,
        Request = i => LoadRequest.Get($"/?size={i % 100}", TestBackend.Body(i % 100)),
        Deadline = TimeSpan.FromSeconds(120),
    }.Run(Cancellation);

    private static string Peer(TestBackend backend) => $"127.0.0.1:{backend.Port}";

    [Test]
    public void ThousandRequestsOverTenClients_OpenedIsWhatTheBackendAccepted_TheRestReused()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("keepalive 16;"), backend);
        var result = Run(proxy, clients: 10, requestsPerClient: 100);
        Assert.That(result.Succeeded, Is.EqualTo(1000), result.ToString());

        var page = MetricsScrape.Get(proxy.Port);
        string peer = Peer(backend);
        long P(string name, string labels = "") => page.Peer(name, Upstream, peer, labels);
        long opened = P("rawkeepalive_upstream_connections_opened_total");
        TestContext.Out.WriteLine($"measured: opened {opened}, backend accepted {backend.AcceptedConnections}, reused {P("rawkeepalive_upstream_connections_reused_total")}");
        long closed = (long)page.Samples.Where(s => s.Key.StartsWith("rawkeepalive_upstream_connections_closed_total{", StringComparison.Ordinal)).Sum(s => s.Value);
        Assert.Multiple(() =>
        {
            Assert.That(opened, Is.EqualTo(backend.AcceptedConnections), "connections opened: the backend's own count");
            Assert.That(opened, Is.InRange(1, 16), "keepalive 16 with 10 clients");
            Assert.That(P("rawkeepalive_upstream_connections_reused_total"), Is.EqualTo(1000 - opened), "every other request reused a connection");
            Assert.That(P("rawkeepalive_upstream_requests_total"), Is.EqualTo(1000));
            Assert.That(P("rawkeepalive_upstream_responses_total", "code=\"2xx\""), Is.EqualTo(1000));
            Assert.That(P("rawkeepalive_upstream_stale_retries_total"), Is.Zero);
            Assert.That(P("rawkeepalive_upstream_header_duration_seconds_count"), Is.EqualTo(1000));
            Assert.That(P("rawkeepalive_upstream_response_duration_seconds_count"), Is.EqualTo(1000));
            Assert.That(P("rawkeepalive_upstream_response_duration_seconds_bucket", "le=\"+Inf\""), Is.EqualTo(1000));
            Assert.That(P("rawkeepalive_upstream_connect_duration_seconds_count"), Is.EqualTo(opened), "one connect per opened connection");
            Assert.That(P("rawkeepalive_upstream_connections_active"), Is.Zero, "nothing in flight");
            Assert.That(P("rawkeepalive_upstream_connections_idle") + closed, Is.EqualTo(opened), "each opened connection is idle now or was closed");
            Assert.That(Wait.Until(() => backend.OpenConnections == P("rawkeepalive_upstream_connections_idle"), TimeSpan.FromSeconds(10)), Is.True,
                $"idle ones are the backend's open connections: {backend.OpenConnections}");
            Assert.That(P("rawkeepalive_upstream_connection_requests_count"), Is.EqualTo(closed), "requests per connection: one observation per close");
            Assert.That(page.Value("rawkeepalive_http_responses_total", "code=\"2xx\""), Is.EqualTo(1000), "the log phase: 1,000 answered 2xx before this scrape");
        });
    }

    [Test]
    public void Mistake1UnderLegacyDefaults_EveryRequestOpensAConnection_NoneIsReused()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("keepalive 64;", http: "keepalive_defaults legacy;"), backend);
        var result = Run(proxy, clients: 4, requestsPerClient: 250);
        Assert.That(result.Succeeded, Is.EqualTo(1000), result.ToString());

        var page = MetricsScrape.Get(proxy.Port);
        long P(string name, string labels = "") => page.Peer(name, Upstream, Peer(backend), labels);
        Assert.Multiple(() =>
        {
            Assert.That(P("rawkeepalive_upstream_connections_opened_total"), Is.EqualTo(1000));
            Assert.That(backend.AcceptedConnections, Is.EqualTo(1000));
            Assert.That(P("rawkeepalive_upstream_connections_reused_total"), Is.Zero);
            Assert.That(P("rawkeepalive_upstream_connections_closed_total", "reason=\"not_reusable\""), Is.EqualTo(1000),
                "HTTP/1.0 with Connection: close: the upstream closes after each response");
            Assert.That(P("rawkeepalive_upstream_connection_requests_bucket", "le=\"1\""), Is.EqualTo(1000), "one request per connection");
        });
    }

    [Test]
    public void Gauges_AndRequestsPerConnection_FollowTheConnections()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("keepalive 1; keepalive_requests 2;"), backend);
        long P(string name, string labels = "") => MetricsScrape.Get(proxy.Port).Peer(name, Upstream, Peer(backend), labels);
        var a = Connect(proxy);
        var b = Connect(proxy);
        a.Send("GET /?hold=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        b.Send("GET /?hold=1 HTTP/1.1\r\nHost: b\r\n\r\n");
        Assert.That(Wait.Until(() => backend.RequestCount == 2, TimeSpan.FromSeconds(10)), Is.True, "both requests reach the backend");
        Assert.That((P("rawkeepalive_upstream_connections_active"), P("rawkeepalive_upstream_connections_idle")), Is.EqualTo((2L, 0L)), "two in flight");
        backend.ReleaseHeld();
        Assert.That(new[] { a.ReadResponse().Status, b.ReadResponse().Status }, Is.All.EqualTo(200));
        // The one past keepalive 1 stays for the hand-off window (5 ms), in case a request wants it, then goes.
        Assert.That(Wait.Until(() => (P("rawkeepalive_upstream_connections_active"), P("rawkeepalive_upstream_connections_idle")) == (0L, 1L), TimeSpan.FromSeconds(10)),
            Is.True, "keepalive 1 keeps one, the other is closed");
        Assert.That(a.Get("/").Status, Is.EqualTo(200), "the pooled connection's second request retires it (keepalive_requests 2)");
        Assert.Multiple(() =>
        {
            Assert.That(P("rawkeepalive_upstream_connections_closed_total", "reason=\"pool_full\""), Is.EqualTo(1));
            Assert.That(P("rawkeepalive_upstream_connections_closed_total", "reason=\"max_requests\""), Is.EqualTo(1));
            Assert.That(P("rawkeepalive_upstream_connections_idle"), Is.Zero);
            Assert.That(P("rawkeepalive_upstream_connection_requests_bucket", "le=\"1\""), Is.EqualTo(1), "the evicted one carried one request");
            Assert.That(P("rawkeepalive_upstream_connection_requests_bucket", "le=\"2\""), Is.EqualTo(2), "the retired one two");
            Assert.That(P("rawkeepalive_upstream_connection_requests_sum"), Is.EqualTo(3));
        });
    }

    [Test]
    public void ThePage_PassesPromtool_AndPrometheusClientsParser()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("keepalive 1;"), backend);
        using (var client = Connect(proxy))
        {
            foreach (string target in new[] { "/?size=10", "/?status=404", "/?status=503", "/?close=1", "/?interim=1", "/?chunked=1&size=100" })
                Assert.That(client.Get(target).Status, Is.Not.EqualTo(502), target);
        }
        var page = MetricsScrape.Get(proxy.Port);

        var (code, output) = page.Check("promtool", "check", "metrics");
        Assert.That(code, Is.Zero, $"promtool check metrics:\n{output}\n{page.Text}");
        const string parse = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            families = list(text_string_to_metric_families(sys.stdin.read()))
            for f in families:
                print(f.type, f.name, len(f.samples))
            """;
        (code, output) = page.Check("/usr/bin/python3", "-c", parse);
        Assert.That(code, Is.Zero, $"prometheus_client:\n{output}");
        TestContext.Out.WriteLine(output);
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain("counter rawkeepalive_upstream_connections_opened"));
            Assert.That(output, Does.Contain("gauge rawkeepalive_upstream_connections_idle"));
            Assert.That(output, Does.Contain("histogram rawkeepalive_upstream_response_duration_seconds"));
            Assert.That(output, Does.Contain("histogram rawkeepalive_upstream_connection_requests"));
            Assert.That(page.Peer("rawkeepalive_upstream_responses_total", Upstream, Peer(backend), "code=\"4xx\""), Is.EqualTo(1));
            Assert.That(page.Peer("rawkeepalive_upstream_responses_total", Upstream, Peer(backend), "code=\"5xx\""), Is.EqualTo(1));
        });
    }

    [Test]
    public void AllowAndDeny_GuardThePage()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config(""), backend);
        using var client = Connect(proxy);
        Assert.That(client.Get("/private").Status, Is.EqualTo(403));
        Assert.That(client.Get("/metrics").Status, Is.EqualTo(200), "allow 127.0.0.1 lets loopback in");
        Assert.That(proxy.WaitForErrorLog("access forbidden by rule"), Is.True);
    }
}
