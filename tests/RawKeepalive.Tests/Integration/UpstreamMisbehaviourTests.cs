using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 5 "Upstream misbehaviour": a body longer than its Content-Length, a truncated body, a
/// close inside a chunked body, an interim 1xx. Never a response that looks complete when it is
/// not, and nothing pooled that is out of step.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class UpstreamMisbehaviourTests : ProxyTestBase
{
    // 100 bytes are relayed through the buffer; 300,000 mostly through a splice() pipe, which stops
    // at the body's last byte and must notice what follows it without reading it.
    [TestCase(100, TestName = "MoreBytesThanContentLength_TheResponseIsExact_AndNeitherConnectionIsKept")]
    [TestCase(300_000, TestName = "MoreBytesThanALongSplicedContentLength_TheResponseIsExact_AndNeitherConnectionIsKept")]
    public void MoreBytesThanContentLength(int size)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var client = Connect(proxy);

        var r = client.Get($"/?size={size}&extra=50");
        Assert.That(r.Body, Is.EqualTo(TestBackend.Body(size)));
        Assert.That(Wait.Until(() => client.IsClosedByPeer(TimeSpan.FromMilliseconds(100)), TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Connect(proxy).Get("/?size=1").Get("X-Connection"), Is.EqualTo("2"), "the out-of-step connection was not pooled");
    }

    [TestCase(false, 100_000, 30_000, TestName = "TruncatedContentLengthBody_ClosesTheClientWithoutCompletingIt")]
    [TestCase(false, 2_000_000, 700_000, TestName = "TruncatedSplicedContentLengthBody_ClosesTheClientWithoutCompletingIt")]
    [TestCase(true, 100_000, 30_000, TestName = "CloseInsideAChunkedBody_ClosesTheClientWithoutCompletingIt")]
    public void Truncated(bool chunked, int size, int truncate)
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var client = Connect(proxy);
        client.Send($"GET /?size={size}&truncate={truncate}&chunked={(chunked ? 1 : 0)} HTTP/1.1\r\nHost: x\r\n\r\n");

        // The head went out before the body was cut, so the client reads a head and then meets the close inside
        // the body. Not a timeout (a hang), not a close before any response (nothing relayed), not a bad format.
        Assert.That(() => client.ReadResponse(), Throws.InstanceOf<EndOfStreamException>().And.Not.InstanceOf<ConnectionClosedException>(),
            "the client must see an incomplete response, never a complete one");
        Assert.That(proxy.ErrorLog, Does.Contain("upstream prematurely closed connection"));
        Assert.That(Connect(proxy).Get("/?size=5").Status, Is.EqualTo(200));
    }

    [Test]
    public void InterimResponseBeforeTheFinalOne_IsHandled()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(), backend);
        var client = Connect(proxy);
        var r = client.Get("/?size=10&interim=1");
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Body, Is.EqualTo(TestBackend.Body(10)));
        Assert.That(client.Get("/?size=1").Get("X-Connection"), Is.EqualTo("1"), "and the connection is reused after it");
    }
}
