using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2, "Must show" 2: connection reuse by default (as current nginx), and none with
/// <c>keepalive 0</c>, <c>proxy_http_version 1.0</c> or the article's Mistake 1 under the legacy defaults;
/// issue 12: reuse after each way a response can end, asserted through the backend's connection numbers.
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

    /// <summary>Issue 12, after nginx-tests' proxy_keepalive.t: each way a response can end, then a second
    /// request, and the backend's connection numbers say whether the first one's connection was reused.
    /// A response whose end is known reuses it; one that asks for the close, or is delimited by it, does not.</summary>
    [TestCase("GET", "size=26", 200, 26, true, TestName = "Reuse_AfterContentLength")]
    [TestCase("GET", "size=0", 200, 0, true, TestName = "Reuse_AfterAnEmptyBody")]
    [TestCase("GET", "size=26&pause=50", 200, 26, true, TestName = "Reuse_AfterAContentLengthBodyWhoseTailComesLate")]
    [TestCase("HEAD", "size=26", 200, 0, true, TestName = "Reuse_AfterHead")]
    [TestCase("HEAD", "size=26&chunked=1", 200, 0, true, TestName = "Reuse_AfterHeadOfAChunkedResource")]
    [TestCase("GET", "status=204", 204, 0, true, TestName = "Reuse_After204")]
    [TestCase("GET", "status=304", 304, 0, true, TestName = "Reuse_After304")]
    [TestCase("GET", "status=304&length=100", 304, 0, true, TestName = "Reuse_After304WithContentLength")]
    [TestCase("GET", "size=26&chunked=1", 200, 26, true, TestName = "Reuse_AfterChunked")]
    [TestCase("GET", "size=20000&chunked=1", 200, 20000, true, TestName = "Reuse_AfterManyChunks")]
    [TestCase("GET", "size=0&chunked=1", 200, 0, true, TestName = "Reuse_AfterZeroLengthChunked")]
    [TestCase("GET", "size=1000&chunked=1&pause=50", 200, 1000, true, TestName = "Reuse_AfterChunkedWhoseFinalCrlfComesLate")]
    [TestCase("GET", "size=26&interim=1", 200, 26, true, TestName = "Reuse_AfterAn103ThenContentLength")]
    [TestCase("GET", "size=12&close=1", 200, 12, false, TestName = "NoReuse_AfterConnectionClose")]
    [TestCase("GET", "size=12&nolength=1", 200, 12, false, TestName = "NoReuse_AfterABodyDelimitedByTheClose")]
    [TestCase("GET", "size=2&fin=1", 200, 2, false, TestName = "NoReuse_AfterAnUnannouncedClose")]
    public void SecondRequest_ReusesTheConnection_OnlyWhenTheFirstResponseEndedCleanly(string method, string query, int status, int bodyLength, bool reused)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Bare, backend);
        var client = Connect(proxy);

        client.Send($"{method} /?{query} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var first = client.ReadResponse(headRequest: method == "HEAD");
        Assert.That(first.Status, Is.EqualTo(status), first.ToString());
        Assert.That(first.Body, Is.EqualTo(TestBackend.Body(bodyLength)), "the first response's body");
        Assert.That(first.HeaderInt("X-Connection"), Is.EqualTo(1));

        // A body delimited by the upstream's close reaches the client delimited by its close too.
        var second = (first.ConnectionClosedAfter ? Connect(proxy) : client).Get("/?size=7");
        Assert.That(second.Body, Is.EqualTo(TestBackend.Body(7)));
        Assert.That((second.HeaderInt("X-Connection"), second.HeaderInt("X-Request")), Is.EqualTo(reused ? (1, 2) : (2, 1)),
            reused ? "the second request reuses the first one's upstream connection" : "the second request needs a new upstream connection");
        Assert.That(backend.AcceptedConnections, Is.EqualTo(reused ? 1 : 2));
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
