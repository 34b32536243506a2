using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Tests.Config;

namespace RawKeepalive.Tests.Observability;

/// <summary>The error log with several destinations, each with its level: nginx's line format in files,
/// and in syslog datagrams after the header, with the line's own severity.</summary>
[TestFixture, CancelAfter(30_000), NonParallelizable]
public sealed class ErrorLogTests
{
    private const string Line = @"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}";

    [Test]
    public void EachDestinationTakesTheLinesOfItsLevelAndAbove()
    {
        string dir = Directory.CreateTempSubdirectory("rk-errlog-").FullName;
        try
        {
            var config = ConfigText.Load($"error_log {dir}/info.log info;\nerror_log {dir}/crit.log crit;\nerror_log {dir}/default.log;\n");
            using (var log = ErrorLog.For(config))
            {
                Assert.That(log.Level, Is.EqualTo(LogLevel.Info), "the most verbose destination decides what is built");
                log.Write(LogLevel.Debug, 0, "never");
                log.Write(LogLevel.Info, 3, "informed");
                log.Write(LogLevel.Error, 0, "failed");
                log.Write(LogLevel.Alert, 12, "alarmed");
            }
            int pid = Environment.ProcessId;
            Assert.That(File.ReadAllText($"{dir}/info.log"), Does.Match(
                $"^{Line} \\[info\\] {pid}#0: \\*3 informed\n{Line} \\[error\\] {pid}#0: failed\n{Line} \\[alert\\] {pid}#0: \\*12 alarmed\n$"));
            Assert.That(File.ReadAllText($"{dir}/default.log"), Does.Match($"^{Line} \\[error\\] {pid}#0: failed\n{Line} \\[alert\\] {pid}#0: \\*12 alarmed\n$"));
            Assert.That(File.ReadAllText($"{dir}/crit.log"), Does.Match($"^{Line} \\[alert\\] {pid}#0: \\*12 alarmed\n$"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Syslog_TheLineAfterTheHeader_WithItsLevelsSeverity()
    {
        using var listener = new RawKeepalive.Tests.Support.SyslogListener();
        int port = listener.Port;
        var config = ConfigText.Load($"error_log syslog:server=127.0.0.1:{port},facility=daemon,tag=rk warn;\n");
        using var log = ErrorLog.For(config);
        log.Write(LogLevel.Info, 0, "below the level");
        log.Write(LogLevel.Warn, 7, "warned");
        log.Write(LogLevel.Emerg, 0, "stopped");
        string host = Environment.MachineName.ToLowerInvariant();
        string Next() => listener.Next();
        // PRI = daemon (3) * 8 + severity: warn 4, emerg 0. No newline at the end.
        string stamp = @"[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d";
        Assert.That(Next(), Does.Match($"^<28>{stamp} {host} rk: {Line} \\[warn\\] {Environment.ProcessId}#0: \\*7 warned$"));
        Assert.That(Next(), Does.Match($"^<24>{stamp} {host} rk: {Line} \\[emerg\\] {Environment.ProcessId}#0: stopped$"));
    }

    [Test]
    public void LevelErrorLogs_ARequestsLinesGoToItsLocationsElseItsServersElseTheMainLog()
    {
        string dir = Directory.CreateTempSubdirectory("rk-errlog-").FullName;
        try
        {
            var r = new RawKeepalive.Tests.Support.TestRequest($$"""
                server {
                    listen 127.0.0.1:8080;
                    error_log {{dir}}/server.log info;
                    location /own { error_log {{dir}}/own.log warn; error_log {{dir}}/own-crit.log crit; return 200; }
                    location / { return 200; }
                }
                server { listen 127.0.0.1:8081; location / { return 200; } }
                """, "GET /own/x HTTP/1.1\r\nHost: a\r\n\r\n");
            using var main = new ErrorLog($"{dir}/main.log", LogLevel.Info);
            using var logs = new LevelErrorLogs(r.Config.Http, main);
            logs.For(r.Location, r.Server).Write(LogLevel.Error, 1, "in own");
            logs.For(null, r.Server).Write(LogLevel.Info, 2, "in server");
            Assert.That(logs.For(r.Server.Match("/other"u8), r.Server), Is.SameAs(logs.For(null, r.Server)), "inherited: one log");
            Assert.That(logs.For(null, null), Is.SameAs(main));
            logs.Reopen();
            Assert.That(File.ReadAllText($"{dir}/own.log"), Does.Contain("*1 in own").And.Not.Contain("in server"));
            Assert.That(File.ReadAllText($"{dir}/own-crit.log"), Does.Not.Contain("in own"), "below crit");
            Assert.That(File.ReadAllText($"{dir}/server.log"), Does.Contain("*2 in server").And.Not.Contain("in own"));
            Assert.That(File.Exists($"{dir}/main.log") ? File.ReadAllText($"{dir}/main.log") : "", Does.Not.Contain(" in "));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Reopen_OpensEveryFileAgainByItsName()
    {
        string dir = Directory.CreateTempSubdirectory("rk-errlog-").FullName;
        try
        {
            var config = ConfigText.Load($"error_log {dir}/a.log info;\nerror_log {dir}/b.log info;\n");
            using var log = ErrorLog.For(config);
            log.Write(LogLevel.Error, 0, "before");
            File.Move($"{dir}/a.log", $"{dir}/a.log.1");
            File.Move($"{dir}/b.log", $"{dir}/b.log.1");
            log.Reopen();
            log.Write(LogLevel.Error, 0, "after");
            foreach (string name in new[] { "a", "b" })
            {
                Assert.That(File.ReadAllText($"{dir}/{name}.log.1"), Does.Contain("before").And.Not.Contain("after"));
                Assert.That(File.ReadAllText($"{dir}/{name}.log"), Does.Contain("reopening logs").And.Contain("after"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
