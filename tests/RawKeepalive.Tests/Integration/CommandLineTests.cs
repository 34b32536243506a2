using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 3: every command-line flag and its exit code, as nginx's; the pid file's life; the
/// environment and -g layers over the file.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class CommandLineTests : ProxyTestBase
{
    private const string Minimal = "events {}\nhttp { server { listen 127.0.0.1:{PORT}; return 200 ok; } }\n";

    private static ConfigTestResult Run(params string[] args) => ProxyProcess.RunCommand(Minimal, args);

    [TestCase("-v")]
    [TestCase("-h")]
    [TestCase("-?")]
    [TestCase("-V")]
    public void VersionAndHelp_Exit0(string flag)
    {
        var r = Run(flag);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Output);
        Assert.That(r.Output, Does.Contain("rawkeepalive version: rawkeepalive/"));
        if (flag is "-h" or "-?") Assert.That(r.Output, Does.Contain("Usage: rawkeepalive [-?hvVtTq] [-s signal]").And.Contain("-g directives"));
        if (flag == "-V") Assert.That(r.Output, Does.Contain("built with .NET"));
        Assert.That(r.Output, Does.Not.Contain("syntax is ok"));
    }

    [TestCase(new[] { "-x" }, "invalid option: \"x\"")]
    [TestCase(new[] { "plain" }, "invalid option: \"plain\"")]
    [TestCase(new[] { "-s", "restart" }, "invalid option: \"-s restart\"")]
    [TestCase(new[] { "-s" }, "option \"-s\" requires parameter")]
    [TestCase(new[] { "-g" }, "option \"-g\" requires parameter")]
    [TestCase(new[] { "-e" }, "option \"-e\" requires file name")]
    [TestCase(new[] { "-c" }, "option \"-c\" requires file name")]
    public void InvalidOptions_Exit1(string[] args, string message)
    {
        var r = ProxyProcess.RunCommand(Minimal, args, withConfigFlag: args[0] != "-c");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Output);
        Assert.That(r.Output, Does.Contain("rawkeepalive: " + message));
    }

    [Test]
    public void Test_PrintsNginxLines_AndQuietSuppressesThem()
    {
        var r = Run("-t");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Output);
        Assert.That(r.Output, Does.Contain($"the configuration file {r.ConfigPath} syntax is ok")
            .And.Contain($"configuration file {r.ConfigPath} test is successful"));
        var q = Run("-tq");
        Assert.That((q.ExitCode, q.Output), Is.EqualTo((0, "")));
    }

    [Test]
    public void Test_FailingConfig_Exit1()
    {
        var r = ProxyProcess.RunCommand("events {}\nhttp { bogus; }\n", ["-t"]);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Output);
        Assert.That(r.Output, Does.Contain($"[emerg] unknown directive \"bogus\" in {r.ConfigPath}:3")
            .And.Contain($"configuration file {r.ConfigPath} test failed"));
    }

    [Test]
    public void WithoutC_TheConfigIsConfRawkeepaliveConfUnderThePrefix()
    {
        var r = ProxyProcess.RunCommand(Minimal, ["-t"], withConfigFlag: false);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Output);
        Assert.That(r.Output, Does.Contain(Path.Combine(r.Prefix, "conf", "rawkeepalive.conf") + " syntax is ok"));
    }

    [Test]
    public void DumpConfig_PrintsEveryFileWithIncludesResolved()
    {
        var r = ProxyProcess.RunCommand("events {}\nhttp { include extra/*.conf; server { listen 127.0.0.1:{PORT}; } }\n", ["-T"],
            files: new Dictionary<string, string> { ["conf/extra/a.conf"] = "keepalive_timeout 5s;\n" });
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Output);
        Assert.That(r.StandardOutput, Does.StartWith($"# configuration file {r.ConfigPath}:\n"));
        Assert.That(r.StandardOutput, Does.Contain($"# configuration file {Path.Combine(Path.GetDirectoryName(r.ConfigPath)!, "extra", "a.conf")}:\nkeepalive_timeout 5s;\n"));
        Assert.That(r.Output, Does.Contain("test is successful"));
    }

    [Test]
    public void GlobalDirectives_AreAdded_AndADuplicateFailsAtTheFileLine()
    {
        var ok = Run("-t", "-g", "worker_processes 2; worker_rlimit_nofile 4096;");
        Assert.That(ok.ExitCode, Is.EqualTo(0), ok.Output);

        var dup = Run("-t", "-g", "daemon on;");   // the preamble on line 1 sets daemon too
        Assert.That(dup.ExitCode, Is.EqualTo(1), dup.Output);
        Assert.That(dup.Output, Does.Contain($"\"daemon\" directive is duplicate in {dup.ConfigPath}:1"));

        var open = Run("-t", "-g", "worker_processes 2");
        Assert.That(open.ExitCode, Is.EqualTo(1), open.Output);
        Assert.That(open.Output, Does.Contain("unexpected end of parameter, expecting \";\" in command line"));

        var wrong = Run("-t", "-g", "listen 80;");
        Assert.That(wrong.Output, Does.Contain("\"listen\" directive is not allowed here in command line"));
    }

    [Test]
    public void Environment_OverridesTheFile_AndNamesItselfInErrors()
    {
        var bad = ProxyProcess.RunCommand(Minimal, ["-t"], new Dictionary<string, string> { ["RAWKEEPALIVE_WORKER_PROCESSES"] = "many" });
        Assert.That(bad.ExitCode, Is.EqualTo(1), bad.Output);
        Assert.That(bad.Output, Does.Contain("\"worker_processes\" directive invalid value in environment variable RAWKEEPALIVE_WORKER_PROCESSES"));

        // The preamble's pid line is overridden: the running server writes its pid where the environment says.
        var proxy = Track(ProxyProcess.Start(Minimal, environment: new Dictionary<string, string> { ["RAWKEEPALIVE_PID"] = "logs/from-env.pid" }));
        string pidFile = Path.Combine(proxy.Prefix, "logs", "from-env.pid");
        Assert.That(Wait.Until(() => File.Exists(pidFile), TimeSpan.FromSeconds(10)), Is.True, proxy.Describe());
        Assert.That(File.Exists(proxy.PidFilePath), Is.False);
    }

    [Test]
    public void PidFile_ExistsWhileListening_AndStopRemovesIt()
    {
        var proxy = Track(ProxyProcess.Start(Minimal));
        Assert.That(File.ReadAllText(proxy.PidFilePath).Trim(), Is.EqualTo(proxy.ProcessId.ToString()));
        var stop = proxy.RunCommand("-s", "stop");
        Assert.That(stop.ExitCode, Is.EqualTo(0), stop.Output);
        Assert.That(proxy.WaitForExit(TimeSpan.FromSeconds(20)), Is.EqualTo(0), proxy.Describe());
        Assert.That(File.Exists(proxy.PidFilePath), Is.False);
    }

    [Test]
    public void Quit_StopsGracefully()
    {
        var proxy = Track(ProxyProcess.Start(Minimal));
        var quit = proxy.RunCommand("-s", "quit");
        Assert.That(quit.ExitCode, Is.EqualTo(0), quit.Output);
        Assert.That(proxy.WaitForExit(TimeSpan.FromSeconds(20)), Is.EqualTo(0), proxy.Describe());
    }

    [Test]
    public void Signal_WithoutPidFile_OrToNoProcess_Exit1()
    {
        var missing = Run("-s", "reload");
        Assert.That(missing.ExitCode, Is.EqualTo(1), missing.Output);
        Assert.That(missing.Output, Does.Contain("[error] open() \"").And.Contain("rawkeepalive.pid\" failed (2: No such file or directory)"));

        var stale = ProxyProcess.RunCommand(Minimal, ["-s", "reopen"], files: new Dictionary<string, string> { ["logs/rawkeepalive.pid"] = "2147483646\n" });
        Assert.That(stale.ExitCode, Is.EqualTo(1), stale.Output);
        Assert.That(stale.Output, Does.Contain("[alert] kill(2147483646, 10) failed (3: No such process)"));

        var garbage = ProxyProcess.RunCommand(Minimal, ["-s", "stop"], files: new Dictionary<string, string> { ["logs/rawkeepalive.pid"] = "abc\n" });
        Assert.That(garbage.ExitCode, Is.EqualTo(1), garbage.Output);
        Assert.That(garbage.Output, Does.Contain("[error] invalid PID number \"abc\""));
    }

    [Test]
    public void ErrorLogOption_ReceivesStartupErrors()
    {
        var r = ProxyProcess.RunCommand("events {}\nhttp { bogus; }\n", ["-t", "-e", "logs/startup/early.log"]);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Output);
        Assert.That(r.PrefixFiles, Does.Contain(Path.Combine("logs", "startup", "early.log")));
    }

    [Test]
    public void MissingLogDirectories_AreCreated()
    {
        var proxy = Track(ProxyProcess.Start(
            "daemon off; master_process off; error_log logs/new/error.log info; pid logs/new/rk.pid;\n" + Minimal, preamble: false));
        Assert.That(File.Exists(Path.Combine(proxy.Prefix, "logs", "new", "rk.pid")), Is.True, proxy.Describe());
        Assert.That(File.Exists(Path.Combine(proxy.Prefix, "logs", "new", "error.log")), Is.True, proxy.Describe());
    }
}
