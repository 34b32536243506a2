using RawKeepalive.Upstream;

namespace RawKeepalive.Observability;

/// <summary>The shared counters summed for one metrics page: per worker number, in all, per upstream
/// peer (by name), and the master's reloads and restarts. Its arrays are made once, sized when the
/// config loads, and refilled by every <see cref="Take"/>, which allocates nothing.</summary>
public sealed unsafe class MetricsSnapshot
{
    private readonly byte[] _keys;
    private readonly long[] _peers;
    private readonly long[] _workers = new long[SharedCounters.SlotCount * SharedCounters.WorkerLongs];
    private readonly bool[] _hasWorker = new bool[SharedCounters.SlotCount];
    private readonly long[] _totals = new long[SharedCounters.WorkerLongs];

    /// <param name="maxPeers">The most distinct upstream peers a page can show.</param>
    public MetricsSnapshot(int maxPeers)
    {
        MaxPeers = maxPeers;
        _keys = new byte[maxPeers * SharedCounters.KeyBytes];
        _peers = new long[maxPeers * UpstreamFigures.Longs];
    }

    public int MaxPeers { get; }
    public int PeerCount { get; private set; }
    public long Reloads { get; private set; }
    public long Restarts { get; private set; }

    /// <summary>A worker field (SharedCounters.Accepts …) summed over every worker.</summary>
    public long Total(int field) => _totals[field];

    public bool HasWorker(int number) => _hasWorker[number];
    public long Worker(int number, int field) => _workers[number * SharedCounters.WorkerLongs + field];

    /// <summary>Peer <paramref name="index"/>'s figures (an UpstreamFigures offset).</summary>
    public long Peer(int index, int field) => _peers[index * UpstreamFigures.Longs + field];
    public ReadOnlySpan<byte> UpstreamName(int index) => Name(index, 0, SharedCounters.UpstreamNameBytes);
    public ReadOnlySpan<byte> PeerName(int index) => Name(index, SharedCounters.UpstreamNameBytes, SharedCounters.PeerNameBytes);

    private ReadOnlySpan<byte> Name(int index, int offset, int room)
    {
        var name = _keys.AsSpan(index * SharedCounters.KeyBytes + offset, room);
        int end = name.IndexOf((byte)0);
        return end < 0 ? name : name[..end];
    }

    /// <summary>Sums the segment; false when it holds more distinct peers than <see cref="MaxPeers"/>.</summary>
    public bool Take(SharedCounters segment)
    {
        int tries = 0;
        bool fits;
        long seq;
        do
        {
            seq = segment.BeginRead();
            fits = Sum(segment);
        } while (segment.ReadAgain(seq, ref tries));
        Reloads = segment.ReloadCount;
        Restarts = segment.RestartCount;
        return fits;
    }

    private bool Sum(SharedCounters segment)
    {
        Array.Clear(_workers);
        Array.Clear(_hasWorker);
        Array.Clear(_totals);
        Array.Clear(_peers);
        PeerCount = 0;
        bool fits = true;
        for (int i = 0; i < SharedCounters.SlotCount; i++)
        {
            if (segment.StateOf(i) == SharedCounters.Free) continue;
            long* s = segment.Slot(i);
            int number = segment.WorkerNumberOf(i);
            bool row = (uint)number < SharedCounters.SlotCount;
            if (row) _hasWorker[number] = true;
            for (int f = 0; f < SharedCounters.WorkerLongs; f++)
            {
                long v = Volatile.Read(ref s[f]);
                _totals[f] += v;
                if (row) _workers[number * SharedCounters.WorkerLongs + f] += v;
            }
            for (int e = 0; e < SharedCounters.MaxPeers; e++)
            {
                long* entry = SharedCounters.Entry(s, e);
                if (!SharedCounters.IsClaimed(entry)) break;
                int p = IndexOf(new ReadOnlySpan<byte>(entry, SharedCounters.KeyBytes));
                if (p < 0)
                {
                    fits = false;
                    continue;
                }
                long* figures = entry + SharedCounters.KeyLongs;
                int at = p * UpstreamFigures.Longs;
                for (int f = 0; f < UpstreamFigures.Longs; f++) _peers[at + f] += Volatile.Read(ref figures[f]);
            }
        }
        return fits;
    }

    /// <summary>The index of the peer with <paramref name="key"/>, added when new; -1 when there is no room.</summary>
    private int IndexOf(ReadOnlySpan<byte> key)
    {
        for (int p = 0; p < PeerCount; p++)
            if (_keys.AsSpan(p * SharedCounters.KeyBytes, SharedCounters.KeyBytes).SequenceEqual(key)) return p;
        if (PeerCount == MaxPeers) return -1;
        key.CopyTo(_keys.AsSpan(PeerCount * SharedCounters.KeyBytes));
        return PeerCount++;
    }

    /// <summary>For sizing a page at load: <paramref name="peers"/> peers whose names fill their room and
    /// <paramref name="workers"/> workers (the page is then measured with every number at its widest).</summary>
    public void FillForSizing(int peers, int workers)
    {
        PeerCount = Math.Min(peers, MaxPeers);
        _keys.AsSpan(0, PeerCount * SharedCounters.KeyBytes).Fill((byte)'"');   // each escaped: twice its room
        Array.Clear(_hasWorker);
        _hasWorker.AsSpan(0, Math.Min(workers, SharedCounters.SlotCount)).Fill(true);
    }
}
