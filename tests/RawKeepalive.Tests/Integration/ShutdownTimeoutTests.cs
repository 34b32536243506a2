using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 4 "Draining": a graceful stop waits for in-flight requests, but not past
/// worker_shutdown_timeout — a request the upstream never answers does not keep the server up.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class ShutdownTimeoutTests : ProxyTestBase
{
    [TestCase(false, TestName = "QuitWithAHangingRequest_ExitsAtWorkerShutdownTimeout_SingleProcess")]
    [TestCase(true, TestName = "QuitWithAHangingRequest_ExitsAtWorkerShutdownTimeout_MasterAndWorker")]
    public void QuitWithAHangingRequest(bool master)
    {
        var backend = StartBackend();
        var proxy = Track(ProxyProcess.Start("""
            worker_processes 1;
            worker_shutdown_timeout 1s;
            events { worker_connections 64; }
            http {
                upstream app { server 127.0.0.1:{BACKEND}; }
                server { listen 127.0.0.1:{PORT}; location / { proxy_pass http://app; } }
            }
            """, backend.Port, master: master));
        var client = Connect(proxy);
        client.Send("GET /?hang=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(Wait.Until(() => backend.RequestCount == 1, TimeSpan.FromSeconds(10)), Is.True, "the request is in flight");

        Assert.That(proxy.RunCommand("-s", "quit").ExitCode, Is.Zero);

        Assert.That(proxy.WaitForExit(TimeSpan.FromSeconds(20)), Is.Not.Null, "the server exits once worker_shutdown_timeout has passed");
        Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True, "the hanging request's connection was closed");
        Assert.That(proxy.ErrorLog, Does.Contain("worker_shutdown_timeout"));
    }
}
