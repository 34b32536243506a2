using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>The binary with several error logs (a file per level, syslog on a loopback UDP socket the test
/// binds) and its access log files, which are opened when it starts, as nginx opens them: a file that
/// cannot be opened stops the start with nginx's [emerg].</summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class LogDestinationTests : ProxyTestBase
{
    [Test]
    public void SeveralErrorLogs_EachWithItsLevel_FilesAndSyslog()
    {
        using var syslog = new SyslogListener();
        int syslogPort = syslog.Port;
        int closedPort = FreePort.Probe();   // nothing listens: the request logs a connect() failure
        var proxy = Track(ProxyProcess.Start($$"""
            error_log {PREFIX}/logs/errors-only.log;
            error_log syslog:server=127.0.0.1:{{syslogPort}},tag=rk notice;
            events { worker_connections 64; }
            http {
                server { listen 127.0.0.1:{PORT}; location / { proxy_pass http://127.0.0.1:{BACKEND}; } }
            }
            """, closedPort));
        Assert.That(Connect(proxy).Get("/refused").Status, Is.EqualTo(502));
        Assert.That(proxy.WaitForErrorLog("/refused"), Is.True, proxy.Describe());

        string errorsOnly = File.ReadAllText(Path.Combine(proxy.Prefix, "logs", "errors-only.log"));
        Assert.That(errorsOnly, Does.Contain("[error]").And.Contain("/refused"));
        Assert.That(errorsOnly, Does.Not.Contain("[notice]"), "below that file's level");
        Assert.That(proxy.ErrorLog, Does.Contain("[notice]").And.Contain("[error]"), "the preamble's info-level file has both");

        var datagrams = new List<string>();
        while (!datagrams.Any(d => d.Contains("/refused")))
            datagrams.Add(syslog.Next());
        string host = Environment.MachineName.ToLowerInvariant();
        Assert.That(datagrams[0], Does.Match($@"^<189>[A-Z][a-z]{{2}} [ 1-3]\d \d\d:\d\d:\d\d {host} rk: \d{{4}}/\d\d/\d\d \d\d:\d\d:\d\d \[notice\] \d+#0: "),
            "local7 (23) * 8 + notice (5)");
        Assert.That(datagrams[^1], Does.Match(@"^<187>.* rk: .* \[error\] \d+#0: \*\d+ connect\(\) failed .*/refused"), "error: severity 3");
    }

    [Test]
    public void AccessLogFiles_AreOpenedAtStart_TheDefaultOneToo()
    {
        var custom = Track(ProxyProcess.Start("""
            events { worker_connections 64; }
            http {
                log_format short '$status $request';
                server { listen 127.0.0.1:{PORT}; access_log logs/short.log short buffer=64k flush=1s; location / { return 200; } }
                server { listen 127.0.0.1:{PORT2}; location / { return 200; } }
            }
            """));
        Assert.That(File.Exists(Path.Combine(custom.Prefix, "logs", "short.log")), Is.True);
        Assert.That(File.Exists(Path.Combine(custom.Prefix, "logs", "access.log")), Is.True,
            "the second server has no access_log anywhere: nginx's logs/access.log combined");
    }

    [TestCase("access_log /dev/null/x/access.log;", TestName = "AnAccessLogThatCannotBeOpened_StopsTheStart")]
    [TestCase("error_log /dev/null/x/access.log;", TestName = "ALocationErrorLogThatCannotBeOpened_StopsTheStart")]
    public void ALogThatCannotBeOpened_StopsTheStart(string directive)
    {
        var result = ProxyProcess.RunCommand("""
            events { worker_connections 64; }
            http { server { listen 127.0.0.1:{PORT}; location / { DIRECTIVE return 200; } } }
            """.Replace("DIRECTIVE", directive), []);
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Output);
        Assert.That(result.Output, Does.Contain("[emerg] open() \"/dev/null/x/access.log\" failed (20: Not a directory)"));
    }
}
