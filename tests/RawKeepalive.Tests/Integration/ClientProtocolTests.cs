using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 2, "Must show" 5 and deliverables 3, 6, 9: pipelining, Expect: 100-continue, HTTP/1.0 clients,
/// bodiless responses, malformed requests and <c>return</c>.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class ClientProtocolTests : ProxyTestBase
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(15);

    private (TestBackend Backend, RawHttpClient Client) ProxiedClient(string? template = null)
    {
        var backend = StartBackend();
        var proxy = StartProxy(template ?? Configs.Tldr, backend);
        return (backend, Connect(proxy, NoHang));
    }

    [Test]
    public void Pipelined_FiveRequestsInOneSend_AnsweredInOrder()
    {
        var (_, client) = ProxiedClient();
        int[] sizes = [101, 2002, 30003, 404, 5];
        client.Send(string.Concat(sizes.Select(s => $"GET /?size={s} HTTP/1.1\r\nHost: localhost\r\n\r\n")));
        for (int i = 0; i < sizes.Length; i++)
        {
            var response = client.ReadResponse();
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Body, Is.EqualTo(TestBackend.Body(sizes[i])), $"response {i + 1} of 5");
        }
        Assert.That(client.Get("/?size=6").Body, Is.EqualTo(TestBackend.Body(6)), "the connection goes on after the pipeline");
    }

    [Test]
    public void Upload1MiB_WithExpect100Continue_AsCurlSendsIt()
    {
        var (_, client) = ProxiedClient();
        byte[] body = TestBackend.Body(1024 * 1024);
        client.Send($"POST /echo HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
            + $"Content-Length: {body.Length}\r\nContent-Type: application/octet-stream\r\nExpect: 100-continue\r\n\r\n");
        var interim = client.ReadInterim();
        Assert.That(interim.Status, Is.EqualTo(100), interim.Head);
        client.SendRaw(body);
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.HeaderInt("X-Body-Length"), Is.EqualTo(body.Length));
            Assert.That(response.Body, Is.EqualTo(body));
        });
    }

    [Test]
    public void Http10Client_WithoutKeepAlive_GetsTheResponseThenClose()
    {
        var (_, client) = ProxiedClient();
        client.Send("GET /?size=100 HTTP/1.0\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Body, Is.EqualTo(TestBackend.Body(100)));
        Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True, "HTTP/1.0 without keep-alive: the proxy closes");
    }

    [Test]
    public void Http10Client_WithKeepAlive_StaysUsable()
    {
        var (_, client) = ProxiedClient();
        for (int i = 1; i <= 3; i++)
        {
            client.Send($"GET /?size={i * 100} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            var response = client.ReadResponse();
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Body, Is.EqualTo(TestBackend.Body(i * 100)));
            Assert.That(response.Headers.HasToken("Connection", "keep-alive"), Is.True, response.Head);
            Assert.That(response.ConnectionClosedAfter, Is.False);
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Head_DoesNotHang(bool chunked)
    {
        var (_, client) = ProxiedClient();
        var head = client.Head($"/?size=5000&chunked={(chunked ? 1 : 0)}");
        Assert.That(head.Status, Is.EqualTo(200));
        Assert.That(head.Body, Is.Empty);
        Assert.That(client.Get("/?size=50").Body, Is.EqualTo(TestBackend.Body(50)), "the request after HEAD");
    }

    [TestCase(204)]
    [TestCase(304)]
    public void BodilessStatus_DoesNotHang(int status)
    {
        var (_, client) = ProxiedClient();
        Assert.That(client.Get($"/?status={status}").Status, Is.EqualTo(status));
        Assert.That(client.Get("/?size=50").Body, Is.EqualTo(TestBackend.Body(50)), $"the request after {status}");
    }

    [TestCase("G@T / HTTP/1.1\r\nHost: localhost\r\n\r\n", TestName = "Malformed_InvalidMethod_400AndClose")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n", TestName = "Malformed_HeaderWithoutColon_400AndClose")]
    [TestCase("GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n", TestName = "Malformed_ContentLength_400AndClose")]
    public void MalformedRequest_400AndClose(string request)
    {
        var (backend, client) = ProxiedClient();
        client.Send(request);
        var response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(400), response.ToString());
        Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True, "the connection closes after a 400");
        Assert.That(backend.RequestCount, Is.Zero, "nothing reaches the backend");
    }

    [Test]
    public void ReturnLocation_AnswersWithoutTheBackend()
    {
        var backend = StartBackend();
        var proxy = StartProxy("""
            events { worker_connections 1024; }
            http {
                server {
                    listen 127.0.0.1:{PORT};
                    location /fixed { return 200 "fixed text\n"; }
                    location / { proxy_pass http://127.0.0.1:{BACKEND}; }
                }
            }
            """, backend);
        var client = Connect(proxy, NoHang);
        var fixedResponse = client.Get("/fixed");
        Assert.That(fixedResponse.Status, Is.EqualTo(200));
        Assert.That(fixedResponse.BodyText, Is.EqualTo("fixed text\n"));
        Assert.That(backend.AcceptedConnections, Is.Zero);
        Assert.That(client.Get("/?size=3").Body, Is.EqualTo(TestBackend.Body(3)), "proxy_pass to host:port next to it");
    }
}
