using System.Runtime.InteropServices;
using System.Text;
using RawKeepalive.Native;
using RawKeepalive.Upstream;

namespace RawKeepalive.Observability;

/// <summary>The server-wide counters: one memory segment (a memfd the master makes and every worker
/// maps), cut into fixed slots. Each worker process gets a slot of its own for its life and is the
/// only writer of it, so nothing is locked or atomic: aligned 64-bit stores are never torn, and a
/// reader sums the slots. A slot holds the worker's connection figures (stub_status's) and one entry
/// per upstream peer (<see cref="UpstreamFigures"/>, keyed by upstream and peer name, so figures of
/// different generations add up).
/// <para>Counters never go backwards: when the master reaps a worker it zeroes the slot's gauges and
/// folds its totals into the folded slot of the same worker number (the first reaped slot of a number
/// becomes it), under a sequence counter that readers check (<see cref="BeginRead"/>), so no reader
/// ever sees a slot counted twice or not at all. The master also counts reloads and worker restarts
/// here. Single-process mode uses a private segment of the same layout.</para></summary>
public sealed unsafe class SharedCounters
{
    public const int SlotCount = 256;
    /// <summary>Upstream peer entries per slot.</summary>
    public const int MaxPeers = 128;
    public const int UpstreamNameBytes = 64, PeerNameBytes = 48;
    public const int KeyBytes = UpstreamNameBytes + PeerNameBytes;
    internal const int KeyLongs = KeyBytes / 8;
    internal const int EntryLongs = KeyLongs + UpstreamFigures.Longs;

    // A slot's worker fields, in longs, then its peer entries.
    internal const int Accepts = 0, Handled = 1, Requests = 2, Active = 3, Reading = 4, Writing = 5, Waiting = 6;
    /// <summary>Responses by status class: 1xx at Responses1xx, … 5xx at Responses1xx + 4 (the log phase counts them).</summary>
    internal const int Responses1xx = 7;
    internal const int WorkerLongs = Responses1xx + 5;
    private const int EntriesBase = 16;
    internal const int SlotLongs = EntriesBase + MaxPeers * EntryLongs;

    // The segment's header: the master's figures, then a directory of slots (state, worker number).
    // SlotsInUse: one past the highest slot ever allocated (slots are taken lowest first), so a sum over
    // the zone's per-slot counts reads only that many.
    private const int Seq = 0, Reloads = 1, Restarts = 2, SlotsInUse = 3;
    private const int StateBase = 8, NumberBase = StateBase + SlotCount, HeaderLongs = NumberBase + SlotCount;
    private const long ZoneBase = HeaderLongs + (long)SlotCount * SlotLongs;
    public const long SegmentSize = (ZoneBase + ZoneTable.Longs) * 8;

    internal const long Free = 0, Live = 1, Folded = 2;
    private const int ReadRetries = 1000, FoldWaits = 64 + 100;

    private readonly long* _base;

    public int Fd { get; }

    /// <summary>The upstream zones' connection counts (zone NAME with max_conns), after the slots.</summary>
    public ZoneTable Zones { get; }

