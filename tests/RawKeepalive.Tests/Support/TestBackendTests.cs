using System.Net.Sockets;
using System.Text;
using NUnit.Framework;

namespace RawKeepalive.Tests.Support;

/// <summary>The test infrastructure checked against itself: RawHttpClient talking straight to TestBackend.</summary>
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
}
