using System.Diagnostics;
using System.Reflection;
using NUnit.Framework;
using RawKeepalive.Loop;

namespace RawKeepalive.Tests.Loop;

[TestFixture, CancelAfter(60_000)]
public unsafe class BufferSlabTests
{
    [Test]
    public void Rent_UpToMax_ThenMinusOne()
    {
        var slab = new BufferSlab(64, 4, 10);  // the last block holds 2
        var rented = new HashSet<int>();
        for (int i = 0; i < 10; i++)
            Assert.That(rented.Add(slab.Rent()), Is.True, "distinct");
        Assert.Multiple(() =>
        {
            Assert.That(rented, Is.EquivalentTo(Enumerable.Range(0, 10)));
            Assert.That(slab.Rent(), Is.EqualTo(-1));
            Assert.That(slab.InUse, Is.EqualTo(10));
            Assert.That(slab.BufferSize, Is.EqualTo(64));
        });
    }

    [Test]
    public void Return_ThenRent_HandsTheSameBufferBack()
    {
        var slab = new BufferSlab(64, 4, 4);
        int[] all = [slab.Rent(), slab.Rent(), slab.Rent(), slab.Rent()];
        slab.Return(all[2]);
        Assert.Multiple(() =>
        {
            Assert.That(slab.InUse, Is.EqualTo(3));
            Assert.That(slab.Rent(), Is.EqualTo(all[2]));
            Assert.That(slab.Rent(), Is.EqualTo(-1));
        });
    }

    [Test]
    public void MaxZero_RentsNothing()
    {
        var slab = new BufferSlab(64, 4, 0);
        Assert.That(slab.Rent(), Is.EqualTo(-1));
    }

    [Test]
    public void Pointers_AreDistinctAndDoNotOverlap()
    {
        const int size = 100;
        var slab = new BufferSlab(size, 3, 20);
        var addresses = new List<nuint>();
        for (int index; (index = slab.Rent()) >= 0;)
            addresses.Add((nuint)slab.Pointer(index));

        addresses.Sort();
        Assert.That(addresses, Has.Count.EqualTo(20));
        for (int i = 1; i < addresses.Count; i++)
            Assert.That(addresses[i] - addresses[i - 1], Is.GreaterThanOrEqualTo((nuint)size), $"buffers {i - 1} and {i} overlap");
    }

    [Test]
    public void Pointer_IsStableAcrossGrowthAndCollections()
    {
        var slab = new BufferSlab(256, 2, 64);
        int first = slab.Rent();
        byte* address = slab.Pointer(first);
        slab.Span(first).Fill(0xA5);

        while (slab.Rent() >= 0) { }  // 31 more blocks
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);

        Assert.Multiple(() =>
        {
            Assert.That((nuint)slab.Pointer(first), Is.EqualTo((nuint)address));
            Assert.That(address[0], Is.EqualTo(0xA5));
            Assert.That(address[255], Is.EqualTo(0xA5));
            Assert.That(slab.Span(first).IndexOfAnyExcept((byte)0xA5), Is.EqualTo(-1));
        });
    }

    [Test]
    public void Spans_AreWriteable_AndAliasTheirPointers()
    {
        const int size = 48;
        var slab = new BufferSlab(size, 5, 12);
        var indices = new List<int>();
        for (int index; (index = slab.Rent()) >= 0;)
        {
            indices.Add(index);
            Span<byte> span = slab.Span(index);
            Assert.That(span.Length, Is.EqualTo(size));
            span.Fill((byte)(index + 1));
        }
        foreach (int index in indices)
        {
            byte* p = slab.Pointer(index);
            Assert.That(p[0] == index + 1 && p[size - 1] == index + 1, Is.True, $"buffer {index} was overwritten or does not alias its span");
        }
    }

    [Test]
    public void Return_OfABufferNotRented_IsIgnored()
    {
        // Debug.Assert fails the process fast on this misuse in a Debug build of the slab.
        if (typeof(BufferSlab).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
            Assert.Ignore("Debug build: Return asserts instead of ignoring");
        var slab = new BufferSlab(64, 2, 4);
        int a = slab.Rent();
        slab.Return(a);
        slab.Return(a);   // twice
        slab.Return(3);   // never rented
        slab.Return(-1);
        slab.Return(99);

        var rented = new List<int>();
        for (int index; (index = slab.Rent()) >= 0;)
            rented.Add(index);
        Assert.Multiple(() =>
        {
            Assert.That(rented, Is.EquivalentTo(new[] { 0, 1, 2, 3 }), "each buffer handed out once");
            Assert.That(slab.InUse, Is.EqualTo(4));
        });
    }

    [Test]
    public void RentAndReturn_AfterGrowth_AllocateNothing()
    {
        var slab = new BufferSlab(64, 8, 64);
        var held = new int[64];
        for (int i = 0; i < 64; i++)
            held[i] = slab.Rent();
        for (int i = 0; i < 64; i++)
            slab.Return(held[i]);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 100_000; round++)
        {
            int index = slab.Rent();
            slab.Span(index)[0] = (byte)round;
            slab.Return(index);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void TrimCold_FreeBuffersBeyondTheWarmOnes_GiveTheirPagesBack()
    {
        const int size = 16 * 1024;
        var slab = new BufferSlab(size, 8, 8, warmBuffers: 2);
        var held = new int[8];
        for (int i = 0; i < 8; i++)
        {
            held[i] = slab.Rent();
            slab.Span(held[i]).Fill(0xAB);
        }
        for (int i = 0; i < 8; i++)
            slab.Return(held[i]);
        Assert.That(slab.Span(held[0])[0], Is.EqualTo(0xAB), "nothing is discarded on return");
        Assert.That(slab.TrimCold(), Is.EqualTo(6));
        Assert.That(slab.TrimCold(), Is.Zero, "a discarded buffer is not discarded again");

        // The two returned last stay warm; the six before them were discarded and read back as zeros,
        // every byte of them, since buffers start on page boundaries.
        for (int i = 0; i < 8; i++)
        {
            var span = slab.Span(held[i]);
            byte expected = i >= 6 ? (byte)0xAB : (byte)0;
            Assert.That((span[0], span[size / 2], span[size - 1]), Is.EqualTo((expected, expected, expected)), $"buffer returned {i + 1}th");
        }
    }
}
