using System.Text.RegularExpressions;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 14, the keepalive doctor with a 1 s interval: each cause provoked against the counting
/// backend, and its exact [warn] line (figures as patterns, words exact); none for a healthy config, and
/// none with <c>keepalive_doctor off</c>.</summary>
[TestFixture, Category("Integration"), CancelAfter(90_000)]
public sealed class KeepaliveDoctorTests : ProxyTestBase
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    private static string Config(string upstream, string location = "", string http = "keepalive_doctor_interval 1s;") =>
        Configs.With(upstream, location, http: http);

    /// <summary>The line's start: the upstream, the figure, the dominant reason.</summary>
    private static string Figure(string reason) =>
        @"\[warn\] \d+#0: keepalive doctor: upstream ""app_backend"" reused a connection for \d+% of \d+ requests in the last 1s "
        + $@"\(\d+ connections opened\); \d+ of \d+ closes were {reason}: ";

    private static Regex Line(string reason, string causeAndFix) => new(Figure(reason) + Regex.Escape(causeAndFix) + "$", RegexOptions.Multiline);

    /// <summary>Sends <paramref name="burst"/> rounds of load until the doctor's [warn] line for the
    /// upstream appears (it looks once a second), then checks it is <paramref name="expected"/>.</summary>
    private static void AssertDiagnosis(ProxyProcess proxy, Regex expected, Action burst)
    {
        Assert.That(Wait.Until(() =>
        {
            burst();
            return proxy.ErrorLog.Contains("[warn]", StringComparison.Ordinal) && proxy.ErrorLog.Contains("keepalive doctor", StringComparison.Ordinal);
        }, Settle, TimeSpan.Zero), Is.True, $"the doctor's warning:\n{proxy.ErrorLog}");
        string warning = proxy.ErrorLog.Split('\n').First(l => l.Contains("[warn]", StringComparison.Ordinal) && l.Contains("keepalive doctor", StringComparison.Ordinal));
        TestContext.Out.WriteLine(warning);
        Assert.That(expected.IsMatch(warning), Is.True, $"the line:\n{warning}\nexpected:\n{expected}");
    }

    /// <summary><paramref name="clients"/> clients, <paramref name="each"/> requests each, at once.</summary>
    private void Load(ProxyProcess proxy, int clients, int each, string target = "/")
    {
        var result = new LoadRunner
        {
            Port = proxy.Port,
            Clients = clients,
            RequestsPerClient = each,
            Request = _ => LoadRequest.Get(target),
            Deadline = TimeSpan.FromSeconds(30),
        }.Run(Cancellation);
        Assert.That(result.Failed, Is.Zero, result.ToString());
    }

    /// <summary>Bursts of sixteen clients, each burst after the pool is back to its two connections: what a
    /// burst opened past keepalive 2 stays only for the hand-off window, so the next burst opens it again.</summary>
    [Test]
    public void APoolOfTwoUnderSixteenClients_RaiseKeepalive()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Config("keepalive 2;"), backend);
        AssertDiagnosis(proxy, Line("pool_full",
            "the pool was full, so idle connections beyond \"keepalive 2\" were closed; " +
            "fix: raise \"keepalive 2\" in upstream \"app_backend\" (Mistake 2: keepalive value too low)"),
            () =>
            {
                Load(proxy, clients: 16, each: 5);
                Assert.That(Wait.Until(() => backend.OpenConnections <= 2, Settle), Is.True, "the pool is back to keepalive 2");
            });
    }

    [Test]
    public void ABackendClosingIdleConnectionsFirst_LowerKeepaliveTimeout()
    {
        var backend = StartBackend(idleTimeout: TimeSpan.FromMilliseconds(500));
        var proxy = StartProxy(Config("keepalive 32; keepalive_timeout 60s;"), backend);
        AssertDiagnosis(proxy, Line("closed_while_idle",
            "the upstream closed idle connections before they were reused; " +
            "fix: lower \"keepalive_timeout 60s\" in upstream \"app_backend\" below the upstream's own idle timeout " +
            "(Mistake 3: keepalive_timeout higher than the upstream's)"),
            () =>
            {
                // Eight requests at once, each held 50 ms so they need eight connections; then the
                // backend's idle timeout closes all of them before the next round.
                Load(proxy, clients: 8, each: 1, target: "/?delay=50");
                Assert.That(Wait.Until(() => backend.OpenConnections == 0, Settle), Is.True, "the backend closed its idle connections");
            });
    }

    private const string Mistake1 = "(Mistake 1: keepalive without proxy_http_version 1.1 and an empty Connection header)";

    /// <summary>Four clients, ten requests each a round: every request closes its connection, for the reason the case names.</summary>
    private static IEnumerable<TestCaseData> EveryRequestOpens()
    {
        static TestCaseData Case(string name, string upstream, string location, string http, string target, string reason, string causeAndFix) =>
            new TestCaseData(upstream, location, http, target, reason, causeAndFix).SetName(name);
        const string Interval = "keepalive_doctor_interval 1s;";
        yield return Case("AnUpstreamAnsweringConnectionClose_FixTheUpstream", "keepalive 32;", "", Interval, "/?close=1", "not_reusable",
            "the upstream answered \"Connection: close\" or HTTP/1.0; fix: make the upstream keep connections alive " +
            "(HTTP/1.1 without \"Connection: close\"), and keep \"proxy_http_version 1.1\"");
        yield return Case("ProxySetHeaderConnectionClose_ClearTheHeader", "keepalive 32;", "proxy_set_header Connection close;", Interval, "/", "not_reusable",
            $"the config sends \"Connection: close\" upstream; fix: add 'proxy_set_header Connection \"\";' {Mistake1}");
        yield return Case("Mistake1UnderLegacyDefaults_ProxyHttpVersionAndConnection", "keepalive 64;", "", "keepalive_defaults legacy; " + Interval, "/", "not_reusable",
            "the config sends requests over HTTP/1.0 with \"Connection: close\"; " +
            $"fix: add \"proxy_http_version 1.1;\" and 'proxy_set_header Connection \"\";' {Mistake1}");
        yield return Case("NoPool_AddKeepalive", "keepalive 0;", "", Interval, "/", "not_reusable",
            "upstream \"app_backend\" keeps no idle connections; fix: add \"keepalive 64;\" to upstream \"app_backend\" " +
            "(Mistake 4: an upstream without keepalive)");
        yield return Case("KeepaliveRequestsOfOne_RaiseIt", "keepalive 32; keepalive_requests 1;", "", Interval, "/", "max_requests",
            "\"keepalive_requests 1\" retired connections; fix: raise \"keepalive_requests 1\" in upstream \"app_backend\"");
        // Each response is held 5 ms, so every connection is older than 1 ms when it is released.
        yield return Case("AShortKeepaliveTime_RaiseIt", "keepalive 32; keepalive_time 1ms;", "", Interval, "/?delay=5", "max_time",
            "\"keepalive_time 1ms\" retired connections; fix: raise \"keepalive_time 1ms\" in upstream \"app_backend\"");
    }

    [TestCaseSource(nameof(EveryRequestOpens))]
    public void EveryRequestOpensAConnection(string upstream, string location, string http, string target, string reason, string causeAndFix)
    {
        var proxy = StartProxy(Config(upstream, location, http), StartBackend());
        AssertDiagnosis(proxy, Line(reason, causeAndFix), () => Load(proxy, clients: 4, each: 10, target));
    }

    [Test]
    public void AHealthyConfig_GetsNoWarning()
    {
        var proxy = StartProxy(Config("keepalive 32;"), StartBackend());
        int looks = 0;
        Assert.That(Wait.Until(() =>
        {
            Load(proxy, clients: 16, each: 50);
            looks = Regex.Matches(proxy.ErrorLog, @"\[info\] \d+#0: keepalive doctor: upstream ""app_backend"" reused a connection for").Count;
            return looks >= 3;
        }, Settle, TimeSpan.Zero), Is.True, $"the doctor looked at three busy intervals:\n{proxy.ErrorLog}");
        Assert.That(proxy.ErrorLog, Does.Not.Contain("[warn]"), "no warning for a healthy config");
        TestContext.Out.WriteLine(proxy.ErrorLog.Split('\n').First(l => l.Contains("keepalive doctor", StringComparison.Ordinal)));
    }

    [Test]
    public void KeepaliveDoctorOff_SilencesIt()
    {
        var proxy = StartProxy(Config("keepalive 2;", http: "keepalive_doctor off; keepalive_doctor_interval 1s;"), StartBackend());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The same traffic that gets "raise keepalive" above, for three of its intervals.
        while (clock.Elapsed < TimeSpan.FromSeconds(3.5))
            Load(proxy, clients: 16, each: 50);
        Assert.That(proxy.ErrorLog, Does.Not.Contain("keepalive doctor"));
    }
}
