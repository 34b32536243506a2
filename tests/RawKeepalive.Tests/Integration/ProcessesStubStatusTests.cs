using System.Text.RegularExpressions;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>stub_status summed over all workers through the shared counters, across a reload, and
/// allow/deny in front of it.</summary>
[TestFixture]
[NonParallelizable]
public sealed partial class ProcessesStubStatusTests : ProxyTestBase
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    private const string Template = """
        worker_processes 2;
        events { worker_connections 256; }
        http {
            server {
                listen 127.0.0.1:{PORT};
                location / { return 200 "ok"; }
                location = /status { stub_status; allow 127.0.0.1; deny all; }
                location = /private { stub_status; allow 10.1.2.3; deny all; }
            }
        }
        """;

    private sealed record Status(long Active, long Accepts, long Handled, long Requests, long Reading, long Writing, long Waiting);

    [GeneratedRegex(@"^Active connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+) \nReading: (\d+) Writing: (\d+) Waiting: (\d+) \n$")]
    private static partial Regex Page();

    /// <summary>Status connections made so far (each is an accept and a request of its own).</summary>
    private int _reads;

    private Status Read(ProxyProcess proxy)
    {
        _reads++;
        using var client = Connect(proxy);
        var r = client.Get("/status", extraHeaders: "Connection: close\r\n");
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Get("Content-Type"), Is.EqualTo("text/plain"));
        var m = Page().Match(r.BodyText);
        Assert.That(m.Success, Is.True, $"nginx's stub_status format:\n{r.BodyText}");
        long N(int i) => long.Parse(m.Groups[i].Value);
        return new Status(N(1), N(2), N(3), N(4), N(5), N(6), N(7));
    }

    [Test]
    [CancelAfter(60_000)]
    public void FiguresMatchKnownTrafficAcrossWorkersAndAReload()
    {
        var proxy = Track(ProxyProcess.Start(Template, master: true));
        Assert.That(Wait.Until(() => proxy.ChildPids().Length == 2, Settle), Is.True);
        // The status connection itself closes after its answer; wait until no other connection is open.
        Assert.That(Wait.Until(() => Read(proxy).Active == 1, Settle), Is.True, "only the status connection is open");
        var before = Read(proxy);

        const int idle = 6;
        var clients = Enumerable.Range(0, idle).Select(_ => Connect(proxy)).ToList();
        foreach (var c in clients)
            Assert.That(c.Get("/").BodyText, Is.EqualTo("ok"));
        int[] workers = proxy.ChildPids();
        var owners = clients.Select(c => ProcessesProbe.OwnerOf(workers, proxy.Port, c.LocalPort)).Distinct().ToList();
        TestContext.Out.WriteLine($"idle clients are on {owners.Count} worker(s)");

        var during = Read(proxy);
        Assert.Multiple(() =>
        {
            Assert.That(during.Accepts - before.Accepts, Is.EqualTo(idle + 1), "accepts: the idle clients and this status connection");
            Assert.That(during.Handled, Is.EqualTo(during.Accepts));
            Assert.That(during.Requests - before.Requests, Is.EqualTo(idle + 1), "requests: one per idle client and this one");
            Assert.That(during.Active, Is.EqualTo(idle + 1));
            Assert.That(during.Waiting, Is.EqualTo(idle), "Waiting = idle keepalive clients");
            Assert.That(during.Writing, Is.EqualTo(1), "Writing = this status request");
            Assert.That(during.Reading, Is.Zero);
        });

        // Reload: the old workers close their idle clients after the drain grace and exit; their
        // totals stay in the sum, their gauges go.
        proxy.Signal(1);
        Assert.That(Wait.Until(() => proxy.ChildPids() is { Length: 2 } now && !now.Intersect(workers).Any(), Settle), Is.True, "the old generation exits");
        var after = Read(proxy);
        Assert.Multiple(() =>
        {
            Assert.That(after.Accepts, Is.EqualTo(during.Accepts + 1), "totals survive the reload");
            Assert.That(after.Requests, Is.EqualTo(during.Requests + 1));
            Assert.That(after.Active, Is.EqualTo(1));
            Assert.That(after.Waiting, Is.Zero);
        });
        foreach (var c in clients)
            Assert.That(c.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True, "a draining worker closed its idle client");
    }

    /// <summary>master_process off: the single worker's own figures. They read all zero before, because
    /// its private counter slot was never marked in use and the sum skipped it.</summary>
    [Test]
    [CancelAfter(30_000)]
    public void SingleProcessCountsItsOwnTraffic()
    {
        var proxy = Track(ProxyProcess.Start(Template));
        Assert.That(Wait.Until(() => Read(proxy).Active == 1, Settle), Is.True, "only the status connection is open");
        var before = Read(proxy);
        int readsBefore = _reads;
        using (var c = Connect(proxy))
            Assert.That(c.Get("/").BodyText, Is.EqualTo("ok"));
        Assert.That(Wait.Until(() => Read(proxy).Active == 1, Settle), Is.True, "the client has gone");
        var after = Read(proxy);
        int connections = 1 + _reads - readsBefore;   // the client, and each status connection since `before`
        Assert.Multiple(() =>
        {
            Assert.That(after.Accepts - before.Accepts, Is.EqualTo(connections), "accepts: the client and the status connections");
            Assert.That(after.Handled, Is.EqualTo(after.Accepts));
            Assert.That(after.Requests - before.Requests, Is.EqualTo(connections), "one request on each");
            Assert.That(after.Writing, Is.EqualTo(1), "Writing = this status request");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public void DenyAnswers403()
    {
        var proxy = StartProxy(Template);
        using var client = Connect(proxy);
        var denied = client.Get("/private");
        Assert.That(denied.Status, Is.EqualTo(403));
        Assert.That(denied.KeepAlive, Is.True, "a 403 keeps the connection");
        Assert.That(client.Get("/status").Status, Is.EqualTo(200), "allow 127.0.0.1 lets loopback in");
        Assert.That(proxy.WaitForErrorLog("access forbidden by rule"), Is.True);
    }
}
