namespace RawKeepalive.Upstream;

/// <summary>This worker's part in the upstream zones (<c>zone</c> with <c>max_conns</c>): the other worker
/// processes' connections and waiting requests are seen only in shared memory (<see cref="ZonePeer"/>), and no
/// event says that they changed, so it looks:
/// <list type="bullet">
/// <item>while a zoned group's queue has waiters, at most every <see cref="WaitingLookMs"/> ms (the loop's
/// deadline wakes it): its queue is served again, since another worker may have closed a connection;</item>
/// <item>after every batch, and every <see cref="IdleLookMs"/> ms while the group keeps idle connections: an
/// idle connection of this worker to a peer at its limit, which a request of another worker has waited for
/// longer than any of this worker's, is closed so that the other can open one (this worker cannot use it for
/// that request, and the count includes idle connections);</item>
/// <item>after the queues are served, it publishes when each group's first waiter was queued (0: none), which
/// is what the others compare with: the longest-waiting request over every worker gets a freed place first.</item>
/// </list>
/// Polling rather than a wake-up between processes keeps it to shared memory the master already maps: the cost
/// is a wake-up per millisecond in a worker whose requests wait, and one per <see cref="IdleLookMs"/> in a
/// worker holding idle zoned connections, each a sum over the few slots in use.</summary>
public sealed class ZoneWatch
{
    /// <summary>How often a worker whose zoned queue has waiters looks for a freed place.</summary>
    public const long WaitingLookMs = 1;
    /// <summary>How often a worker holding idle connections of a zoned group looks whether another waits for them.</summary>
    public const long IdleLookMs = 5;

    private readonly List<UpstreamGroup> _groups = [];
    private long _nextWaitingLookMs;
    private long _nextIdleLookMs = long.MaxValue;

    public void Add(UpstreamGroup group)
    {
        if (!_groups.Contains(group)) _groups.Add(group);
    }

    /// <summary>After a batch, before the queues are served.</summary>
    public void Look(long nowMs, UpstreamConnections connections)
    {
        if (_groups.Count == 0) return;
        bool waitingLook = nowMs >= _nextWaitingLookMs;
        if (waitingLook) _nextWaitingLookMs = nowMs + WaitingLookMs;
        _nextIdleLookMs = nowMs + IdleLookMs;
        foreach (var g in _groups)
        {
            var queue = g.Queue;
            if (waitingLook && queue is { Count: > 0 }) queue.Woken = true;
            if (g.Pool is not { Count: > 0 } pool) continue;
            long ownSince = queue is { Count: > 0 } ? queue.HeadSinceMs : long.MaxValue;
            foreach (var peer in g.Peers)
            {
                if (peer.Zone is { } zone && peer.Stats.Idle > 0 && zone.OlderWaiterElsewhere(ownSince) && peer.AtLimit)
                    connections.CloseOldestIdle(pool, peer);
            }
        }
    }

    /// <summary>After the queues are served: when each zoned group's first waiter was queued, for the other workers.</summary>
    public void Publish()
    {
        foreach (var g in _groups)
        {
            long since = g.Queue?.HeadSinceMs ?? 0;
            foreach (var peer in g.Peers) peer.Zone?.PublishWaiting(since);
        }
    }

    /// <summary>When to look again (the loop's deadline), or long.MaxValue when nothing waits and nothing is idle.</summary>
    public long NextLookMs
    {
        get
        {
            long due = long.MaxValue;
            foreach (var g in _groups)
            {
                if (g.Queue is { Count: > 0 }) due = Math.Min(due, _nextWaitingLookMs);
                if (g.Pool is { Count: > 0 }) due = Math.Min(due, _nextIdleLookMs);
            }
            return due;
        }
    }
}
