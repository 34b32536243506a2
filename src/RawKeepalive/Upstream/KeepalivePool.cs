namespace RawKeepalive.Upstream;

/// <summary>The idle upstream connections of one upstream group in one worker (nginx's keepalive
/// cache): at most Capacity idle connections, taken back most-recent-first (LIFO) for the wanted
/// peer, the least recently used one evicted when a put finds the cache full. Entries are
/// connection slot ids (0..maxId-1) in an intrusive doubly-linked recency list, so put, take,
/// remove and expiry are all O(1) (take is O(idle entries of other peers) at worst, as nginx's
/// scan). The recency list is the expiry order: idle expiry needs no timer.</summary>
public sealed class KeepalivePool
{
    /// <param name="capacity">keepalive N: the most idle connections kept.</param>
    /// <param name="timeoutMs">keepalive_timeout: an entry idle this long is expired.</param>
    /// <param name="maxId">Connection slot ids are 0..maxId-1.</param>
    public KeepalivePool(int capacity, long timeoutMs, int maxId) => throw new NotImplementedException();

    public int Capacity => throw new NotImplementedException();
    public int Count => throw new NotImplementedException();

    /// <summary>Adds idle connection <paramref name="id"/> (to <paramref name="peer"/>) as most recent.
    /// Returns the id of the least recently used entry it evicted to make room (the caller closes
    /// it), or -1. With Capacity 0 it returns <paramref name="id"/> itself.</summary>
    public int Put(int id, int peer, long nowMs) => throw new NotImplementedException();

    /// <summary>Takes the most recently used idle connection to <paramref name="peer"/>.</summary>
    public bool TryTake(int peer, out int id) => throw new NotImplementedException();

    /// <summary>Removes <paramref name="id"/> if it is in the pool (the upstream closed it or sent
    /// something while idle). Returns whether it was there.</summary>
    public bool Remove(int id) => throw new NotImplementedException();

    public bool Contains(int id) => throw new NotImplementedException();

    /// <summary>Removes and returns the oldest entry if it has been idle for timeoutMs at
    /// <paramref name="nowMs"/>, else -1. The caller loops until -1.</summary>
    public int PopExpired(long nowMs) => throw new NotImplementedException();

    /// <summary>When the oldest entry expires (ms, same clock), or long.MaxValue when empty.</summary>
    public long NextExpiryMs => throw new NotImplementedException();

    /// <summary>The time <paramref name="id"/> went idle (for the MSG_PEEK check of non-idempotent requests).</summary>
    public long IdleSinceMs(int id) => throw new NotImplementedException();
}
