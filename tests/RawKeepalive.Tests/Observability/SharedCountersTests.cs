using System.Net;
using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Tests.Support;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Observability;

/// <summary>The shared counters' layout as the master and the workers use it, on a private segment: a
/// worker's slot with its peer entries, the master folding an exited worker's totals into the folded
/// slot of its number, and a reader that sums while the master folds never seeing a total go down.</summary>
[TestFixture, CancelAfter(60_000)]
public sealed class SharedCountersTests
{
    private static readonly ErrorLog Log = new("stderr", LogLevel.Error);

    private static UpstreamGroup Group(string name, int port) => new(new UpstreamConfig
    {
        Name = name,
        File = "t.conf",
        Servers = [new UpstreamServerConfig { Text = $"127.0.0.1:{port}", Addresses = [new IPEndPoint(IPAddress.Loopback, port)] }],
    }, 16);

    /// <summary>A worker of <paramref name="number"/>: its slot, one accept and <paramref name="requests"/> upstream requests.</summary>
    private static (int Slot, UpstreamGroup Group) Worker(SharedCounters segment, int number, int requests, string upstream = "app")
    {
        int slot = segment.Allocate(number);
        var counters = new CounterSlot(segment, slot);
        var group = Group(upstream, 8080);
        counters.Register([group], Log);
        counters.Accepted();
        var stats = group.Peers[0].Stats;
        stats.CountOpened();
        for (int i = 0; i < requests; i++) stats.CountRequestSent();
        stats.CountIdle();
        return (slot, group);
    }

    private static long Sent(MetricsSnapshot s, int peer = 0) => s.Peer(peer, UpstreamFigures.RequestsSent);

    [Test]
    public void AnExitedWorkersTotalsStay_ItsGaugesGo_AndItsSlotIsFreed()
    {
        var segment = SharedCounters.Private();
        var snapshot = new MetricsSnapshot(4);
        var (first, _) = Worker(segment, number: 0, requests: 5);
        var (second, _) = Worker(segment, number: 1, requests: 7);
        Assert.That(snapshot.Take(segment), Is.True);
        Assert.That((snapshot.PeerCount, Sent(snapshot), snapshot.Peer(0, UpstreamFigures.Idle)), Is.EqualTo((1, 12L, 2L)), "two workers, one peer");

        segment.Reaped(first);   // the first of number 0 becomes its folded slot
        var (third, _) = Worker(segment, number: 0, requests: 3);
        segment.Reaped(third);   // folded into it, and freed
        Assert.That(snapshot.Take(segment), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(Sent(snapshot), Is.EqualTo(15), "5 + 7 + 3: nothing lost");
            Assert.That(snapshot.Peer(0, UpstreamFigures.Idle), Is.EqualTo(1), "only the live worker's idle connection");
            Assert.That(snapshot.Total(SharedCounters.Accepts), Is.EqualTo(3));
            Assert.That(snapshot.Worker(0, SharedCounters.Accepts), Is.EqualTo(2), "worker 0's two processes");
            Assert.That(snapshot.Worker(1, SharedCounters.Accepts), Is.EqualTo(1));
            Assert.That(segment.Allocate(5), Is.EqualTo(third), "the folded-in slot is free again");
        });
        _ = second;
    }

    [Test]
    public void PeersAreSummedByName_AndAPageWithMorePeersThanRoomIsRefused()
    {
        var segment = SharedCounters.Private();
        Worker(segment, 0, 1, upstream: "a");
        Worker(segment, 1, 1, upstream: "b");
        Worker(segment, 2, 1, upstream: "a");
        var snapshot = new MetricsSnapshot(2);
        Assert.That(snapshot.Take(segment), Is.True);
        Assert.That(snapshot.PeerCount, Is.EqualTo(2));
        Assert.That(snapshot.UpstreamName(0).ToArray(), Is.EqualTo("a"u8.ToArray()));
        Assert.That(Sent(snapshot, 0), Is.EqualTo(2));
        Assert.That(snapshot.PeerName(0).ToArray(), Is.EqualTo("127.0.0.1:8080"u8.ToArray()));
        Worker(segment, 3, 1, upstream: "c");
        Assert.That(snapshot.Take(segment), Is.False, "three peers, room for two");
    }

    [Test]
    public void AReaderSummingWhileTheMasterFolds_NeverSeesATotalGoDown()
    {
        const int Generations = 20_000;
        var segment = SharedCounters.Private();
        var snapshot = new MetricsSnapshot(4);
        long lowest = 0, drops = 0, reads = 0;
        var stop = new CancellationTokenSource();
        var reader = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                snapshot.Take(segment);
                long now = Sent(snapshot);
                if (now < lowest) drops++;
                lowest = Math.Max(lowest, now);
                reads++;
            }
        });
        reader.Start();
        Assert.That(Wait.Until(() => Interlocked.Read(ref reads) > 0, TimeSpan.FromSeconds(10)), Is.True, "the reader runs");
        for (int generation = 0; generation < Generations; generation++)
        {
            var (slot, _) = Worker(segment, generation % 2, requests: 1);
            segment.Reaped(slot);
        }
        stop.Cancel();
        reader.Join();
        Assert.That(drops, Is.Zero, $"reads that saw the total go down, of {reads}");
        snapshot.Take(segment);
        Assert.That(Sent(snapshot), Is.EqualTo(Generations));
    }

    [Test]
    public void ThePageAtItsLargest_FitsTheRoomSizedForIt()
    {
        var page = new MetricsPage(ownPeers: 3);
        var segment = SharedCounters.Private();
        for (int p = 0; p < page.MaxPeers; p++) Worker(segment, p % SharedCounters.SlotCount, 1, upstream: new string('u', SharedCounters.UpstreamNameBytes - 3) + p.ToString("D3"));
        int length = page.Measure(segment);
        Assert.That(length, Is.InRange(1, page.Capacity));
        var buffer = new byte[length];
        Assert.That(page.Write(buffer), Is.EqualTo(length), "written as measured");
        Worker(segment, 0, 1, upstream: "one-too-many");
        Assert.That(page.Measure(segment), Is.EqualTo(-1), "more peers than room: refused, never cut");
    }

    [Test]
    public void FigureLayout_MatchesItsBounds_AndEveryCloseReasonHasRoomAndALabel()
    {
        Assert.Multiple(() =>
        {
            Assert.That(UpstreamFigures.TimeBoundsUs, Has.Length.EqualTo(UpstreamFigures.TimeBounds));
            Assert.That(UpstreamFigures.RequestBoundsCount, Has.Length.EqualTo(UpstreamFigures.RequestBounds));
            Assert.That(UpstreamStats.ReasonCount, Is.EqualTo(Enum.GetValues<UpstreamCloseReason>().Length).And.LessThanOrEqualTo(UpstreamFigures.ReasonCapacity));
            Assert.That(UpstreamFigures.ReasonLabels[(int)UpstreamCloseReason.ClosedWhileIdle], Is.EqualTo("closed_while_idle"));
            Assert.That(UpstreamFigures.ReasonLabels[(int)UpstreamCloseReason.PoolFull], Is.EqualTo("pool_full"));
            Assert.That(KeepaliveDiagnosis.Duration(60_000), Is.EqualTo("60s"));
            Assert.That(KeepaliveDiagnosis.Duration(3_600_000), Is.EqualTo("1h"));
            Assert.That(KeepaliveDiagnosis.Duration(500), Is.EqualTo("500ms"));
        });
    }
}
