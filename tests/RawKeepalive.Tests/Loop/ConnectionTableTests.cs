using NUnit.Framework;
using RawKeepalive.Proxy;
using RawKeepalive.Loop;

namespace RawKeepalive.Tests.Loop;

/// <summary>Slot tokens: a reused slot gets a new generation, and however often a slot is reused its
/// token never sets the top two bits, which mark listener and wake-up events in the worker.</summary>
[TestFixture, CancelAfter(60_000)]
public sealed class ConnectionTableTests
{
    [Test]
    public void ReuseChangesTheToken()
    {
        var table = new ConnectionTable(4);
        int slot = table.Allocate(SlotKind.Client);
        ulong first = table.Token(slot);
        Assert.That(table.Kind(slot), Is.EqualTo(SlotKind.Client));
        table.Release(slot);
        Assert.That(table.Kind(slot), Is.EqualTo(SlotKind.Free));
        Assert.That(table.Allocate(SlotKind.Upstream), Is.EqualTo(slot), "the freed slot is reused first");
        Assert.That(table.Kind(slot), Is.EqualTo(SlotKind.Upstream));
        Assert.That(table.Token(slot), Is.Not.EqualTo(first));
        Assert.That(ConnectionTable.SlotOf(table.Token(slot)), Is.EqualTo(slot));
    }

    [Test]
    public void GenerationsWrapBeforeReachingTheMarkerBits()
    {
        var table = new ConnectionTable(1);
        // Start the slot one step below the 30-bit limit (reaching it for real takes 2^30 reuses).
        var generations = (uint[])typeof(ConnectionTable)
            .GetField("_generation", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(table)!;
        generations[0] = (1u << 30) - 2;
        for (int i = 0; i < 4; i++)
        {
            int slot = table.Allocate(SlotKind.Upstream);
            Assert.That(table.Token(slot) >> 62, Is.Zero, $"reuse {i}: generation {table.Generation(slot)}");
            table.Release(slot);
        }
        Assert.That(table.Generation(0), Is.LessThan(8u), "wrapped to zero");
    }
}
