using System.Net.Sockets;
using System.Text;
using NUnit.Framework;

namespace RawKeepalive.Tests.Support;

/// <summary>The test infrastructure checked against itself: RawHttpClient talking straight to TestBackend, and
/// the error-log check that ends every test with a proxy.</summary>
[TestFixture, CancelAfter(60_000)]
public sealed class TestBackendTests : ProxyTestBase
{
    [TestCase(0, false)]
    [TestCase(100, false)]
    [TestCase(65536, false)]
    [TestCase(1048576, false)]
    [TestCase(0, true)]
    [TestCase(100, true)]
    [TestCase(65536, true)]
    [TestCase(1048576, true)]
    public void Get_ReturnsPatternBody_ByLengthOrChunked(int size, bool chunked)
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        var response = client.Get($"/?size={size}{(chunked ? "&chunked=1" : "")}");
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Chunked, Is.EqualTo(chunked));
            Assert.That(response.Body, Is.EqualTo(TestBackend.Body(size)));
            Assert.That(response.Get("X-Connection"), Is.EqualTo("1"));
            Assert.That(response.Get("X-Request"), Is.EqualTo("1"));
        });
    }

    [Test]
    public void KeepAlive_NumbersRequestsOnOneConnection()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        for (int k = 1; k <= 5; k++)
        {
            var response = client.Get("/?size=10");
            Assert.That(response.Get("X-Connection"), Is.EqualTo("1"));
            Assert.That(response.HeaderInt("X-Request"), Is.EqualTo(k));
        }
        using var second = new RawHttpClient(backend.Port);
        Assert.That(second.Get("/").Get("X-Connection"), Is.EqualTo("2"));
        Assert.That(backend.AcceptedConnections, Is.EqualTo(2));
        Assert.That(backend.OpenConnections, Is.EqualTo(2));
    }

    [TestCase(0, false)]
    [TestCase(100, false)]
    [TestCase(1048576, false)]
    [TestCase(0, true)]
    [TestCase(100, true)]
    [TestCase(1048576, true)]
    public void Echo_ReturnsUploadedBody(int size, bool chunked)
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        var response = client.Post("/echo", TestBackend.Body(size), chunked);
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.HeaderInt("X-Body-Length"), Is.EqualTo(size));
            Assert.That(response.Get("X-Received-Chunked"), Is.EqualTo(chunked ? "1" : null));
            Assert.That(response.Body, Is.EqualTo(TestBackend.Body(size)));
            Assert.That(backend.Requests.Single().BodyChunked, Is.EqualTo(chunked));
        });
    }

    [Test]
    public void Head204And304_HaveNoBody_AndTheConnectionGoesOn()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        var head = client.Head("/?size=1000");
        Assert.That(head.Get("Content-Length"), Is.EqualTo("1000"));
        Assert.That(head.Body, Is.Empty);
        var headChunked = client.Head("/?size=1000&chunked=1");
        Assert.That(headChunked.Body, Is.Empty);
        Assert.That(client.Get("/?status=204").Status, Is.EqualTo(204));
        Assert.That(client.Get("/?status=304&size=5").Status, Is.EqualTo(304));
        var last = client.Get("/?size=7");
        Assert.That(last.Body, Is.EqualTo(TestBackend.Body(7)));
        Assert.That(last.HeaderInt("X-Request"), Is.EqualTo(5));
    }

    [Test]
    public void Close_AnswersConnectionClose_AndCloses()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        var response = client.Get("/?size=10&close=1");
        Assert.That(response.Get("Connection"), Is.EqualTo("close"));
        Assert.That(response.KeepAlive, Is.False);
        Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(Wait.Until(() => backend.OpenConnections == 0, TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public void Fin_ClosesAfterTheResponse_WithoutAnnouncingIt()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        var response = client.Get("/?size=2&fin=1");
        Assert.That(response.Get("Connection"), Is.Null);
        Assert.That(response.Get("Content-Length"), Is.EqualTo("2"));
        Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(Wait.Until(() => backend.OpenConnections == 0, TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public void LengthOnA304_AndAPausedTail_KeepTheConnectionInStep()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        var notModified = client.Get("/?status=304&length=100");
        Assert.That((notModified.Status, notModified.Get("Content-Length"), notModified.Body.Length), Is.EqualTo((304, "100", 0)));
        var paused = client.Get("/?size=1000&chunked=1&pause=50");
        Assert.That(paused.Body, Is.EqualTo(TestBackend.Body(1000)));
        Assert.That(client.Get("/?size=3").HeaderInt("X-Request"), Is.EqualTo(3));
    }

    [Test]
    public void NoLength_BodyDelimitedByClose()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        var response = client.Get("/?size=70000&nolength=1");
        Assert.That(response.ConnectionClosedAfter, Is.True);
        Assert.That(response.Get("Content-Length"), Is.Null);
        Assert.That(response.Body, Is.EqualTo(TestBackend.Body(70000)));
    }

    [Test]
    public void Http10Backend_ClosesUnlessKeepAliveWasAsked()
    {
        var backend = StartBackend(http10: true);
        var plain = Connect(backend.Port);
        plain.Send("GET /?size=3 HTTP/1.0\r\n\r\n");
        var first = plain.ReadResponse();
        Assert.That(first.Version, Is.EqualTo("HTTP/1.0"));
        Assert.That(plain.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);

        var keep = Connect(backend.Port);
        for (int k = 1; k <= 2; k++)
        {
            keep.Send("GET /?size=3 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
            var response = keep.ReadResponse();
            Assert.That(response.Version, Is.EqualTo("HTTP/1.0"));
            Assert.That(response.Get("Connection"), Is.EqualTo("keep-alive"));
            Assert.That(response.HeaderInt("X-Request"), Is.EqualTo(k));
        }
    }

    [Test]
    public void IdleTimeout_ClosesIdleConnections()
    {
        var backend = StartBackend(idleTimeout: TimeSpan.FromMilliseconds(300));
        var client = Connect(backend.Port);
        Assert.That(client.Get("/").Status, Is.EqualTo(200));
        Assert.That(Wait.Until(() => backend.OpenConnections == 0, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);
    }

    [Test]
    public void Pipelined_AnsweredInOrder()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        int[] sizes = [11, 22, 33, 44, 55];
        client.Send(string.Concat(sizes.Select(s => $"GET /?size={s} HTTP/1.1\r\nHost: x\r\n\r\n")));
        for (int i = 0; i < sizes.Length; i++)
        {
            var response = client.ReadResponse();
            Assert.That(response.Body, Is.EqualTo(TestBackend.Body(sizes[i])));
            Assert.That(response.HeaderInt("X-Request"), Is.EqualTo(i + 1));
        }
    }

    [Test]
    public void ExpectContinue_AndInterimResponses()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        byte[] body = TestBackend.Body(100_000);
        client.Send($"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\nExpect: 100-continue\r\n\r\n");
        Assert.That(client.ReadInterim().Status, Is.EqualTo(100));
        client.SendRaw(body);
        var response = client.ReadResponse();
        Assert.That(response.HeaderInt("X-Body-Length"), Is.EqualTo(body.Length));

        var hinted = client.Get("/?size=5&interim=1");
        Assert.That(hinted.Interim.Select(r => r.Status), Is.EqualTo(new[] { 103 }));
        Assert.That(hinted.Body, Is.EqualTo(TestBackend.Body(5)));
    }

    [Test]
    public void RecordsHeads_AndRejectsMalformedRequests()
    {
        var backend = StartBackend();
        var client = Connect(backend.Port);
        client.Get("/a?b=1", extraHeaders: "X-Test: yes\r\n");
        Assert.That(backend.ReceivedHeads.Single(), Is.EqualTo("GET /a?b=1 HTTP/1.1\r\nHost: localhost\r\nX-Test: yes\r\n\r\n"));
        Assert.That(backend.Requests.Single().Get("x-test"), Is.EqualTo("yes"));

        var bad = Connect(backend.Port);
        bad.Send("GET / HTTP/1.1\nHost: x\n\n");
        Assert.That(bad.ReadResponse().Status, Is.EqualTo(400));
        Assert.That(bad.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(backend.ProtocolErrors, Has.Count.EqualTo(1));
    }

    [Test]
    public void Restart_ListensAgainOnTheSamePort()
    {
        var backend = StartBackend();
        int port = backend.Port;
        Connect(port).Get("/");
        backend.Restart();
        Assert.That(backend.Port, Is.EqualTo(port));
        Assert.That(Connect(port).Get("/").Get("X-Connection"), Is.EqualTo("2"));
    }

    [Test]
    public void Stop_ClosesEverythingQuickly()
    {
        var backend = new TestBackend();
        var clients = Enumerable.Range(0, 10).Select(_ => Track(new RawHttpClient(backend.Port))).ToList();
        clients.ForEach(c => c.Get("/"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        backend.Dispose();
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(backend.OpenConnections, Is.Zero);
        Assert.That(clients.All(c => c.IsClosedByPeer(TimeSpan.FromSeconds(5))), Is.True);
        Assert.Throws<SocketException>(() => new RawHttpClient(backend.Port).Dispose());
    }

    [Test]
    public void FreePort_IsBindable()
    {
        int port = FreePort.Probe();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        Assert.That(port, Is.GreaterThan(0));
    }

    [Test]
    public void LoadRunner_ParallelKeepAliveClients()
    {
        var backend = StartBackend();
        var result = new LoadRunner
        {
            Port = backend.Port,
            Clients = 8,
            RequestsPerClient = 50,
            Request = i => i % 3 == 0
                ? new LoadRequest($"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", RawHttpClient.Chunk(TestBackend.Body(i * 10)), ExpectedBody: TestBackend.Body(i * 10))
                : LoadRequest.Get($"/?size={i}&chunked={i % 2}", TestBackend.Body(i)),
        }.Run(Cancellation);
        Assert.That(result.Succeeded, Is.EqualTo(400), result.ToString());
        Assert.That(backend.AcceptedConnections, Is.EqualTo(8));
        Assert.That(result.ClientConnections, Is.EqualTo(8));
    }

    [Test]
    public void LoadRunner_ReportsWrongBodies()
    {
        var backend = StartBackend();
        var result = new LoadRunner
        {
            Port = backend.Port,
            Clients = 2,
            RequestsPerClient = 5,
            Request = i => LoadRequest.Get("/?size=10", Encoding.ASCII.GetBytes("0123456789")),
        }.Run(Cancellation);
        Assert.That(result.Failed, Is.EqualTo(10));
        Assert.That(result.FirstFailures[0], Does.Contain("body differs"));
    }
    private const string Alert = "2026/01/02 03:04:05 [alert] 77#0: *9 no free I/O buffers, closing client connection";
    private const string Crit = "2026/01/02 03:04:06 [crit] 77#0: internal error, closing the connection: System.Exception: boom";

    [Test]
    public void ErrorLogCheck_ListsUndeclaredAlarmingLines_AndNotDeclaredOnes()
    {
        string prefix = Directory.CreateTempSubdirectory("rawkeepalive-check-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(prefix, "logs"));
            File.WriteAllText(Path.Combine(prefix, "logs", "error.log"), string.Join("\n",
                "2026/01/02 03:04:04 [notice] 77#0: start worker processes",
                "2026/01/02 03:04:04 [error] 77#0: *3 upstream prematurely closed connection while reading upstream",
                Alert,
                Crit,
                "   at RawKeepalive.Proxy.Worker.Dispatch(UInt64 token, UInt32 events)",
                "2026/01/02 03:04:07 [error] 77#0: *12 Internal Error in a request handler",
                "2026/01/02 03:04:08 [warn] 77#0: 16 worker_connections are not enough, reusing connections") + "\n");
            // Not error-log lines: an access log may quote anything a client sent.
            File.WriteAllText(Path.Combine(prefix, "logs", "access.log"), "127.0.0.1 - - \"GET /[alert]/internal%20error HTTP/1.1\" 404\n");
            const string output = "stderr: rawkeepalive: [emerg] bind() to 127.0.0.1:1 failed (98: Address already in use)\nstdout: fine\n";

            var all = ErrorLogCheck.Find(prefix, output, []);
            Assert.That(all, Has.Count.EqualTo(4), string.Join("\n", all));
            Assert.Multiple(() =>
            {
                Assert.That(all[0], Is.EqualTo("logs/error.log: " + Alert));
                Assert.That(all[1], Does.StartWith("logs/error.log: " + Crit).And.Contain("Worker.Dispatch"), "a stack trace stays with its line");
                Assert.That(all[2], Does.Contain("Internal Error in a request handler"), "an internal error at any level");
                Assert.That(all[3], Does.StartWith("output: ").And.Contain("[emerg] bind()"));
            });

            var declared = ErrorLogCheck.Find(prefix, output,
                [ErrorLogCheck.Containing("NO FREE I/O BUFFERS"), ErrorLogCheck.Containing("internal error"), ErrorLogCheck.Containing("bind() to")]);
            Assert.That(declared, Is.Empty, "declared lines are allowed, ignoring case");
            Assert.That(ErrorLogCheck.Describe("proxy", declared), Is.Null);

            var message = ErrorLogCheck.Describe("this test's own fake log (expected output)", all)!;
            Assert.That(() => ErrorLogCheck.Report(message, ErrorLogCheck.Mode.Fail),
                Throws.TypeOf<AssertionException>().With.Message.Contains(Alert).And.Message.Contains("ExpectLog"));
            Assert.That(() => ErrorLogCheck.Report(message, ErrorLogCheck.Mode.Report), Throws.Nothing, "report only: written, not thrown");
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    /// <summary>Through the real path: a line in a running proxy's error log fails its Dispose unless declared.</summary>
    [TestCase(false, TestName = "ProxyDispose_FailsOnAnUndeclaredAlert")]
    [TestCase(true, TestName = "ProxyDispose_PassesADeclaredAlert")]
    public void ProxyDispose_ChecksTheErrorLog(bool declared)
    {
        var proxy = ProxyProcess.Start("""
            events { worker_connections 16; }
            http { server { listen 127.0.0.1:{PORT}; location / { return 200 "ok"; } } }
            """);
        int pid = proxy.ProcessId;
        try
        {
            using (var client = new RawHttpClient(proxy.Port))
                Assert.That(client.Get("/").Status, Is.EqualTo(200));
            File.AppendAllText(proxy.ErrorLogPath, Alert + "\n");
            if (declared)
            {
                proxy.ExpectLog("no free I/O buffers");
                Assert.That(() => proxy.Dispose(), Throws.Nothing);
            }
            else
            {
                Assert.That(() => proxy.Dispose(), Throws.TypeOf<AssertionException>().With.Message.Contains(Alert));
            }
            Assert.That(Directory.Exists(proxy.Prefix), Is.False, "the prefix is deleted all the same");
            Assert.That(Directory.Exists($"/proc/{pid}"), Is.False, "the process is gone");
        }
        finally
        {
            proxy.Dispose(ErrorLogCheck.Mode.Skip);
        }
    }
}
