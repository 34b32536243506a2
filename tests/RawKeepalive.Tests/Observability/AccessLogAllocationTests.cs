using System.Text;
using NUnit.Framework;
using RawKeepalive.Http;
using RawKeepalive.Observability;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Observability;

/// <summary>Recording a request allocates nothing in steady state: the line is formatted straight into a
/// log buffer (or the shared line area, or a datagram), values escaped in place, upstream lists and
/// captured headers read from the record, times from the once-a-second texts.</summary>
[TestFixture, CancelAfter(60_000), NonParallelizable]
public sealed class AccessLogAllocationTests
{
    [Test]
    public void RecordingLines_AllocatesNothing()
    {
        string dir = Directory.CreateTempSubdirectory("rk-alloc-").FullName;
        using var syslog = new SyslogListener();
        int port = syslog.Port;
        try
        {
            var r = new TestRequest($$"""
                log_format full escape=json '{"t":"$time_local","iso":"$time_iso8601","ms":$msec,"rt":$request_time,'
                    '"ua":"$http_user_agent","u":"$remote_user","up":"$upstream_addr","us":"$upstream_status",'
                    '"ut":"$upstream_response_time","uc":"$upstream_connection","x":"$sent_http_x_cache","s":"$upstream_http_server"}';
                server {
                    listen 127.0.0.1:8080;
                    access_log {{dir}}/buffered.log combined buffer=1m;
                    access_log {{dir}}/buffered.log full buffer=1m;
                    access_log {{dir}}/direct.log full;
                    access_log syslog:server=127.0.0.1:{{port}} combined;
                    location / { return 200; }
                }
                """, "GET /x?y=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: agent \"q\" \\\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n");
            Fill(r);
            using var errors = new ErrorLog(Path.Combine(dir, "error.log"), LogLevel.Warn);
            using var logs = new AccessLogs(r.Config.Http, errors);
            long bytes = Allocations.SteadyState(() =>
            {
                for (int i = 0; i < 200; i++) logs.Record(r.Location, r);
            });
            Assert.That(bytes, Is.Zero, "bytes allocated per batch of 200 requests, four lines each");
            Assert.That(File.ReadAllText(Path.Combine(dir, "error.log")), Is.Empty);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Fill(TestRequest r)
    {
        var rec = r.Record;
        rec.Begin(0);
        rec.BeginTry("10.0.0.1:80"u8.ToArray(), true, 3, 0);
        rec.TryEnded(2, 502);
        rec.BeginTry("10.0.0.2:80"u8.ToArray(), false, 1, 2);
        rec.Connected(3);
        var bytes = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nServer: up\r\nX-Cache: HIT\r\n\r\n");
        var head = new ResponseHead();
        ResponseParser.Parse(bytes, head);
        rec.HeaderReceived(head, bytes, 9);
        rec.Headers.CaptureForwarded(head, bytes);
        rec.TryEnded(12);
        rec.Status = 200;
        rec.BytesSent = 1234;
        rec.HeaderBytesSent = 200;
    }
}
