using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 2, "Must show" 1: the article's TL;DR config under load, byte-correct in both directions.</summary>
[TestFixture, Category("Integration"), CancelAfter(300_000)]
public sealed class TldrConfigTests : ProxyTestBase
{
    private const int Clients = 64;
    private const int RequestsPerClient = 157; // 64 × 157 = 10,048 requests
    private static readonly int[] Sizes = [0, 100, 64 * 1024, 1024 * 1024];

    /// <summary>
    /// Request <paramref name="index"/> of the mix: 1 MiB for 1 in 100, 64 KiB for 1 in 10, otherwise 0 or 100 bytes;
    /// a download (Content-Length or chunked) or an upload to /echo (Content-Length or chunked), picked per index.
    /// </summary>
    private static LoadRequest Mix(int index)
    {
        int size = index % 100 == 0 ? Sizes[3] : index % 10 == 5 ? Sizes[2] : Sizes[index % 2];
        var pick = new Random(index);
        bool upload = pick.Next(2) == 0;
        bool chunked = pick.Next(2) == 0;
        byte[] body = TestBackend.Body(size);
        if (!upload)
            return LoadRequest.Get($"/?size={size}&chunked={(chunked ? 1 : 0)}", body);
        return chunked
            ? new LoadRequest("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n", RawHttpClient.Chunk(body), ExpectedBody: body)
            : new LoadRequest($"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {size}\r\n\r\n", body, ExpectedBody: body);
    }

    [Test]
    public void TenThousandRequestsFrom64Clients_ReuseAtMost64UpstreamConnections_AndAreByteCorrect()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Tldr, backend);

        var result = new LoadRunner
        {
            Port = proxy.Port,
            Clients = Clients,
            RequestsPerClient = RequestsPerClient,
            Request = Mix,
            Validate = (_, request, response) =>
            {
                if (request.Head.StartsWith("POST", StringComparison.Ordinal)
                    && response.Get("X-Body-Length") != request.ExpectedBody!.Length.ToString())
                    return $"X-Body-Length {response.Get("X-Body-Length")}, uploaded {request.ExpectedBody.Length}";
                return response.KeepAlive ? null : $"the proxy closed a keep-alive client connection:\n{response.Head}";
            },
            Deadline = TimeSpan.FromMinutes(4),
        }.Run(Cancellation);

        TestContext.Out.WriteLine($"measured: {result.Succeeded} requests, {backend.AcceptedConnections} upstream connections opened");
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.EqualTo(Clients * RequestsPerClient), result.ToString());
            Assert.That(backend.RequestCount, Is.EqualTo(Clients * RequestsPerClient), "requests the backend received");
            Assert.That(backend.AcceptedConnections, Is.InRange(1, Clients + 8), "upstream connections opened");
            Assert.That(backend.ProtocolErrors, Is.Empty, "what the proxy sent upstream");
            Assert.That(result.ClientConnections, Is.EqualTo(Clients), "client connections kept alive");
        });
    }

    [Test]
    public void EverySizeAndFraming_InBothDirections_OnOneClientConnection()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Tldr, backend);
        var client = Connect(proxy);
        foreach (int size in Sizes)
        {
            byte[] body = TestBackend.Body(size);
            foreach (bool chunked in new[] { false, true })
            {
                var down = client.Get($"/?size={size}&chunked={(chunked ? 1 : 0)}");
                Assert.That(down.Status, Is.EqualTo(200));
                Assert.That(down.Body, Is.EqualTo(body), $"download of {size} bytes, chunked={chunked}");

                var up = client.Post("/echo", body, chunked);
                Assert.That(up.Status, Is.EqualTo(200));
                Assert.That(up.HeaderInt("X-Body-Length"), Is.EqualTo(size), $"upload of {size} bytes, chunked={chunked}");
                Assert.That(up.Body, Is.EqualTo(body), $"echo of {size} bytes, chunked={chunked}");
            }
        }
        Assert.That(backend.AcceptedConnections, Is.EqualTo(1), "one client in turn needs one upstream connection");
        Assert.That(backend.ProtocolErrors, Is.Empty);
    }
}
