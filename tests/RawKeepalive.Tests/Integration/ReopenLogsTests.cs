using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// `-s reopen` (USR1), as nginx: after a log rotation (the files renamed away), the server opens the
/// error log and the access logs again by their names, so new lines go to new files — in single-process
/// and master mode.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class ReopenLogsTests : ProxyTestBase
{
    private const string Refused = """
        worker_processes 1;
        events { worker_connections 64; }
        http {
            upstream down { server 127.0.0.1:{BACKEND}; }
            server { listen 127.0.0.1:{PORT}; location / { proxy_pass http://down; } }
        }
        """;

    [TestCase(false, TestName = "ReopenAfterRotation_SingleProcess")]
    [TestCase(true, TestName = "ReopenAfterRotation_MasterAndWorker")]
    public void ReopenAfterRotation(bool master)
    {
        int closedPort = FreePort.Probe();   // nothing listens: every request logs a connect() failure
        var proxy = Track(ProxyProcess.Start(Refused, closedPort, master: master));
        Assert.That(Connect(proxy).Get("/first").Status, Is.EqualTo(502));
        Assert.That(Wait.Until(() => proxy.ErrorLog.Contains("/first"), TimeSpan.FromSeconds(10)), Is.True);

        string rotated = proxy.ErrorLogPath + ".1";
        File.Move(proxy.ErrorLogPath, rotated);
        // The access log (nginx's default one here) is rotated with it, and every worker opens it again too.
        string accessLog = Path.Combine(proxy.Prefix, "logs", "access.log");
        Assert.That(File.Exists(accessLog), Is.True, "opened at start");
        File.Move(accessLog, accessLog + ".1");
        var reopen = proxy.RunCommand("-s", "reopen");
        Assert.That(reopen.ExitCode, Is.Zero, reopen.Output);
        // Every process reopens on its own: the master, then (signalled by it) each worker.
        int processes = master ? 2 : 1;
        Assert.That(Wait.Until(() => File.Exists(proxy.ErrorLogPath) && CountOf(File.ReadAllText(proxy.ErrorLogPath), "reopening logs") == processes,
            TimeSpan.FromSeconds(10)), Is.True, "the log was opened again by its name");

        Assert.That(Wait.Until(() => File.Exists(accessLog), TimeSpan.FromSeconds(10)), Is.True, "the access log was opened again by its name");

        Assert.That(Connect(proxy).Get("/second").Status, Is.EqualTo(502));
        Assert.That(Wait.Until(() => proxy.ErrorLog.Contains("/second"), TimeSpan.FromSeconds(10)), Is.True, "new lines go to the new file");
        Assert.That(File.ReadAllText(rotated), Does.Not.Contain("/second"), "and not to the rotated one");
    }

    private static int CountOf(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;
}
