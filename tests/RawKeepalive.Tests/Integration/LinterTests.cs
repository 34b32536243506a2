using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 3: <c>-t</c> on every file of conf/examples gives exactly the expected keepalive warnings,
/// each naming FILE:LINE; exit 0, or 1 with <c>--strict</c>.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class LinterTests
{
    /// <summary>Example file → (rule, text on the line the warning must name).</summary>
    private static readonly Dictionary<string, (int Rule, string Line)[]> Expected = new()
    {
        ["production.conf"] = [],
        ["tldr.conf"] = [],
        ["multi-site.conf"] = [],
        ["legacy-migration.conf"] = [],
        ["mistake1-forgot-http11.conf"] = [(1, "proxy_pass http://app_backend;"), (2, "proxy_pass http://app_backend;")],
        ["mistake2-pool-too-small.conf"] = [(3, "keepalive 4;")],
        ["mistake3-timeout-too-long.conf"] = [(5, "keepalive_timeout 120s;")],
        ["mistake4-upstream-without-pool.conf"] = [(4, "proxy_pass http://static_backend;")],
        ["mistake5-long-requests.conf"] = [],
    };

    private static readonly Dictionary<int, string> RuleMarker = new()
    {
        [1] = "over HTTP/1.0",
        [2] = "sends \"Connection: close\"",
        [3] = "idle connections per worker",
        [4] = "opens a new upstream connection for every request",
        [5] = "longer than common upstream servers keep an idle connection",
    };

    [Test]
    public void EveryExampleFile_IsCovered() =>
        Assert.That(Directory.GetFiles(ExampleConfigs.Directory, "*.conf").Select(Path.GetFileName).Order(),
            Is.EqualTo(Expected.Keys.Order()));

    [TestCaseSource(nameof(Files))]
    public void Example_GivesExactlyItsWarnings(string file)
    {
        var r = ProxyProcess.RunConfigTest(ExampleConfigs.Read(file));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Output);
        Assert.That(r.Output, Does.Contain("test is successful"));
        var warnings = r.Output.Split('\n').Where(l => l.Contains("[warn]")).ToList();
        var expected = Expected[file];
        Assert.That(warnings, Has.Count.EqualTo(expected.Length), r.Output);
        for (int i = 0; i < expected.Length; i++)
        {
            var (rule, line) = expected[i];
            Assert.That(warnings[i], Does.Contain(RuleMarker[rule]).And.EndWith($" in {r.ConfigPath}:{r.LineOf(line)}"), r.Output);
            Assert.That(warnings[i], Does.Contain("; "), "a warning gives the fix after the reason");
        }
    }

    [TestCaseSource(nameof(Files))]
    public void Strict_FailsExactlyTheFilesWithWarnings(string file)
    {
        var r = ProxyProcess.RunCommand(ExampleConfigs.Read(file), ["-t", "--strict"]);
        Assert.That(r.ExitCode, Is.EqualTo(Expected[file].Length > 0 ? 1 : 0), r.Output);
    }

    private static IEnumerable<string> Files() => Expected.Keys;

    [Test]
    public void ImplicitUpstream_HasNoPool_Rule4()
    {
        var r = ProxyProcess.RunConfigTest("events {}\nhttp { server { listen 127.0.0.1:{PORT}; location / { proxy_pass http://127.0.0.1:9; } } }\n");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Output);
        Assert.That(r.Output, Does.Contain("proxy_pass to an address without an upstream block keeps no idle connections")
            .And.Contain($" in {r.ConfigPath}:3"));
    }

    [Test]
    public void KeepaliveZero_Rule4_AndExplicitHttp10_Rule1_WithoutLegacy()
    {
        var r = ProxyProcess.RunConfigTest("""
            events {}
            http {
                upstream none { server 127.0.0.1:9; keepalive 0; }
                upstream pool { server 127.0.0.1:9; }
                server {
                    listen 127.0.0.1:{PORT};
                    location /a { proxy_pass http://none; }
                    location /b { proxy_http_version 1.0; proxy_pass http://pool; }
                }
            }
            """);
        var warnings = r.Output.Split('\n').Where(l => l.Contains("[warn]")).ToList();
        Assert.That(warnings, Has.Count.EqualTo(2), r.Output);
        Assert.That(warnings[0], Does.Contain("upstream \"none\" has \"keepalive 0\"").And.EndWith($":{r.LineOf("location /a")}"));
        Assert.That(warnings[1], Does.Contain("over HTTP/1.0").And.Not.Contain("legacy").And.EndWith($":{r.LineOf("location /b")}"));
    }
}
