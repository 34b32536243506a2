using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 2, deliverable 9: <c>-t</c> accepts the article's configs and rejects <c>listen 443 ssl http2</c> at its FILE:LINE.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class ConfigCheckTests
{
    /// <summary>The article's production config as shipped in conf/examples (its <c>listen 443 ssl http2</c>
    /// there is <c>listen 80</c>), with <paramref name="listen"/> in that line's place.</summary>
    private static string Production(string listen) => ExampleConfigs.Read("production.conf").Replace("listen 80;", listen, StringComparison.Ordinal);

    [Test]
    public void ValidConfigs_Exit0()
    {
        foreach (string config in new[] { Production("listen 127.0.0.1:{PORT};"), Configs.Tldr, Configs.Bare })
        {
            var (exitCode, output) = ProxyProcess.RunConfigTest(config, backend: FreePort.Probe());
            Assert.That(exitCode, Is.Zero, $"{output}\n--- config:\n{config}");
        }
    }

    [Test]
    public void ListenSslHttp2_Exit1_NamingFileAndLine()
    {
        var result = ProxyProcess.RunConfigTest(Production("listen 443 ssl http2;"), backend: FreePort.Probe());
        string where = $"{result.ConfigPath}:{result.LineOf("listen 443 ssl http2;")}";
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1), result.Output);
            Assert.That(result.Output, Does.Contain(where), $"the message should name {where}");
        });
    }
}
