using System.Runtime.InteropServices;
using System.Text;
using RawKeepalive.Native;

namespace RawKeepalive.Observability;

/// <summary>The server-wide counters: one memory segment (a memfd the master makes and every worker
/// maps), cut into fixed slots. Each worker process gets a slot of its own for its life and is the
/// only writer of it, so nothing is locked or atomic: aligned 64-bit stores are never torn, and a
/// reader sums all slots. Slot 0 holds the totals of reaped workers folded in by the master when
/// slots run out. Single-process mode uses a private segment of the same layout.</summary>
public sealed unsafe class SharedCounters
{
    public const int SlotCount = 256;
    public const int MaxUpstreams = 32;
    public const int NameBytes = 40;
    private const int UpstreamLongs = NameBytes / 8 + 3;
    private const int UpstreamBase = 16;
    public const int SlotLongs = UpstreamBase + MaxUpstreams * UpstreamLongs;
    public const long SegmentSize = (long)SlotCount * SlotLongs * 8;

    // Slot fields, in longs.
    internal const int Pid = 0, InUse = 1, Accepts = 2, Handled = 3, Requests = 4, Active = 5, Reading = 6, Writing = 7, Waiting = 8;
    /// <summary>Responses by status class: 1xx at Responses1xx, … 5xx at Responses1xx + 4 (the log phase counts them).</summary>
    internal const int Responses1xx = 9;
    internal const int UpOpened = NameBytes / 8, UpReused = UpOpened + 1, UpStale = UpOpened + 2;

    private readonly long* _base;

    public int Fd { get; }

    private SharedCounters(long* @base, int fd)
    {
        _base = @base;
        Fd = fd;
    }

    /// <summary>The master's segment: a memfd (close-on-exec until a worker is started) mapped shared.</summary>
    public static SharedCounters Create()
    {
        var r = ProcessInterop.MemfdCreate("rawkeepalive-counters", SegmentSize);
        if (r.IsError) throw new InvalidOperationException($"memfd_create() failed ({r})");
        return Map((int)r.Value);
    }

    /// <summary>A worker's view of the master's segment, from the inherited descriptor.</summary>
    public static SharedCounters Map(int fd)
    {
        byte* p = ProcessInterop.MapShared(fd, SegmentSize);
        if (p == null) throw new InvalidOperationException($"mmap() of the counters segment failed ({Marshal.GetLastPInvokeError()})");
        return new SharedCounters((long*)p, fd);
    }

    /// <summary>A segment only this process sees (single-process mode).</summary>
    public static SharedCounters Private() =>
        new((long*)NativeMemory.AllocZeroed((nuint)SegmentSize), -1);

    internal long* Slot(int index) => _base + (long)index * SlotLongs;