    private SharedCounters(long* @base, int fd)
    {
        _base = @base;
        Fd = fd;
        Zones = new ZoneTable(@base + ZoneBase, @base + SlotsInUse);
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

    internal long* Slot(int index) => _base + HeaderLongs + (long)index * SlotLongs;
    internal long StateOf(int index) => Volatile.Read(ref _base[StateBase + index]);
    internal int WorkerNumberOf(int index) => (int)Volatile.Read(ref _base[NumberBase + index]);
    internal static long* Entry(long* slot, int index) => slot + EntriesBase + (long)index * EntryLongs;
    internal static bool IsClaimed(long* entry) => Volatile.Read(ref *(byte*)entry) != 0;

    /// <summary>Reloads the master carried out.</summary>
    public long ReloadCount => Volatile.Read(ref _base[Reloads]);
    /// <summary>Workers that died unasked and were started again.</summary>
    public long RestartCount => Volatile.Read(ref _base[Restarts]);

    public void CountReload() => Volatile.Write(ref _base[Reloads], _base[Reloads] + 1);
    public void CountRestart() => Volatile.Write(ref _base[Restarts], _base[Restarts] + 1);

    /// <summary>Master: a free slot for a new worker of <paramref name="workerNumber"/> (its worker_processes
    /// slot), or -1 when none is left.</summary>
    public int Allocate(int workerNumber)
    {
        for (int i = 0; i < SlotCount; i++)
        {
            if (StateOf(i) != Free) continue;
            new Span<long>(Slot(i), SlotLongs).Clear();
            Zones.Clear(i);
            if (i >= _base[SlotsInUse]) Volatile.Write(ref _base[SlotsInUse], i + 1);
            _base[NumberBase + i] = workerNumber;
            Volatile.Write(ref _base[StateBase + i], Live);
            return i;
        }
        return -1;
    }

    /// <summary>Master, after reaping a worker: its gauges no longer describe live connections (its zone counts
    /// and waiting times included: the kernel closed its sockets when it exited), and its totals move into the
    /// folded slot of its worker number. Returns how many of its peer entries found no room there (their totals
    /// are lost; the caller says so).</summary>
    public int Reaped(int index)
    {
        long* s = Slot(index);
        s[Active] = s[Reading] = s[Writing] = s[Waiting] = 0;
        Zones.Clear(index);
        for (int e = 0; e < MaxPeers; e++)
        {
            long* entry = Entry(s, e);
            if (!IsClaimed(entry)) break;
            entry[KeyLongs + UpstreamFigures.Open] = entry[KeyLongs + UpstreamFigures.Idle] = 0;
        }
        int folded = FoldedSlotOf(WorkerNumberOf(index));
        if (folded < 0)
        {
            Volatile.Write(ref _base[StateBase + index], Folded);   // both states are summed: no reader sees a change
            return 0;
        }
        Volatile.Write(ref _base[Seq], _base[Seq] + 1);   // odd: a fold is under way
        Interlocked.MemoryBarrier();
        int lost = Add(Slot(folded), s);
        Volatile.Write(ref _base[StateBase + index], Free);
        Interlocked.MemoryBarrier();
        Volatile.Write(ref _base[Seq], _base[Seq] + 1);
        return lost;
    }

    private int FoldedSlotOf(int workerNumber)
    {
        for (int i = 0; i < SlotCount; i++)
            if (StateOf(i) == Folded && WorkerNumberOf(i) == workerNumber) return i;
        return -1;
    }

    private static int Add(long* to, long* from)
    {
        for (int i = 0; i < WorkerLongs; i++) to[i] += from[i];
        int lost = 0;
        for (int e = 0; e < MaxPeers; e++)
        {
            long* source = Entry(from, e);
            if (!IsClaimed(source)) break;
            long* target = FindOrClaim(to, new ReadOnlySpan<byte>(source, KeyBytes));
            if (target == null)
            {
                lost++;
                continue;
            }
            for (int f = KeyLongs; f < EntryLongs; f++) target[f] += source[f];
        }
        return lost;
    }

    /// <summary>The entry for <paramref name="key"/> in a slot (claimed when absent), or null when the slot is full.
    /// A claim writes the key's first byte last: a reader that sees it sees the whole key.</summary>
    internal static long* FindOrClaim(long* slot, ReadOnlySpan<byte> key)
    {
        for (int e = 0; e < MaxPeers; e++)
        {
            long* entry = Entry(slot, e);
            var stored = new Span<byte>(entry, KeyBytes);
            if (!IsClaimed(entry))
            {
                key[1..].CopyTo(stored[1..]);
                Volatile.Write(ref stored[0], key[0]);
                return entry;
            }
            if (stored.SequenceEqual(key)) return entry;
        }
        return null;
    }

    /// <summary>The key of an entry: the upstream's name, then the peer's "ip:port", each zero-padded to its
    /// room. False when a name does not fit (it is never cut).</summary>
    public static bool TryMakeKey(string upstream, string peer, Span<byte> key)
    {
        key.Clear();
        if (upstream.Length is 0 or > UpstreamNameBytes || peer.Length > PeerNameBytes || !Ascii.IsValid(upstream) || !Ascii.IsValid(peer))
            return false;
        Encoding.ASCII.GetBytes(upstream, key);
        Encoding.ASCII.GetBytes(peer, key[UpstreamNameBytes..]);
        return true;
    }

    /// <summary>A reader's start: the sequence to check with <see cref="ReadAgain"/>. A fold under way is
    /// waited out, the master's thread given time to finish it (it may have been descheduled), for at most
    /// about 100 ms: a master that died mid-fold stops its workers anyway.</summary>
    public long BeginRead()
    {
        for (int i = 0; ; i++)
        {
            long seq = Volatile.Read(ref _base[Seq]);
            if ((seq & 1) == 0 || i == FoldWaits)
            {
                Interlocked.MemoryBarrier();
                return seq;
            }
            if (i < 64) Thread.SpinWait(32);
            else Thread.Sleep(1);
        }
    }

    /// <summary>True when a fold ran while the reader summed (it reads again), at most a bounded number of times.</summary>
    public bool ReadAgain(long seq, ref int tries)
    {
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref _base[Seq]) != seq && ++tries < ReadRetries;
    }

    /// <summary>Sums of every slot: what stub_status shows.</summary>
    public Totals Sum()
    {
        var t = new Totals();
        int tries = 0;
        long seq;
        do
        {
            seq = BeginRead();
            t = default;
            for (int i = 0; i < SlotCount; i++)
            {
                if (StateOf(i) == Free) continue;
                long* s = Slot(i);
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
        } while (ReadAgain(seq, ref tries));
        return t;
    }

    public struct Totals
    {
        public long Accepts, Handled, Requests, Active, Reading, Writing, Waiting;
        /// <summary>Requests the log phase recorded, by the status class they were answered with.</summary>
        public long Responses1xx, Responses2xx, Responses3xx, Responses4xx, Responses5xx;
    }
}
