using NUnit.Framework;
using RawKeepalive.Config;

namespace RawKeepalive.Tests.Config;

/// <summary>Environment variables over the file (Microsoft.Extensions.Configuration), and -g before it.</summary>
[TestFixture, CancelAfter(30_000)]
public class LayeringTests
{
    private const string File = "worker_processes 1;\npid logs/file.pid;\nevents { worker_connections 64; }\nhttp {}\n";

    private static ProxyConfig Load(string text, Dictionary<string, string>? env = null, string? g = null) =>
        ConfigLoader.LoadText(text, ConfigText.FileName, "/prefix", new LoadOptions
        {
            Environment = env is null ? null : name => env.GetValueOrDefault(name),
            CommandLineDirectives = g,
        });

    private static string ErrorOf(string text, Dictionary<string, string>? env = null, string? g = null) =>
        Assert.Throws<ConfigException>(() => Load(text, env, g))!.Message;

    [Test]
    public void EnvironmentOverridesTheFile()
    {
        var c = Load(File, new()
        {
            ["RAWKEEPALIVE_WORKER_PROCESSES"] = "4",
            ["RAWKEEPALIVE_WORKER_CONNECTIONS"] = "2048",
            ["RAWKEEPALIVE_PID"] = "/run/rk.pid",
            ["RAWKEEPALIVE_DAEMON"] = "off",
            ["RAWKEEPALIVE_ERROR_LOG"] = "stderr warn",
            ["RAWKEEPALIVE_UNRELATED"] = "x",
        });
        Assert.Multiple(() =>
        {
            Assert.That(c.WorkerProcesses, Is.EqualTo(4));
            Assert.That(c.WorkerConnections, Is.EqualTo(2048));
            Assert.That(c.PidPath, Is.EqualTo("/run/rk.pid"));
            Assert.That(c.Daemon, Is.False);
            Assert.That((c.ErrorLogPath, c.ErrorLogLevel), Is.EqualTo(("stderr", "warn")));
        });
    }

    [Test]
    public void WithoutEnvironment_TheFileWins()
    {
        var c = Load(File, new());
        Assert.That((c.WorkerProcesses, c.WorkerConnections, c.PidPath), Is.EqualTo((1, 64, "/prefix/logs/file.pid")));
    }

    [Test]
    public void Environment_SetsWhatTheFileLeavesOut() =>
        Assert.That(Load("http {}\n", new() { ["RAWKEEPALIVE_WORKER_CONNECTIONS"] = "99" }).WorkerConnections, Is.EqualTo(99));

    [TestCase("RAWKEEPALIVE_WORKER_PROCESSES", "many", "\"worker_processes\" directive invalid value in environment variable RAWKEEPALIVE_WORKER_PROCESSES")]
    [TestCase("RAWKEEPALIVE_DAEMON", "maybe", "invalid value \"maybe\" in \"daemon\" directive, it must be \"on\" or \"off\" in environment variable RAWKEEPALIVE_DAEMON")]
    [TestCase("RAWKEEPALIVE_PID", "", "invalid number of arguments in \"pid\" directive in environment variable RAWKEEPALIVE_PID")]
    public void EnvironmentErrors_NameTheVariable(string name, string value, string expected) =>
        Assert.That(ErrorOf(File, new() { [name] = value }), Is.EqualTo(expected));

    [Test]
    public void CommandLine_AddsMainDirectives() =>
        Assert.That(Load("http {}\n", g: "worker_processes 3; daemon off;").WorkerProcesses, Is.EqualTo(3));

    [Test]
    public void CommandLine_DuplicateFailsAtTheFileLine() =>
        Assert.That(ErrorOf(File, g: "pid x.pid;"), Is.EqualTo("\"pid\" directive is duplicate in t.conf:2"));

    [TestCase("worker_processes 2", "unexpected end of parameter, expecting \";\" in command line")]
    [TestCase("server {}", "\"server\" directive is not allowed here in command line")]
    [TestCase("nonsense;", "unknown directive \"nonsense\" in command line")]
    public void CommandLine_Errors_SayCommandLine(string g, string expected) =>
        Assert.That(ErrorOf("http {}\n", g: g), Is.EqualTo(expected));

    [Test]
    public void EnvironmentWinsOverCommandLine() =>
        Assert.That(Load("http {}\n", new() { ["RAWKEEPALIVE_WORKER_PROCESSES"] = "5" }, "worker_processes 3;").WorkerProcesses, Is.EqualTo(5));
}