    /// <summary>Master: a free slot for a new worker (folding reaped ones into slot 0 when none is left), or -1.</summary>
    public int Allocate(int pid)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 1; i < SlotCount; i++)
            {
                long* s = Slot(i);
                if (s[InUse] != 0) continue;
                new Span<long>(s, SlotLongs).Clear();
                s[Pid] = pid;
                s[InUse] = 1;
                return i;
            }
            FoldReaped();
        }
        return -1;
    }

    /// <summary>Master, after reaping a worker: its gauges no longer describe live connections.
    /// Its totals stay (only growing) until the slot is folded.</summary>
    public void Reaped(int index)
    {
        long* s = Slot(index);
        s[Active] = s[Reading] = s[Writing] = s[Waiting] = 0;
        s[InUse] = 2;
    }

    /// <summary>Moves every reaped slot's totals into slot 0 and frees the slot. A reader racing
    /// this may see one slot counted twice for an instant; it never sees a total shrink below what
    /// it saw before the fold finished.</summary>
    private void FoldReaped()
    {
        long* total = Slot(0);
        for (int i = 1; i < SlotCount; i++)
        {
            long* s = Slot(i);
            if (s[InUse] != 2) continue;
            total[Accepts] += s[Accepts];
            total[Handled] += s[Handled];
            total[Requests] += s[Requests];
            for (int c = 0; c < 5; c++) total[Responses1xx + c] += s[Responses1xx + c];
            for (int u = 0; u < MaxUpstreams; u++)
            {
                long* from = s + UpstreamBase + u * UpstreamLongs;
                if (from[0] == 0) continue;
                long* to = UpstreamEntry(total, new ReadOnlySpan<byte>(from, NameBytes));
                if (to == null) continue;
                to[UpOpened] += from[UpOpened];
                to[UpReused] += from[UpReused];
                to[UpStale] += from[UpStale];
            }
            s[InUse] = 0;
        }
    }

    /// <summary>The entry for an upstream name in a slot (claimed when absent), or null when the slot is full.</summary>
    internal static long* UpstreamEntry(long* slot, ReadOnlySpan<byte> name)
    {
        for (int u = 0; u < MaxUpstreams; u++)
        {
            long* e = slot + UpstreamBase + u * UpstreamLongs;
            var stored = new Span<byte>(e, NameBytes);
            if (e[0] == 0)
            {
                name.CopyTo(stored);   // at most NameBytes: see EncodeName
                return e;
            }
            if (stored.TrimEnd((byte)0).SequenceEqual(name.TrimEnd((byte)0))) return e;
        }
        return null;
    }

    internal static byte[] EncodeName(string name)
    {
        var b = Encoding.ASCII.GetBytes(name);
        return b.Length <= NameBytes ? b : b[..NameBytes];
    }

    /// <summary>Sums of every slot: what stub_status shows.</summary>
    public Totals Sum()
    {
        var t = new Totals();
        for (int i = 0; i < SlotCount; i++)
        {
            long* s = Slot(i);
            if (i > 0 && s[InUse] == 0) continue;
            t.Accepts += Volatile.Read(ref s[Accepts]);
            t.Handled += Volatile.Read(ref s[Handled]);
            t.Requests += Volatile.Read(ref s[Requests]);
            t.Active += Volatile.Read(ref s[Active]);
            t.Reading += Volatile.Read(ref s[Reading]);
            t.Writing += Volatile.Read(ref s[Writing]);
            t.Waiting += Volatile.Read(ref s[Waiting]);
            t.Responses1xx += Volatile.Read(ref s[Responses1xx]);
            t.Responses2xx += Volatile.Read(ref s[Responses1xx + 1]);
            t.Responses3xx += Volatile.Read(ref s[Responses1xx + 2]);
            t.Responses4xx += Volatile.Read(ref s[Responses1xx + 3]);
            t.Responses5xx += Volatile.Read(ref s[Responses1xx + 4]);
        }
        return t;
    }

    /// <summary>Per upstream name: connections opened, reuses from the idle pool, stale-connection retries.</summary>
    public Dictionary<string, (long Opened, long Reused, long StaleRetries)> SumUpstreams()
    {
        var result = new Dictionary<string, (long, long, long)>(StringComparer.Ordinal);
        for (int i = 0; i < SlotCount; i++)
        {
            long* s = Slot(i);
            if (i > 0 && s[InUse] == 0) continue;
            for (int u = 0; u < MaxUpstreams; u++)
            {
                long* e = s + UpstreamBase + u * UpstreamLongs;
                if (e[0] == 0) break;
                string name = Encoding.ASCII.GetString(new ReadOnlySpan<byte>(e, NameBytes).TrimEnd((byte)0));
                result.TryGetValue(name, out var v);
                result[name] = (v.Item1 + e[UpOpened], v.Item2 + e[UpReused], v.Item3 + e[UpStale]);
            }
        }
        return result;
    }

    public struct Totals
    {
        public long Accepts, Handled, Requests, Active, Reading, Writing, Waiting;
        /// <summary>Requests the log phase recorded, by the status class they were answered with.</summary>
        public long Responses1xx, Responses2xx, Responses3xx, Responses4xx, Responses5xx;
    }
}
