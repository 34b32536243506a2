using NUnit.Framework;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Upstream;

[TestFixture, CancelAfter(60_000)]
public class KeepalivePoolTests
{
    private const int PeerA = 1, PeerB = 2;
    /// <summary>The tag every location shares without <c>local</c>.</summary>
    private const int NoTag = 0;

    [Test]
    public void TryTake_ReturnsTheMostRecentlyUsedFirst()
    {
        var pool = new KeepalivePool(8, 60_000, 16);
        pool.Put(1, PeerA, NoTag, 0);
        pool.Put(2, PeerA, NoTag, 1);
        pool.Put(3, PeerA, NoTag, 2);

        var taken = new List<int>();
        while (pool.TryTake(PeerA, NoTag, out int id))
            taken.Add(id);

        Assert.That(taken, Is.EqualTo(new[] { 3, 2, 1 }));
        Assert.That(pool.Count, Is.Zero);
    }

    /// <summary>The hand-off before eviction: Add keeps connections past Capacity; PopOverflow evicts the least
    /// recently used of the overflow only once it was added in an earlier turn and long enough ago.</summary>
    [Test]
    public void Add_KeepsOverflowUntilATurnAndTheWindowPassed()
    {
        var pool = new KeepalivePool(1, 60_000, 16);
        pool.Add(1, PeerA, NoTag, nowMs: 10, turn: 5);
        pool.Add(2, PeerA, NoTag, nowMs: 10, turn: 5);
        pool.Add(3, PeerA, NoTag, nowMs: 11, turn: 6);
        Assert.Multiple(() =>
        {
            Assert.That(pool.Count, Is.EqualTo(3), "past keepalive 1 until the end of a later turn");
            Assert.That(pool.Overflowing, Is.True);
            Assert.That(pool.PopOverflow(beforeTurn: 5, addedByMs: 100), Is.EqualTo(-1), "added in this turn: kept");
            Assert.That(pool.PopOverflow(beforeTurn: 6, addedByMs: 9), Is.EqualTo(-1), "added after the window's start: kept");
            Assert.That(pool.PopOverflow(beforeTurn: 6, addedByMs: 10), Is.EqualTo(1), "the least recently used goes first");
            Assert.That(pool.PopOverflow(beforeTurn: 6, addedByMs: 10), Is.EqualTo(2));
            Assert.That(pool.PopOverflow(beforeTurn: 7, addedByMs: 11), Is.EqualTo(-1), "back to Capacity: nothing more goes");
            Assert.That(pool.Overflowing, Is.False);
            Assert.That(pool.Contains(3), Is.True);
        });
    }

    [Test]
    public void Put_WhenFull_EvictsTheLeastRecentlyUsed()
    {
        var pool = new KeepalivePool(2, 60_000, 16);
        Assert.Multiple(() =>
        {
            Assert.That(pool.Put(1, PeerA, NoTag, 0), Is.EqualTo(-1));
            Assert.That(pool.Put(2, PeerB, NoTag, 1), Is.EqualTo(-1));
            Assert.That(pool.Put(3, PeerA, NoTag, 2), Is.EqualTo(1));
            Assert.That(pool.Count, Is.EqualTo(2));
            Assert.That(pool.Contains(1), Is.False);
            Assert.That(pool.Contains(2), Is.True);
            Assert.That(pool.Contains(3), Is.True);
        });
    }

    [Test]
    public void Put_AfterTake_MakesTheConnectionMostRecentAgain()
    {
        var pool = new KeepalivePool(2, 60_000, 16);
        pool.Put(1, PeerA, NoTag, 0);
        pool.Put(2, PeerA, NoTag, 1);
        Assert.That(pool.TryTake(PeerA, NoTag, out int id), Is.True);
        Assert.That(id, Is.EqualTo(2));
        pool.Put(id, PeerA, NoTag, 5);
        Assert.That(pool.Put(3, PeerA, NoTag, 6), Is.EqualTo(1), "1 is the least recently used");
    }

    [Test]
    public void TryTake_ReturnsOnlyConnectionsToTheWantedPeer()
    {
        var pool = new KeepalivePool(8, 60_000, 16);
        pool.Put(1, PeerA, NoTag, 0);
        pool.Put(2, PeerB, NoTag, 1);
        pool.Put(3, PeerA, NoTag, 2);
        pool.Put(4, PeerA, NoTag, 3);

        Assert.Multiple(() =>
        {
            Assert.That(pool.TryTake(PeerB, NoTag, out int b), Is.True);
            Assert.That(b, Is.EqualTo(2));
            Assert.That(pool.TryTake(PeerB, NoTag, out int none), Is.False);
            Assert.That(none, Is.EqualTo(-1));
            Assert.That(pool.TryTake(PeerA, NoTag, out int a), Is.True);
            Assert.That(a, Is.EqualTo(4));
            Assert.That(pool.TryTake(3, NoTag, out _), Is.False, "unknown peer");
            Assert.That(pool.Count, Is.EqualTo(2));
        });
    }

