using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 2, "Must show" 2: what the backend receives, by default, under the legacy defaults, and with proxy_set_header.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class UpstreamRequestHeadTests : ProxyTestBase
{
    private BackendRequest OneRequest(string template, string request)
    {
        var backend = StartBackend();
        var proxy = StartProxy(template, backend);
        var client = Connect(proxy);
        client.Send(request);
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200), response.ToString());
        Assert.That(backend.ProtocolErrors, Is.Empty);
        return backend.Requests.Single();
    }

    [Test]
    public void Default_Http11_WithoutConnectionHeader()
    {
        var sent = OneRequest(Configs.Bare, "GET /path?q=1 HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(sent.Version, Is.EqualTo("HTTP/1.1"), sent.Head);
            Assert.That(sent.Get("Connection"), Is.Null, sent.Head);
            Assert.That(sent.Target, Is.EqualTo("/path?q=1"), sent.Head);
            Assert.That(sent.Get("Host"), Is.Not.Null, sent.Head);
        });
    }

    [Test]
    public void Default_ClientConnectionClose_IsNotForwarded()
    {
        var sent = OneRequest(Configs.Bare, "GET / HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
        Assert.That(sent.Get("Connection"), Is.Null, sent.Head);
    }

    [Test]
    public void Legacy_Http10_WithConnectionClose()
    {
        var sent = OneRequest(Configs.Mistake1Legacy, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(sent.Version, Is.EqualTo("HTTP/1.0"), sent.Head);
            Assert.That(sent.Get("Connection"), Is.EqualTo("close").IgnoreCase, sent.Head);
        });
    }

    [Test]
    public void ProxySetHeader_VariablesArrive_AndAnEmptyValueIsNotSent()
    {
        string config = Configs.With(locationExtra: """
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Static "static value";
            proxy_set_header X-Empty "";
            """);
        var sent = OneRequest(config,
            "GET / HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-For: 10.1.2.3\r\nX-Empty: from-client\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(sent.Headers.GetAll("Host"), Is.EqualTo(new[] { "example.test" }), sent.Head);
            Assert.That(sent.Get("X-Real-IP"), Is.EqualTo("127.0.0.1"), sent.Head);
            Assert.That(sent.Get("X-Forwarded-For"), Is.EqualTo("10.1.2.3, 127.0.0.1"), sent.Head);
            Assert.That(sent.Get("X-Static"), Is.EqualTo("static value"), sent.Head);
            Assert.That(sent.Headers.Contains("X-Empty"), Is.False, sent.Head);
        });
    }

    [Test]
    public void HopByHopHeaders_AreNotForwarded()
    {
        var sent = OneRequest(Configs.Bare,
            "GET / HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
            + "TE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\nX-End-To-End: kept\r\n\r\n");
        Assert.Multiple(() =>
        {
            foreach (string name in new[] { "Connection", "Keep-Alive", "TE", "Upgrade", "Proxy-Connection", "X-Hop" })
                Assert.That(sent.Headers.Contains(name), Is.False, $"{name} was forwarded:\n{sent.Head}");
            Assert.That(sent.Get("X-End-To-End"), Is.EqualTo("kept"), sent.Head);
        });
    }
}
