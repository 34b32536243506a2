using System.Diagnostics;

namespace RawKeepalive.Upstream;

/// <summary>The idle upstream connections of one upstream group in one worker (nginx's keepalive
/// cache): at most Capacity idle connections, taken back most-recent-first (LIFO) for the wanted
/// peer and tag, the least recently used one evicted when a put finds the cache full (or, with
/// <see cref="Add"/>, once the requests of the next turn of the loop had their pick). The tag is the
/// releasing location's under <c>keepalive N local</c>, the same for every location otherwise
/// (<see cref="LocationPool"/>). Entries are connection slot ids (0..maxId-1) in an intrusive
/// doubly-linked recency list, so put, remove and expiry are O(1) and take is O(entries of other
/// peers or tags) at worst, as nginx's scan. The recency list is the expiry order: idle expiry needs
/// no timer.</summary>
/// <remarks>The list is circular through a sentinel node at index maxId: most recent after it,
/// least recent before it.</remarks>
public sealed class KeepalivePool
{
    private readonly int _capacity;
    private readonly long _timeoutMs;
    private readonly int _sentinel;
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly int[] _peer;
    private readonly int[] _tag;
    private readonly long[] _idleSince;
    /// <summary>The loop's turn in which each entry was added (<see cref="Add"/>).</summary>
    private readonly long[] _turn;
    private readonly bool[] _inPool;
    private int _count;

    /// <param name="capacity">keepalive N: the most idle connections kept.</param>
    /// <param name="timeoutMs">keepalive_timeout: an entry idle this long is expired.</param>
    /// <param name="maxId">Connection slot ids are 0..maxId-1.</param>
    public KeepalivePool(int capacity, long timeoutMs, int maxId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfNegative(timeoutMs);
        ArgumentOutOfRangeException.ThrowIfNegative(maxId);
        _capacity = capacity;
        _timeoutMs = timeoutMs;
        _sentinel = maxId;
        _next = new int[maxId + 1];
        _prev = new int[maxId + 1];
        _next[_sentinel] = _prev[_sentinel] = _sentinel;
        _peer = new int[maxId];
        _tag = new int[maxId];
        _idleSince = new long[maxId];
        _turn = new long[maxId];
        _inPool = new bool[maxId];
    }

    public int Capacity => _capacity;
    public int Count => _count;

    /// <summary>Adds idle connection <paramref name="id"/> (to <paramref name="peer"/>, released with
    /// <paramref name="tag"/>) as most recent. Returns the id of the least recently used entry it evicted
    /// to make room, whatever its tag (the caller closes it), or -1. With Capacity 0 it returns
    /// <paramref name="id"/> itself.</summary>
    public int Put(int id, int peer, int tag, long nowMs)
    {
        Add(id, peer, tag, nowMs, 0);
        return PopOverflow(long.MaxValue, long.MaxValue);
    }

    /// <summary>Adds idle connection <paramref name="id"/>, released in the loop's turn <paramref name="turn"/>,
    /// as most recent even past Capacity: a request of this turn or the next may take it (the hand-off before
    /// eviction). The caller evicts what is left over with <see cref="PopOverflow"/>.</summary>
    public void Add(int id, int peer, int tag, long nowMs, long turn)
    {
        Debug.Assert(!_inPool[id], $"connection {id} put into the keepalive pool twice");
        if (_inPool[id])
            Unlink(id);  // a release build refreshes it rather than corrupt the list
        _peer[id] = peer;
        _tag[id] = tag;
        _idleSince[id] = nowMs;
        _turn[id] = turn;
        LinkFirst(id);
    }

    /// <summary>Whether the pool holds more than Capacity (its overflow waits for <see cref="PopOverflow"/>).</summary>
    public bool Overflowing => _count > _capacity;

    /// <summary>Removes and returns the least recently used entry while the pool holds more than Capacity
    /// and that entry was added in a turn before <paramref name="beforeTurn"/> and at or before
    /// <paramref name="addedByMs"/>, else -1 (the caller closes it, and loops until -1).</summary>
    public int PopOverflow(long beforeTurn, long addedByMs)
    {
        int oldest = _prev[_sentinel];
        if (_count <= _capacity || _turn[oldest] >= beforeTurn || _idleSince[oldest] > addedByMs)
            return -1;
        Unlink(oldest);
        return oldest;
    }

    /// <summary>Takes the most recently used idle connection to <paramref name="peer"/> released with <paramref name="tag"/>.</summary>
    public bool TryTake(int peer, int tag, out int id)
    {
        for (int n = _next[_sentinel]; n != _sentinel; n = _next[n])
        {
            if (_peer[n] == peer && _tag[n] == tag)
            {
                Unlink(n);
                id = n;
                return true;
            }
        }
        id = -1;
        return false;
    }

    /// <summary>Whether an idle connection to <paramref name="peer"/> is cached, whatever its tag.</summary>
    public bool Holds(int peer)
    {
        for (int n = _next[_sentinel]; n != _sentinel; n = _next[n])
            if (_peer[n] == peer) return true;
        return false;
    }

    /// <summary>Takes the least recently used idle connection to <paramref name="peer"/>, whatever its tag
    /// (to be closed: its peer is at max_conns).</summary>
    public bool TryTakeOldest(int peer, out int id)
    {
        for (int n = _prev[_sentinel]; n != _sentinel; n = _prev[n])
        {
            if (_peer[n] == peer)
            {
                Unlink(n);
                id = n;
                return true;
            }
        }
        id = -1;
        return false;
    }

    /// <summary>Removes <paramref name="id"/> if it is in the pool (the upstream closed it or sent
    /// something while idle). Returns whether it was there.</summary>
    public bool Remove(int id)
    {
        if (!_inPool[id])
            return false;
        Unlink(id);
        return true;
    }

    public bool Contains(int id) => _inPool[id];

    /// <summary>Removes and returns the oldest entry if it has been idle for timeoutMs at
    /// <paramref name="nowMs"/>, else -1. The caller loops until -1.</summary>
    public int PopExpired(long nowMs)
    {
        int oldest = _prev[_sentinel];
        if (oldest == _sentinel || nowMs - _idleSince[oldest] < _timeoutMs)
            return -1;
        Unlink(oldest);
        return oldest;
    }

    /// <summary>When the oldest entry expires (ms, same clock), or long.MaxValue when empty.</summary>
    public long NextExpiryMs => _count == 0 ? long.MaxValue : _idleSince[_prev[_sentinel]] + _timeoutMs;

    private void LinkFirst(int id)
    {
        int first = _next[_sentinel];
        _next[id] = first;
        _prev[id] = _sentinel;
        _prev[first] = id;
        _next[_sentinel] = id;
        _inPool[id] = true;
        _count++;
    }

    private void Unlink(int id)
    {
        int next = _next[id], prev = _prev[id];
        _next[prev] = next;
        _prev[next] = prev;
        _inPool[id] = false;
        _count--;
    }
}