    [Test]
    public void TryTake_ReturnsOnlyConnectionsReleasedWithTheWantedTag()
    {
        const int LocationA = 1, LocationB = 2;
        var pool = new KeepalivePool(8, 60_000, 16);
        pool.Put(1, PeerA, LocationA, 0);
        pool.Put(2, PeerA, LocationB, 1);
        pool.Put(3, PeerB, LocationA, 2);

        Assert.Multiple(() =>
        {
            Assert.That(pool.TryTake(PeerA, LocationA, out int a), Is.True);
            Assert.That(a, Is.EqualTo(1), "connection 2 is more recent, but another location's");
            Assert.That(pool.TryTake(PeerA, LocationA, out _), Is.False, "none left to PeerA from location A");
            Assert.That(pool.TryTake(PeerA, NoTag, out _), Is.False, "tags are never wildcards");
            Assert.That(pool.TryTake(PeerA, LocationB, out int b), Is.True);
            Assert.That(b, Is.EqualTo(2));
            Assert.That(pool.Count, Is.EqualTo(1));
        });
    }

    [Test]
    public void Put_WhenFull_EvictsTheLeastRecentlyUsedWhateverItsTag()
    {
        // One cache of N for the whole group: a location's release may evict another location's entry.
        var pool = new KeepalivePool(2, 60_000, 16);
        pool.Put(1, PeerA, 1, 0);
        pool.Put(2, PeerA, 2, 1);
        Assert.That(pool.Put(3, PeerA, 3, 2), Is.EqualTo(1));
        Assert.That(pool.Count, Is.EqualTo(2));
    }

