using System.Net;
using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Observability;

/// <summary>The zones' table of the shared counters, on a private segment standing for the master's: workers of
/// one peer share its count, the master's reap takes an exited worker's connections and waiting requests off, and
/// racing workers never count more than max_conns.</summary>
[TestFixture, CancelAfter(60_000)]
public sealed class ZoneTableTests
{
    private static readonly ErrorLog Log = new("stderr", LogLevel.Error);

    /// <summary>A worker's copy of upstream "app" (zone, max_conns=<paramref name="maxConns"/>), bound from a new slot.</summary>
    private static (int Slot, UpstreamPeer Peer) Worker(SharedCounters segment, int number, int maxConns = 2, string? zone = "app")
    {
        var group = new UpstreamGroup(new UpstreamConfig
        {
            Name = "app", File = "t.conf", Zone = zone,
            Servers = [new UpstreamServerConfig { Text = "127.0.0.1:8080", Addresses = [new IPEndPoint(IPAddress.Loopback, 8080)], MaxConns = maxConns }],
        }, 16);
        int slot = segment.Allocate(number);
        segment.Zones.Bind([group], slot, Log);
        return (slot, group.Peers[0]);
    }

    [Test]
    public void TwoWorkers_ShareOneCount_AndAReapedWorkersConnectionsGo()
    {
        var segment = SharedCounters.Private();
        var (first, a) = Worker(segment, 0);
        var (_, b) = Worker(segment, 1);
        Assert.Multiple(() =>
        {
            Assert.That(a.TryReserve(sinceMs: 10), Is.True);
            Assert.That(b.TryReserve(sinceMs: 10), Is.True);
            Assert.That(b.AtLimit && a.AtLimit, Is.True, "max_conns=2 over both workers");
            Assert.That(a.TryReserve(sinceMs: 10), Is.False);
            Assert.That((a.Connections, b.Connections, a.Zone!.Connections), Is.EqualTo((1, 1, 2L)));
        });

        a.Zone!.PublishWaiting(5);
        Assert.That(b.Blocked(sinceMs: 20), Is.True, "the first worker's request has waited longer");
        segment.Reaped(first);
        Assert.Multiple(() =>
        {
            Assert.That(b.Zone!.Connections, Is.EqualTo(1), "the exited worker's connection is off the count");
            Assert.That(b.Blocked(sinceMs: 20), Is.False, "and its waiting request");
        });
        var (_, c) = Worker(segment, 0);
        Assert.That(c.TryReserve(sinceMs: 30), Is.True, "a new worker takes the freed place");
        c.Unreserve();
        b.Unreserve();
        Assert.That(c.Zone!.Connections, Is.Zero);
    }

    [Test]
    public void WithoutZone_EachWorkerCountsItsOwn()
    {
        var segment = SharedCounters.Private();
        var (_, a) = Worker(segment, 0, zone: null);
        var (_, b) = Worker(segment, 1, zone: null);
        Assert.That(a.Zone, Is.Null);
        Assert.That(new[] { a.TryReserve(0), a.TryReserve(0), b.TryReserve(0), b.TryReserve(0), a.TryReserve(0) },
            Is.EqualTo(new[] { true, true, true, true, false }));
    }

    /// <summary>Threads stand for workers, each taking a place, holding it a moment and giving it back, until it has
    /// held one <c>grants</c> times: the places held at once never exceed max_conns, and every place was given back.
    /// (A race can only catch a broken count by chance: a check-then-add fails here in most runs with one place, in some with three. That
    /// the fenced add-then-check cannot overshoot is argued in <see cref="ZonePeer.TryAdd"/>.)</summary>
    [TestCase(1, 2)]
    [TestCase(3, 4)]
    public void RacingWorkers_NeverExceedMaxConns(int max, int workers)
    {
        const int grants = 20_000;
        var segment = SharedCounters.Private();
        var peers = Enumerable.Range(0, workers).Select(n => Worker(segment, n, max).Peer).ToArray();
        int held = 0, worst = 0;
        var cancel = TestContext.CurrentContext.CancellationToken;
        var threads = peers.Select(peer => new Thread(() =>
        {
            for (int granted = 0; granted < grants && !cancel.IsCancellationRequested;)
            {
                if (!peer.TryReserve(sinceMs: 1)) continue;
                int now = Interlocked.Increment(ref held);
                for (int w; now > (w = Volatile.Read(ref worst)) && Interlocked.CompareExchange(ref worst, now, w) != w;) { }
                granted++;
                Thread.SpinWait(20);
                Interlocked.Decrement(ref held);
                peer.Unreserve();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Multiple(() =>
        {
            Assert.That(worst, Is.LessThanOrEqualTo(max), "places held at once");
            Assert.That(peers[0].Zone!.Connections, Is.Zero, "every place was given back");
        });
    }
}
