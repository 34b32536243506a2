using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Proxy;

/// <summary>
/// Which bodies a worker splices, read from its own pipe counter: long Content-Length bodies by
/// default, none under <c>proxy_splice off</c>, and never a short one or a chunked one.
/// </summary>
[TestFixture, CancelAfter(60_000), NonParallelizable]
public sealed class SpliceSwitchTests : ProxyTestBase
{
    private static string Config(string splice) => $$"""
        events { worker_connections 64; }
        http {
            upstream app_backend { server 127.0.0.1:BACKEND; keepalive 4; }
            {{splice}}
            server {
                listen 127.0.0.1:PORT;
                location / { proxy_pass http://app_backend; }
            }
        }
        """;

    [TestCase("", "/?size=300000", true, TestName = "LongContentLengthBody_IsSplicedByDefault")]
    [TestCase("proxy_splice off;", "/?size=300000", false, TestName = "LongContentLengthBody_IsNotSplicedUnderProxySpliceOff")]
    [TestCase("", "/?size=20000", false, TestName = "ShortBody_IsRelayedThroughTheBuffer")]
    [TestCase("", "/?size=300000&chunked=1", false, TestName = "ChunkedBody_IsRelayedThroughTheBuffer")]
    public void Splices(string directive, string path, bool spliced)
    {
        var backend = StartBackend();
        var host = Track(new InProcessWorker(Config(directive), backend.Port));
        var client = Connect(host.Port);
        int size = int.Parse(path.Split('=')[1].Split('&')[0]);

        var r = client.Get(path);
        Assert.That(r.Body, Is.EqualTo(TestBackend.Body(size)));
        Assert.That(host.Worker.Pipes.SplicedBytes > 0, Is.EqualTo(spliced), $"{host.Worker.Pipes.SplicedBytes} bytes spliced");
    }
}