    /// <summary>Issue 12: the pool's memory and the loop's expiry work must not grow with the locations.</summary>
    [TestCase("keepalive 8 local;", true)]
    [TestCase("", true, TestName = "EveryLocation_DrawsOnTheGroupsOneCache_ImplicitKeepalive32Local")]
    [TestCase("keepalive 8;", false)]
    public void EveryLocation_DrawsOnTheGroupsOneCache(string keepalive, bool local)
    {
        string locations = string.Concat(Enumerable.Range(0, 50).Select(i => $"location /l{i} {{ proxy_pass http://b; }}\n"));
        var config = RawKeepalive.Tests.Config.ConfigText.LoadHttp($"upstream b {{ server 127.0.0.1:1; {keepalive} }}\nserver {{ {locations} }}");
        var groups = RawKeepalive.Process.UpstreamGroups.For(config);
        var server = new RawKeepalive.Routing.ServerRuntime(config.Http.Servers.Single(), groups);
        var group = groups.Values.Single();
        var pools = server.Locations.Select(l => l.Pool!).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(pools, Has.Length.EqualTo(50));
            Assert.That(pools.Select(p => p.Cache).Distinct().Single(), Is.SameAs(group.Pool), "one cache for the group");
            Assert.That(group.Pool!.Capacity, Is.EqualTo(keepalive == "" ? 32 : 8), "N in all, not N per location");
            Assert.That(pools.Select(p => p.Tag).Distinct().Count(), Is.EqualTo(local ? 50 : 1), "tags");
        });
    }

    [Test]
    public void Remove_UnlinksOnlyThatConnection()
    {
        var pool = new KeepalivePool(8, 60_000, 16);
        pool.Put(1, PeerA, NoTag, 0);
        pool.Put(2, PeerA, NoTag, 1);
        pool.Put(3, PeerA, NoTag, 2);

        Assert.Multiple(() =>
        {
            Assert.That(pool.Remove(2), Is.True);
            Assert.That(pool.Remove(2), Is.False);
            Assert.That(pool.Remove(9), Is.False, "never put");
            Assert.That(pool.Contains(2), Is.False);
            Assert.That(pool.Count, Is.EqualTo(2));
        });
        var taken = new List<int>();
        while (pool.TryTake(PeerA, NoTag, out int id))
            taken.Add(id);
        Assert.That(taken, Is.EqualTo(new[] { 3, 1 }));
    }

    [Test]
    public void PopExpired_ReturnsTheOldestOnceIdleForTheTimeout()
    {
        var pool = new KeepalivePool(8, 100, 16);
        Assert.That(pool.NextExpiryMs, Is.EqualTo(long.MaxValue));
        pool.Put(1, PeerA, NoTag, 0);
        pool.Put(2, PeerB, NoTag, 10);
        pool.Put(3, PeerA, NoTag, 20);

        Assert.Multiple(() =>
        {
            Assert.That(pool.NextExpiryMs, Is.EqualTo(100));
            Assert.That(pool.PopExpired(99), Is.EqualTo(-1));
            Assert.That(pool.PopExpired(100), Is.EqualTo(1));
            Assert.That(pool.PopExpired(100), Is.EqualTo(-1));
            Assert.That(pool.NextExpiryMs, Is.EqualTo(110));
            Assert.That(pool.PopExpired(500), Is.EqualTo(2));
            Assert.That(pool.PopExpired(500), Is.EqualTo(3));
            Assert.That(pool.PopExpired(500), Is.EqualTo(-1));
            Assert.That(pool.NextExpiryMs, Is.EqualTo(long.MaxValue));
        });
    }

    [Test]
    public void CapacityZero_KeepsNothing()
    {
        var pool = new KeepalivePool(0, 60_000, 16);
        Assert.Multiple(() =>
        {
            Assert.That(pool.Capacity, Is.Zero);
            Assert.That(pool.Put(4, PeerA, NoTag, 0), Is.EqualTo(4));
            Assert.That(pool.Count, Is.Zero);
            Assert.That(pool.Contains(4), Is.False);
            Assert.That(pool.TryTake(PeerA, NoTag, out _), Is.False);
            Assert.That(pool.PopExpired(long.MaxValue / 2), Is.EqualTo(-1));
            Assert.That(pool.NextExpiryMs, Is.EqualTo(long.MaxValue));
        });
    }

    [TestCase(1, 1), TestCase(4, 2), TestCase(16, 3), TestCase(64, 4)]
    public void RandomOperations_MatchAListModel(int capacity, int seed)
    {
        const int maxId = 48, peers = 3, tags = 3, timeoutMs = 500;
        var random = new Random(seed);
        var pool = new KeepalivePool(capacity, timeoutMs, maxId);
        var model = new List<(int Id, int Peer, int Tag, long Since)>();  // most recent first
        long now = random.Next(1_000);

        for (int step = 0; step < 20_000; step++)
        {
            now += random.Next(4) == 0 ? random.Next(300) : 0;
            int op = random.Next(10);
            if (op < 4)
            {
                int id = random.Next(maxId);
                if (pool.Contains(id))
                    continue;
                int peer = random.Next(peers), tag = random.Next(tags);
                int expected = -1;
                if (capacity == 0)
                    expected = id;
                else
                {
                    if (model.Count == capacity)
                    {
                        expected = model[^1].Id;
                        model.RemoveAt(model.Count - 1);
                    }
                    model.Insert(0, (id, peer, tag, now));
                }
                Assert.That(pool.Put(id, peer, tag, now), Is.EqualTo(expected), $"step {step}: put");
            }
            else if (op < 7)
            {
                int peer = random.Next(peers), tag = random.Next(tags);
                int index = model.FindIndex(e => e.Peer == peer && e.Tag == tag);
                bool took = pool.TryTake(peer, tag, out int id);
                Assert.That(took, Is.EqualTo(index >= 0), $"step {step}: take");
                if (index >= 0)
                {
                    Assert.That(id, Is.EqualTo(model[index].Id), $"step {step}: take");
                    model.RemoveAt(index);
                }
            }
            else if (op < 8)
            {
                int id = random.Next(maxId);
                int index = model.FindIndex(e => e.Id == id);
                Assert.That(pool.Remove(id), Is.EqualTo(index >= 0), $"step {step}: remove");
                if (index >= 0)
                    model.RemoveAt(index);
            }
            else
            {
                for (int id; (id = pool.PopExpired(now)) >= 0;)
                {
                    Assert.That(model[^1].Id, Is.EqualTo(id), $"step {step}: expired");
                    Assert.That(now - model[^1].Since, Is.GreaterThanOrEqualTo(timeoutMs), $"step {step}: expired early");
                    model.RemoveAt(model.Count - 1);
                }
                Assert.That(model.Count == 0 || now - model[^1].Since < timeoutMs, $"step {step}: not expired");
            }

            Assert.That(pool.Count, Is.EqualTo(model.Count), $"step {step}");
            Assert.That(pool.NextExpiryMs, Is.EqualTo(model.Count == 0 ? long.MaxValue : model[^1].Since + timeoutMs), $"step {step}");
        }
        for (int id = 0; id < maxId; id++)
            Assert.That(pool.Contains(id), Is.EqualTo(model.Exists(e => e.Id == id)), $"id {id}");
    }

    [Test]
    public void SteadyState_AllocatesNothing()
    {
        var pool = new KeepalivePool(32, 1_000, 256);
        long now = 0;
        Churn(pool, ref now, 10_000);  // warm-up

        long before = GC.GetAllocatedBytesForCurrentThread();
        Churn(pool, ref now, 100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
    }

    private static void Churn(KeepalivePool pool, ref long now, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            int id = i & 255;
            if (!pool.Contains(id))
                pool.Put(id, i & 3, (i >> 2) & 1, now);
            if ((i & 1) == 0)
                pool.TryTake((i >> 1) & 3, (i >> 3) & 1, out _);
            if ((i & 7) == 0)
                pool.Remove((id + 128) & 255);
            now += 3;
            while (pool.PopExpired(now) >= 0) { }
            _ = pool.NextExpiryMs;
        }
    }
}
