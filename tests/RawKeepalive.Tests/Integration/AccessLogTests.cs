using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;
using RawKeepalive.Tests.Observability;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Logs issue: access log lines written by the log phase for known traffic through the proxy, compared
/// with stock nginx's for the same requests, and the upstream variables' values for timings, reuse and
/// retries; buffering with flush, reopen after a rename, and JSON escaping.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000), NonParallelizable]
public sealed class AccessLogTests : ProxyTestBase
{
    private static readonly TimeSpan Settles = TimeSpan.FromSeconds(10);
    private static readonly Regex TimeLocal = new(@"\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]");

    private static string Http(string logs, string extra = "") => $$"""
        events { worker_connections 64; }
        http {
            {{extra}}
            upstream app_backend { server 127.0.0.1:{BACKEND}; keepalive 16; }
            server {
                listen 127.0.0.1:{PORT};
                {{logs}}
                location / { proxy_pass http://app_backend; }
            }
        }
        """;

    private string[] Lines(ProxyProcess proxy, string file, int count)
    {
        string path = Path.Combine(proxy.Prefix, "logs", file);
        string[] lines = [];
        Wait.Until(() => (lines = ReadLines(path)).Length >= count, Settles);
        Assert.That(lines, Has.Length.EqualTo(count), $"{file}:\n{string.Join("\n", lines)}");
        return lines;
    }

    private static string[] ReadLines(string path) =>
        File.Exists(path) ? Encoding.Latin1.GetString(File.ReadAllBytes(path)).Split('\n', StringSplitOptions.RemoveEmptyEntries) : [];

