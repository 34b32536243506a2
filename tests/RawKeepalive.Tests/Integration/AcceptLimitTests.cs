using System.Diagnostics;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 12: when accept4() fails with EMFILE or ENFILE, the worker stops accepting and tries again on a
/// timer, as nginx does (ngx_event_accept: a [crit] line, accept events off, another try after
/// accept_mutex_delay, 500 ms). The listener is edge-triggered, so a worker that only gives up waits for
/// the next connection to arrive before it takes those already queued.
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class AcceptLimitTests : ProxyTestBase
{
    private const string EmfileLine = "accept4() failed (24: Too many open files)";

    [Test]
    public void OutOfDescriptors_QueuedConnectionsAreServedWithinASecondOfDescriptorsFreeingUp()
    {
        var backend = StartBackend();
        // worker_rlimit_nofile applies to worker processes (as nginx's): master mode. 64 descriptors leave the
        // worker room for about 50 clients besides its own (listen socket, epoll, log, pipes, upstream).
        var proxy = Track(ProxyProcess.Start("""
            worker_rlimit_nofile 64;
            events { worker_connections 1024; }
            http {
                upstream app_backend { server 127.0.0.1:{BACKEND}; }
                server {
                    listen 127.0.0.1:{PORT};
                    location / { proxy_pass http://app_backend; }
                }
            }
            """, backend.Port, master: true));
        proxy.ExpectLog(EmfileLine);

        // Clients that each got an answer and stay open, until one is not accepted for want of a descriptor.
        var served = new List<RawHttpClient>();
        RawHttpClient? first = null;
        while (first is null)
        {
            Assert.That(served, Has.Count.LessThan(200), "the descriptor limit was never reached");
            var client = Connect(proxy, TimeSpan.FromSeconds(10));
            client.Send("GET /?size=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            bool limited = false;
            Assert.That(Wait.Until(() => client.WaitReadable(TimeSpan.Zero) || (limited = proxy.ErrorLog.Contains(EmfileLine)),
                TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(5)), Is.True, $"client {served.Count + 1}: neither answered nor refused");
            if (limited && !client.WaitReadable(TimeSpan.Zero))
                first = client;
            else
            {
                Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
                served.Add(client);
            }
        }
        // A few more wait in the listen queue behind it.
        var queued = new List<RawHttpClient> { first };
        for (int i = 0; i < 3; i++)
        {
            var client = Connect(proxy, TimeSpan.FromSeconds(10));
            client.Send("GET /?size=2 HTTP/1.1\r\nHost: x\r\n\r\n");
            queued.Add(client);
        }

        // Descriptors free up: the answered clients leave. No new connection arrives to wake the listener.
        foreach (var client in served) client.Dispose();
        var clock = Stopwatch.StartNew();
        bool answered = Wait.Until(() => queued.All(c => c.WaitReadable(TimeSpan.Zero)), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(5));
        var elapsed = clock.Elapsed;
        int waiting = queued.Count(c => !c.WaitReadable(TimeSpan.Zero));
        TestContext.Out.WriteLine($"measured: {served.Count} clients exhausted the descriptors; of {queued.Count} queued, " +
            $"{queued.Count - waiting} answered, {waiting} still waiting {elapsed.TotalMilliseconds:F0} ms after descriptors were freed");
        Assert.That(answered, Is.True, $"{waiting} of {queued.Count} queued connections still unanswered after 5 s");
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "served again within a second");
        Assert.That(queued.Select(c => c.ReadResponse().Status), Is.All.EqualTo(200));

        var fresh = Connect(proxy, TimeSpan.FromSeconds(10));
        Assert.That(fresh.Get("/?size=3").Status, Is.EqualTo(200), "and new connections too");
    }
}
