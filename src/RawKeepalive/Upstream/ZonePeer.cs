namespace RawKeepalive.Upstream;

/// <summary>A peer of an upstream with <c>zone</c> and <c>max_conns</c>, as every worker process shares it: in
/// its entry of the shared counters segment, one row holds each worker slot's open connections to it
/// (connecting, active and idle) and another when that worker's longest-waiting queued request for its group
/// began (0: none waits). Each worker writes only its own column; the master zeroes an exited worker's, once
/// the kernel has closed its sockets. No lock: a worker adds its connection first, then reads the others'
/// (<see cref="TryAdd"/>), so of two workers racing for the last place at least one sees the other's, and the
/// count is never exceeded, a crashed worker leaves nothing to repair, and reading costs a sum over the slots
/// in use (a few).</summary>
public sealed unsafe class ZonePeer
{
    private readonly long* _counts;
    private readonly long* _waiting;
    private readonly long* _slotsInUse;
    private readonly int _own;

    /// <param name="counts">One long per worker slot: its open connections to the peer.</param>
    /// <param name="waiting">One long per worker slot: when its longest-waiting request for the peer was queued (ms).</param>
    /// <param name="slotsInUse">How many slots, from the first, any worker has had.</param>
    /// <param name="own">This worker's slot.</param>
    public ZonePeer(long* counts, long* waiting, long* slotsInUse, int own)
    {
        _counts = counts;
        _waiting = waiting;
        _slotsInUse = slotsInUse;
        _own = own;
    }

    /// <summary>Open connections to the peer from every worker.</summary>
    public long Connections
    {
        get
        {
            int slots = (int)Volatile.Read(ref *_slotsInUse);
            long n = 0;
            for (int i = 0; i < slots; i++) n += Volatile.Read(ref _counts[i]);
            return n;
        }
    }

    /// <summary>A request of another worker queued before <paramref name="sinceMs"/> waits for the peer: it has
    /// the first claim on a place that frees.</summary>
    public bool OlderWaiterElsewhere(long sinceMs)
    {
        int slots = (int)Volatile.Read(ref *_slotsInUse);
        for (int i = 0; i < slots; i++)
        {
            long w = Volatile.Read(ref _waiting[i]);
            if (w != 0 && w < sinceMs && i != _own) return true;
        }
        return false;
    }

    /// <summary>Counts one more connection from this worker if every worker's together stay within
    /// <paramref name="max"/> and no older request of another worker waits (<paramref name="sinceMs"/>: when the
    /// request asking began waiting). The own count is raised before the others are read, behind a full fence
    /// (the interlocked exchange): of workers that all succeed, the one whose raise came last read after every
    /// other's was visible, so its sum counted them all and stayed within the limit. Two workers racing for the
    /// last place may both back off (each retries at its next look), never both win.</summary>
    public bool TryAdd(int max, long sinceMs)
    {
        if (OlderWaiterElsewhere(sinceMs)) return false;
        long own = _counts[_own] + 1;
        Interlocked.Exchange(ref _counts[_own], own);
        if (Connections <= max) return true;
        Volatile.Write(ref _counts[_own], own - 1);
        return false;
    }

    /// <summary>A connection counted by <see cref="TryAdd"/> is closed (after its close(): the place is free
    /// only once the connection is gone), or was never opened.</summary>
    public void Remove() => Volatile.Write(ref _counts[_own], _counts[_own] - 1);

    /// <summary>This worker's longest-waiting request for the peer's group was queued at <paramref name="sinceMs"/>
    /// (0: none waits now).</summary>
    public void PublishWaiting(long sinceMs)
    {
        if (_waiting[_own] != sinceMs) Volatile.Write(ref _waiting[_own], sinceMs);
    }
}
