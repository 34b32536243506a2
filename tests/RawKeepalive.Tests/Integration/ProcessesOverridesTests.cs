using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 4: the master hands workers the config it resolved, so workers never lose -g directives or
/// environment overrides — not at start, and not after a reload, which loads the same way again.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class ProcessesOverridesTests : ProxyTestBase
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    private const string Template = """
        events { worker_connections 256; }
        http { server { listen 127.0.0.1:{PORT}; location / { return 200 "gen0"; } } }
        """;

    [Test]
    public void CommandLineDirectives_AndEnvironment_ReachTheWorkers_AndSurviveAReload()
    {
        var proxy = Track(ProxyProcess.Start(Template, master: true,
            extraArgs: ["-g", "worker_processes 2;"],
            environment: new Dictionary<string, string> { ["RAWKEEPALIVE_WORKER_CONNECTIONS"] = "300" }));
        Assert.That(Wait.Until(() => proxy.ChildPids().Length == 2, Settle), Is.True, "-g worker_processes 2 started two workers");
        int[] first = proxy.ChildPids();

        File.WriteAllText(proxy.ConfigPath, proxy.ConfigText.Replace("gen0", "gen1", StringComparison.Ordinal));
        Assert.That(proxy.RunCommand("-s", "reload").ExitCode, Is.Zero);
        Assert.That(Wait.Until(() => Connect(proxy).Get("/").Body.SequenceEqual("gen1"u8.ToArray()), Settle), Is.True, "the new config is served");
        Assert.That(Wait.Until(() => proxy.ChildPids() is { Length: 2 } now && !now.Intersect(first).Any(), Settle), Is.True,
            "the new generation has two workers again: -g was applied to the reload too");
        Assert.That(proxy.ErrorLog, Does.Not.Contain("[emerg]"));
    }
}