    /// <summary>The same requests through stock nginx and through the proxy, with the same config text:
    /// the combined lines are byte for byte the same, the time masked (a local response and a proxied one).</summary>
    [TestCaseSource(typeof(NginxLogComparisonTests), nameof(NginxLogComparisonTests.Requests))]
    public void CombinedLine_IsNginxs(string request)
    {
        var backend = StartBackend();
        string body = $$"""
            server {
                listen 127.0.0.1:{PORT};
                access_log logs/combined.log combined;
                location / { return 200 "ok"; }
                location /up/ { proxy_pass http://127.0.0.1:{{backend.Port}}/; }
            }
            """;
        using var nginx = new NginxReference(body);
        var proxy = StartProxy("events { worker_connections 64; }\nhttp {\n" + body + "\n}\n", backend);
        string proxied = Regex.Replace(request, @"^(\w+) /", "$1 /up/");
        foreach (string r in new[] { request, proxied })
        {
            nginx.Exchange(r);
            ExchangeUntilClosed(proxy.Port, r);
        }
        string[] theirs = nginx.Read("logs/combined.log").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] ours = Lines(proxy, "combined.log", 2);
        Assert.That(theirs, Has.Length.EqualTo(2), "nginx logged both");
        Assert.That(ours.Select(Mask), Is.EqualTo(theirs.Select(Mask)));
    }

    /// <summary>Requests answered 400 before they were routed are logged as nginx logs them: what was
    /// parsed of the request line (a line that did not parse, as received), status and page size.</summary>
    [TestCase("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", TestName = "BadRequest_DuplicateHost_IsLoggedAsNginxDoes")]
    [TestCase("GET /x HTTP/1.1\r\nHost: a\r\nBad Header: b\r\n\r\n", TestName = "BadRequest_BadHeaderName_IsLoggedAsNginxDoes")]
    [TestCase("G@T /x HTTP/1.1\r\n\r\n", TestName = "BadRequest_UnparsedMethod_IsLoggedAsNginxDoes")]
    public void BadRequestLine_IsNginxs(string request)
    {
        const string body = """
            server {
                listen 127.0.0.1:{PORT};
                access_log logs/combined.log combined;
                location / { return 200 "ok"; }
            }
            """;
        using var nginx = new NginxReference(body);
        var proxy = StartProxy("events { worker_connections 64; }\nhttp {\n" + body + "\n}\n");
        nginx.Exchange(request);
        ExchangeUntilClosed(proxy.Port, request);
        string[] theirs = nginx.Read("logs/combined.log").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(theirs, Has.Length.EqualTo(1), "nginx logged it");
        Assert.That(Lines(proxy, "combined.log", 1).Select(Mask), Is.EqualTo(theirs.Select(Mask)));
    }

    /// <summary>The backend sends its head 200 ms after the request and its body 200 ms after that.</summary>
    [Test]
    public void UpstreamTimings_AreOrdered_AndMeasureTheDelays()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Http("access_log logs/t.log t;", "log_format t '$upstream_connect_time $upstream_header_time $upstream_response_time $request_time';"), backend);
        Assert.That(Connect(proxy).Get("/?delay=200&bodydelay=200&size=100").Status, Is.EqualTo(200));
        double[] t = Lines(proxy, "t.log", 1)[0].Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(t[0], Is.LessThanOrEqualTo(t[1]), "connect ≤ header");
            Assert.That(t[1], Is.LessThanOrEqualTo(t[2]), "header ≤ response");
            Assert.That(t[2], Is.LessThanOrEqualTo(t[3]), "response ≤ request");
            Assert.That(t[1], Is.GreaterThanOrEqualTo(0.2), "header time");
            Assert.That(t[2], Is.GreaterThanOrEqualTo(0.4), "response time");
        });
    }

    /// <summary>1,000 requests over 10 keep-alive clients with keepalive 16: one line each, and the lines
    /// that say "new" are exactly the connections the backend accepted.</summary>
    [Test]
    public void ReuseIsLogged_PerRequest_AndNewMatchesTheBackendsCount()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Http("access_log logs/reuse.log reuse;", "log_format reuse '$upstream_connection $upstream_connection_requests $status';"), backend);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var clients = Enumerable.Range(0, 10).Select(c => new Thread(() =>
        {
            using var client = Connect(proxy);
            for (int i = 0; i < 100; i++)
                if (client.Get($"/?c={c}&i={i}").Status != 200) failures.Enqueue($"client {c} request {i}");
        })).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        Assert.That(failures, Is.Empty);

        string[] lines = Lines(proxy, "reuse.log", 1000);
        int fresh = lines.Count(l => l.StartsWith("new ", StringComparison.Ordinal));
        int reused = lines.Count(l => l.StartsWith("reused ", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(reused, Is.GreaterThanOrEqualTo(984));
            Assert.That(fresh + reused, Is.EqualTo(1000));
            Assert.That(fresh, Is.EqualTo(backend.AcceptedConnections), "lines that say new = connections the backend accepted");
            Assert.That(lines.Where(l => l.StartsWith("new ", StringComparison.Ordinal)), Has.All.StartWith("new 1 "), "a new connection carries its first request");
        });
    }

    /// <summary>The second request meets a pooled connection the backend resets: both tries are listed.</summary>
    [Test]
    public void StaleRetry_ListsBothTries()
    {
        var backend = StartBackend();
        backend.ResetReusedConnections = true;
        var proxy = StartProxy(Http("access_log logs/tries.log tries;", "log_format tries '$upstream_addr|$upstream_status|$upstream_connection|$status';"), backend);
        var client = Connect(proxy);
        Assert.That(client.Get("/a").Status, Is.EqualTo(200));
        Assert.That(client.Get("/b").Status, Is.EqualTo(200));
        string peer = $"127.0.0.1:{backend.Port}";
        Assert.That(Lines(proxy, "tries.log", 2), Is.EqualTo(new[]
        {
            $"{peer}|200|new|200",
            $"{peer}, {peer}|502, 200|reused, new|200",
        }));
    }

    /// <summary>Times are to the millisecond, as nginx's: a response the backend delays 5 ms never logs less
    /// than 0.005. (On a clock that moves in 4 ms jiffies, CLOCK_MONOTONIC_COARSE, most logged 0.004.)</summary>
    [Test]
    public void RequestTime_IsToTheMillisecond()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Http("access_log logs/t.log t;", "log_format t '$request_time $upstream_response_time';"), backend);
        var client = Connect(proxy);
        for (int i = 0; i < 8; i++)
            Assert.That(client.Get("/?delay=5").Status, Is.EqualTo(200));
        foreach (string line in Lines(proxy, "t.log", 8))
        {
            var times = line.Split(' ').Select(t => decimal.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.That(times, Has.All.GreaterThanOrEqualTo(0.005m), line);
        }
    }

    /// <summary>max_conns=1 and no queue: a second request finds no live upstream. nginx records a try to the
    /// upstream group itself: $upstream_addr is the group's name and $upstream_status 502.</summary>
    [Test]
    public void NoLiveUpstreams_NamesTheGroupAsUpstreamAddr()
    {
        var backend = StartBackend();
        var proxy = StartProxy($$"""
            events { worker_connections 64; }
            http {
                log_format tries '$upstream_addr|$upstream_status|$status';
                upstream app_backend { server 127.0.0.1:{BACKEND} max_conns=1; keepalive 16; }
                server {
                    listen 127.0.0.1:{PORT};
                    access_log logs/tries.log tries;
                    location / { proxy_pass http://app_backend; }
                }
            }
            """, backend);
        var held = Connect(proxy);
        held.Send("GET /?hold=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(Wait.Until(() => backend.RequestCount == 1, Settles), Is.True);
        Assert.That(Connect(proxy).Get("/").Status, Is.EqualTo(502));
        backend.ReleaseHeld();
        Assert.That(held.ReadResponse().Status, Is.EqualTo(200));
        proxy.ExpectLog("no live upstreams while connecting to upstream");
        Assert.That(Lines(proxy, "tries.log", 2), Is.EqualTo(new[] { "app_backend|502|502", $"127.0.0.1:{backend.Port}|200|200" }));
    }

    /// <summary>buffer=64k flush=1s: a line waits in the buffer, and is written within about a second.</summary>
    [Test]
    public void BufferedLines_AreFlushedWithinTheFlushTime()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Http("access_log logs/buffered.log combined buffer=64k flush=1s;"), backend);
        Assert.That(Connect(proxy).Get("/").Status, Is.EqualTo(200));
        var sinceResponse = Stopwatch.StartNew();
        string path = Path.Combine(proxy.Prefix, "logs", "buffered.log");
        bool emptyAtFirst = ReadLines(path).Length == 0;
        bool seenEarly = sinceResponse.ElapsedMilliseconds < 500;
        Assert.That(Wait.Until(() => ReadLines(path).Length == 1, TimeSpan.FromSeconds(5)), Is.True, "the line was flushed");
        double flushedAfter = sinceResponse.Elapsed.TotalSeconds;
        TestContext.Out.WriteLine($"flushed {flushedAfter:F2} s after the response");
        if (seenEarly) Assert.That(emptyAtFirst, Is.True, "right after the response the line is still in the buffer");
        Assert.That(flushedAfter, Is.LessThan(3), "written within about a second (flush=1s), with room for a loaded machine");
    }

    /// <summary>The log is renamed and -s reopen runs between two batches: every line is in one file or
    /// the other, the first batch in the renamed file and the second in the new one.</summary>
    [Test]
    public void Reopen_AfterARename_LosesNoLine()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Http("access_log logs/access.log combined;"), backend);
        var client = Connect(proxy);
        for (int i = 0; i < 20; i++) Assert.That(client.Get($"/first/{i}").Status, Is.EqualTo(200));
        string log = Path.Combine(proxy.Prefix, "logs", "access.log");
        Lines(proxy, "access.log", 20);
        File.Move(log, log + ".1");
        Assert.That(proxy.RunCommand("-s", "reopen").ExitCode, Is.EqualTo(0));
        Assert.That(Wait.Until(() => File.Exists(log), Settles), Is.True, "the file was created again");
        for (int i = 0; i < 30; i++) Assert.That(client.Get($"/second/{i}").Status, Is.EqualTo(200));

        string[] after = Lines(proxy, "access.log", 30);
        string[] before = ReadLines(log + ".1");
        Assert.Multiple(() =>
        {
            Assert.That(before, Has.Length.EqualTo(20));
            Assert.That(before, Has.All.Contain("/first/"));
            Assert.That(after, Has.All.Contain("/second/"));
        });
    }

    /// <summary>escape=json: a User-Agent with quotes, backslashes, a tab (the one control byte a field value
    /// may hold; others are refused with 400 before any log variable sees them) and UTF-8 still makes a
    /// line that parses, and reads back as sent.</summary>
    [Test]
    public void JsonEscapedLine_Parses()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Http("access_log logs/json.log js;",
            """log_format js escape=json '{"ua":"$http_user_agent","status":$status,"upstream":"$upstream_addr","request":"$request"}';"""), backend);
        const string agent = "say \"hi\" \\ back\tslash caf\u00e9 end";
        var client = Connect(proxy);
        Assert.That(client.Get("/j?q=%22x%22", extraHeaders: $"User-Agent: {agent}\r\n").Status, Is.EqualTo(200));
        string line = Lines(proxy, "json.log", 1)[0];
        using var json = JsonDocument.Parse(line);
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("ua").GetString(), Is.EqualTo(agent));
            Assert.That(json.RootElement.GetProperty("status").GetInt32(), Is.EqualTo(200));
            Assert.That(json.RootElement.GetProperty("upstream").GetString(), Is.EqualTo($"127.0.0.1:{backend.Port}"));
            Assert.That(json.RootElement.GetProperty("request").GetString(), Is.EqualTo("GET /j?q=%22x%22 HTTP/1.1"));
        });
    }

    /// <summary>A location's error_log takes the error lines of its requests (a 502 with its reason), in
    /// nginx's format with the request's context; the main error log does not get them.</summary>
    [Test]
    public void ErrorLines_GoToTheLocationsErrorLog()
    {
        int closed = FreePort.Probe();   // nothing listens there: connect() is refused
        var proxy = StartProxy($$"""
            events { worker_connections 64; }
            http {
                server {
                    listen 127.0.0.1:{PORT};
                    location /dead { proxy_pass http://127.0.0.1:{{closed}}; error_log logs/dead.log error; }
                }
            }
            """);
        Assert.That(Connect(proxy).Get("/dead").Status, Is.EqualTo(502));
        string dead = Path.Combine(proxy.Prefix, "logs", "dead.log");
        const string reason = "connect() failed (111: Connection refused) while connecting to upstream";
        Assert.That(Wait.Until(() => ReadLines(dead).Any(l => l.Contains(reason)), Settles), Is.True, string.Join("\n", ReadLines(dead)));
        string line = ReadLines(dead).First(l => l.Contains(reason));
        Assert.Multiple(() =>
        {
            Assert.That(line, Does.Match(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] \d+#0: \*\d+ connect\(\) failed"));
            Assert.That(line, Does.EndWith($", client: 127.0.0.1, server: , request: \"GET /dead HTTP/1.1\", upstream: \"http://127.0.0.1:{closed}/dead\", host: \"localhost\""));
            Assert.That(proxy.ErrorLog, Does.Not.Contain(reason), "the main error log does not get the location's lines");
        });
    }

    private static string Mask(string line) => TimeLocal.Replace(line, "[TIME]");

    /// <summary>Sends a request that ends its connection and reads until the proxy closes (the line is logged by then).</summary>
    private static void ExchangeUntilClosed(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.ReceiveTimeout = 10_000;
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        socket.Send(Encoding.Latin1.GetBytes(request));
        var buffer = new byte[4096];
        while (socket.Receive(buffer) > 0) { }
    }
}
