using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Loop;
using RawKeepalive.Observability;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Observability;

/// <summary>The access log writers on real files and a real loopback UDP socket: unbuffered and buffered
/// files (written when full, at the flush= deadline, on reopen, on exit), gzip members, if=, paths with
/// variables, several logs per level, and syslog datagrams in nginx's format.</summary>
[TestFixture, CancelAfter(60_000), NonParallelizable]
public sealed class AccessLogWriterTests
{
    private string _dir = null!;
    private ErrorLog _errors = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("rk-access-").FullName;
        _errors = new ErrorLog(Path.Combine(_dir, "error.log"), LogLevel.Info);
    }

    [TearDown]
    public void TearDown()
    {
        _errors.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private const string Format = "log_format line '$request_uri $status';";

    private TestRequest Request(string accessLogs, string uri = "/a") => new(
        Format + $"\nserver {{ listen 127.0.0.1:8080; {accessLogs.Replace("DIR", _dir)} location / {{ return 200; }} }}",
        $"GET {uri} HTTP/1.1\r\nHost: a\r\n\r\n");

    private string Read(string name) => File.Exists(Path.Combine(_dir, name)) ? File.ReadAllText(Path.Combine(_dir, name)) : "";

    [Test]
    public void Unbuffered_EachLineIsWrittenAtOnce()
    {
        var r = Request("access_log DIR/a.log line; access_log DIR/b.log line;");
        using var logs = new AccessLogs(r.Config.Http, _errors);
        r.Record.Status = 200;
        logs.Record(r.Location, r);
        Assert.That((Read("a.log"), Read("b.log")), Is.EqualTo(("/a 200\n", "/a 200\n")), "every access_log of the level");
        Assert.That(logs.NextFlushDueMs, Is.EqualTo(long.MaxValue));
    }

    [Test]
    public void Buffered_WrittenWhenTheNextLineDoesNotFit_NeverPartLines_AndOnExit()
    {
        var r = Request("access_log DIR/a.log line buffer=64;", "/0123456789");   // 16 bytes a line: 4 fit
        var logs = new AccessLogs(r.Config.Http, _errors);
        for (int i = 0; i < 4; i++) logs.Record(r.Location, r);
        Assert.That(Read("a.log"), Is.Empty, "four lines fill the buffer exactly");
        logs.Record(r.Location, r);
        Assert.That(Read("a.log"), Is.EqualTo(string.Concat(Enumerable.Repeat("/0123456789 000\n", 4))));
        logs.Dispose();
        Assert.That(Read("a.log").Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(5), "exit writes the rest");
    }

    [Test]
    public void Flush_TheDeadlineIsSetByTheFirstLine_AndTheLoopHookWritesIt()
    {
        var r = Request("access_log DIR/a.log line buffer=64k flush=1s;");
        using var logs = new AccessLogs(r.Config.Http, _errors);
        long before = MonotonicClock.NowMs;
        logs.Record(r.Location, r);
        long after = MonotonicClock.NowMs;
        long due = logs.NextFlushDueMs;
        Assert.That(due, Is.InRange(before + 1000, after + 1000));
        logs.Record(r.Location, r);
        Assert.That(logs.NextFlushDueMs, Is.EqualTo(due), "a later line does not move it");
        logs.FlushDue(due - 1);
        Assert.That(Read("a.log"), Is.Empty);
        logs.FlushDue(due);
        Assert.That(Read("a.log"), Is.EqualTo("/a 000\n/a 000\n"));
        Assert.That(logs.NextFlushDueMs, Is.EqualTo(long.MaxValue), "nothing waits any more");
    }

    [Test]
    public void ReopenAfterRename_LosesNothing()
    {
        var r = Request("access_log DIR/a.log line buffer=64k flush=1m;");
        var logs = new AccessLogs(r.Config.Http, _errors);
        for (int i = 0; i < 3; i++) logs.Record(r.Location, r);
        File.Move(Path.Combine(_dir, "a.log"), Path.Combine(_dir, "a.log.1"));
        logs.Record(r.Location, r);   // still buffered: it belongs to the file it was written for
        logs.Reopen();
        Assert.That(Read("a.log.1"), Is.EqualTo(string.Concat(Enumerable.Repeat("/a 000\n", 4))), "the buffer went to the renamed file");
        Assert.That(File.Exists(Path.Combine(_dir, "a.log")), Is.True, "opened again by its name");
        logs.Record(r.Location, r);
        logs.Record(r.Location, r);
        logs.Dispose();
        Assert.That(Read("a.log"), Is.EqualTo("/a 000\n/a 000\n"));
    }

    [Test]
    public void Gzip_EachWrittenBufferIsAMember_TheFileDecompressesToTheLines()
    {
        var r = Request("access_log DIR/a.log.gz line buffer=256 gzip=9;");
        var logs = new AccessLogs(r.Config.Http, _errors);
        var expected = new StringBuilder();
        for (int i = 0; i < 100; i++)
        {
            r.Record.Status = 200 + i;
            logs.Record(r.Location, r);
            expected.Append($"/a {200 + i}\n");
        }
        logs.Dispose();
        byte[] file = File.ReadAllBytes(Path.Combine(_dir, "a.log.gz"));
        using var gunzip = new GZipStream(new MemoryStream(file), CompressionMode.Decompress);
        Assert.That(new StreamReader(gunzip).ReadToEnd(), Is.EqualTo(expected.ToString()));
        Assert.That(Members(file), Is.GreaterThan(1), "one member per buffer written");
    }

    /// <summary>gzip members start with 1f 8b 08 (a scan may also find those bytes inside compressed data,
    /// so it can only count too many: only "more than one" is asserted).</summary>
    private static int Members(byte[] file)
    {
        int members = 0;
        for (int at = 0; at + 3 <= file.Length; at++)
            if (file[at] == 0x1f && file[at + 1] == 0x8b && file[at + 2] == 8) members++;
        return members;
    }

    [Test]
    public void IfCondition_SkipsTheLine()
    {
        var quiet = Request("access_log DIR/a.log line if=$arg_log;", "/?log=0");
        using var logs = new AccessLogs(quiet.Config.Http, _errors);
        logs.Record(quiet.Location, quiet);
        Assert.That(Read("a.log"), Is.Empty);
        var loud = Request("access_log DIR/a.log line if=$arg_log;", "/?log=1");
        using var logs2 = new AccessLogs(loud.Config.Http, _errors);
        logs2.Record(loud.Location, loud);
        Assert.That(Read("a.log"), Is.EqualTo("/?log=1 000\n"));
    }

    [Test]
    public void AVariablePath_IsOpenedPerLine()
    {
        foreach (string site in new[] { "one", "two", "one" })
        {
            var r = Request("access_log DIR/site-$arg_site.log line;", $"/?site={site}");
            using var logs = new AccessLogs(r.Config.Http, _errors);
            logs.Record(r.Location, r);
        }
        Assert.That((Read("site-one.log"), Read("site-two.log")), Is.EqualTo(("/?site=one 000\n/?site=one 000\n", "/?site=two 000\n")));
    }

    [Test]
    public void ALineLongerThanTheBuffer_IsWrittenOnItsOwn_AfterTheBufferedOnes()
    {
        string longUri = "/" + new string('x', 300);
        var r = Request("access_log DIR/a.log line buffer=128;");
        var big = Request("access_log DIR/a.log line buffer=128;", longUri);
        using var logs = new AccessLogs(r.Config.Http, _errors);
        logs.Record(r.Location, r);
        logs.Record(big.Location, big);
        Assert.That(Read("a.log"), Is.EqualTo($"/a 000\n{longUri} 000\n"));
    }

    [Test]
    public void ARequestWithoutLocation_IsLoggedWithItsServersLogs()
    {
        var r = Request("access_log DIR/server.log line;");
        using var logs = new AccessLogs(r.Config.Http, _errors);
        logs.Record(null, r);
        Assert.That(Read("server.log"), Is.EqualTo("/a 000\n"));
    }

    [TestCase(false, TestName = "Syslog_OneDatagramPerLine_InNginxsFormat")]
    [TestCase(true, TestName = "Syslog_NoHostname")]
    public void Syslog(bool noHostname)
    {
        using var listener = new SyslogListener();
        int port = listener.Port;
        var r = Request($"access_log syslog:server=127.0.0.1:{port},facility=local1,severity=notice,tag=edge{(noHostname ? ",nohostname" : "")} line;");
        using var logs = new AccessLogs(r.Config.Http, _errors);
        r.Record.Status = 204;
        logs.Record(r.Location, r);
        logs.Record(r.Location, r);
        string host = noHostname ? "" : Environment.MachineName.ToLowerInvariant() + " ";
        for (int i = 0; i < 2; i++)
        {
            // PRI = local1 (17) * 8 + notice (5); the time is local, the day space-padded; no newline.
            Assert.That(listener.Next(),
                Does.Match($@"^<141>[A-Z][a-z]{{2}} [ 1-3]\d \d\d:\d\d:\d\d {System.Text.RegularExpressions.Regex.Escape(host)}edge: /a 204$"));
        }
    }

    [Test]
    public void SyslogWithNoListener_DropsTheLineWithAWarning_AndTriesAgainLater()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        var r = Request($"access_log syslog:server=127.0.0.1:{port} line;");
        using var logs = new AccessLogs(r.Config.Http, _errors);
        // The first datagram goes out; the ICMP port unreachable it draws fails a later send (ECONNREFUSED).
        Assert.That(Wait.Until(() =>
        {
            logs.Record(r.Location, r);
            return Read("error.log").Contains("[warn]");
        }, TimeSpan.FromSeconds(10)), Is.True, Read("error.log"));
        Assert.That(Read("error.log"), Does.Contain($"send() to syslog failed (111: Connection refused), server: 127.0.0.1:{port}"));
    }
}
