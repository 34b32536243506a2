using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2, "Must show" 2: connection reuse by default (as current nginx), and none with
/// <c>keepalive 0</c>, <c>proxy_http_version 1.0</c> or the article's Mistake 1 under the legacy defaults.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class UpstreamReuseTests : ProxyTestBase
{
    private static LoadResult Run(ProxyProcess proxy, int clients, int requestsPerClient) => new LoadRunner
    {
        Port = proxy.Port,
        Clients = clients,
        RequestsPerClient = requestsPerClient,
        Request = i => LoadRequest.Get($"/?size={i % 200}", TestBackend.Body(i % 200)),
        Deadline = TimeSpan.FromSeconds(90),
    }.Run(Cancellation);

    [Test]
    public void BareConfig_ReusesUpstreamConnections_FewerThanOnePer100Requests()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Bare, backend);
        var result = Run(proxy, clients: 4, requestsPerClient: 250);
        Assert.That(result.Succeeded, Is.EqualTo(1000), result.ToString());
        TestContext.Out.WriteLine($"measured: {backend.AcceptedConnections} upstream connections for 1,000 requests");
        Assert.That(backend.AcceptedConnections, Is.LessThan(10), "upstream connections for 1,000 requests");
    }

    [TestCase("keepalive 0;", "", TestName = "KeepaliveZero_OneUpstreamConnectionPerRequest")]
    [TestCase("", "proxy_http_version 1.0;", TestName = "ProxyHttpVersion10_OneUpstreamConnectionPerRequest")]
    public void NoReuse_OneUpstreamConnectionPerRequest(string upstreamExtra, string locationExtra)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.With(upstreamExtra, locationExtra), backend);
        var result = Run(proxy, clients: 2, requestsPerClient: 100);
        Assert.That(result.Succeeded, Is.EqualTo(200), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.EqualTo(200), "upstream connections for 200 requests");
        Assert.That(backend.Requests.Select(r => r.Number).Distinct(), Is.EqualTo(new[] { 1 }), "requests per upstream connection");
        if (upstreamExtra != "")
            Assert.That(backend.Requests.Select(r => r.Get("Connection")).Distinct(), Is.EqualTo(new[] { "close" }),
                "without a pool the upstream is asked to close, so its TIME_WAIT is not on the proxy's ports");
    }

    [Test]
    public void Mistake1_UnderLegacyDefaults_OneUpstreamConnectionPerRequest()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Mistake1Legacy, backend);
        var result = Run(proxy, clients: 2, requestsPerClient: 100);
        Assert.That(result.Succeeded, Is.EqualTo(200), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.EqualTo(200), "upstream connections for 200 requests");
    }
}
