using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 15 "Closing idle connections without TIME_WAIT": the proxy closes an idle, clean upstream
/// connection it retires itself (here: evicted from a full pool) with a reset, so its port skips TIME_WAIT;
/// <c>keepalive_close graceful</c> keeps the FIN. A request or response in flight never meets the reset.</summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class AbortiveCloseTests : ProxyTestBase
{
    private static int TimeWaitTo(int port) => TcpTable.CountTo(port, TcpTable.TimeWait);

    private LoadResult Load(ProxyProcess proxy, int clients, int requestsPerClient, Func<int, LoadRequest> request) => new LoadRunner
    {
        Port = proxy.Port,
        Clients = clients,
        RequestsPerClient = requestsPerClient,
        Request = request,
        Deadline = TimeSpan.FromSeconds(60),
    }.Run(Cancellation);

    /// <summary>16 clients over keepalive 1: nearly every release finds the pool full and evicts.</summary>
    private (LoadResult Result, TestBackend Backend, int TimeWait) Churn(string close)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.With(upstreamExtra: $"keepalive 1; {close}"), backend);
        var result = Load(proxy, 16, 25, _ => LoadRequest.Get("/?size=100&delay=2", TestBackend.Body(100)));
        // The backend closes its side after the proxy's close: wait until only the pooled connection is open.
        Wait.Until(() => backend.OpenConnections <= 1, TimeSpan.FromSeconds(10));
        int timeWait = TimeWaitTo(backend.Port);
        TestContext.Out.WriteLine($"measured ({close}): {backend.AcceptedConnections} upstream connections for {result.Succeeded} requests, "
            + $"{timeWait} in TIME_WAIT on the proxy's side, resets at the backend: {backend.ResetsBetweenRequests} between requests, {backend.ResetsInExchange} in an exchange");
        Assert.That(result.Succeeded, Is.EqualTo(400), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.GreaterThan(10), "the load churned connections through the full pool");
        return (result, backend, timeWait);
    }

    [Test]
    public void PoolFull_Reset_LeavesNoTimeWait_AndNoRequestMeetsTheReset()
    {
        var (_, backend, timeWait) = Churn("");
        Assert.That(timeWait, Is.Zero, "an evicted idle connection is closed with a reset: its port skips TIME_WAIT");
        Assert.That(backend.ResetsBetweenRequests, Is.GreaterThan(0), "the backend saw the resets, between requests");
        Assert.That(backend.ResetsInExchange, Is.Zero, "no request or response in flight ever met a reset");
        Assert.That(backend.ProtocolErrors, Is.Empty);
    }

    [Test]
    public void PoolFull_Graceful_LeavesTimeWait()
    {
        var (_, backend, timeWait) = Churn("keepalive_close graceful;");
        Assert.That(timeWait, Is.GreaterThan(0), "a FIN first leaves the proxy's side in TIME_WAIT");
        Assert.That(backend.ResetsBetweenRequests + backend.ResetsInExchange, Is.Zero, "graceful closes send no reset");
    }

    /// <summary>keepalive_requests 1 retires every connection after its complete exchange: each close is
    /// abortive, and still none lands on a request in flight (the response was read whole first).</summary>
    [Test]
    public void KeepaliveRequests_Reset_AfterCompleteExchange_NeverOnARequest()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.With(upstreamExtra: "keepalive 8; keepalive_requests 1;"), backend);
        var result = Load(proxy, 8, 20, i => i % 2 == 0 ? LoadRequest.Get("/?size=70000", TestBackend.Body(70000)) : LoadRequest.Get("/?size=10", TestBackend.Body(10)));
        Assert.That(result.Succeeded, Is.EqualTo(160), result.ToString());
        Assert.That(Wait.Until(() => backend.OpenConnections == 0, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(backend.AcceptedConnections, Is.EqualTo(160));
        Assert.That(backend.ResetsInExchange, Is.Zero, "no response in flight met a reset");
        Assert.That(TimeWaitTo(backend.Port), Is.Zero);
    }
}
