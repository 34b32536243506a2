namespace RawKeepalive.Upstream;

/// <summary>A request waiting in an upstream group's queue, as the queue sees it (implemented by the
/// proxy's upstream leg).</summary>
public interface IQueuedRequest
{
    /// <summary>A connection may have become available: take an idle one or open one. False when there is
    /// still none for it (it goes back to the head of the queue); true when it left the queue (it got a
    /// connection, or its exchange ended).</summary>
    bool TryResume();

    /// <summary>It waited the queue's timeout (it has already left the queue).</summary>
    void OnQueueTimeout();
}

/// <summary><c>queue N timeout=T</c> of one upstream group in one worker (nginx Plus): the requests that
/// found every peer at max_conns and no idle connection they may take, first in first out, at most N.
/// Entries are client slot ids (0..maxId-1) in an intrusive doubly-linked list preallocated for every
/// slot, so enqueue, leave, serve and expiry are O(1) and allocate nothing. One timeout for all entries
/// makes enqueue order the deadline order: expiry needs no timer, only a look at the head.
/// <see cref="UpstreamConnections"/> marks it <see cref="Woken"/> when a connection of its group is
/// released or closed, and serves it after the loop's batch.</summary>
/// <remarks>The list is circular through a sentinel node at index maxId.</remarks>
public sealed class ConnectionQueue
{
    private readonly int _sentinel;
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly long[] _deadline;
    private readonly IQueuedRequest?[] _waiter;
    private int _count;

    public ConnectionQueue(int capacity, long timeoutMs, int maxId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        TimeoutMs = timeoutMs;
        _sentinel = maxId;
        _next = new int[maxId + 1];
        _prev = new int[maxId + 1];
        _next[_sentinel] = _prev[_sentinel] = _sentinel;
        _deadline = new long[maxId];
        _waiter = new IQueuedRequest?[maxId];
    }

    public int Capacity { get; }
    public long TimeoutMs { get; }
    public int Count => _count;
    public bool IsFull => _count >= Capacity;

    /// <summary>A connection of the group was released or closed since the queue was last served.</summary>
    public bool Woken { get; set; }

    public bool Contains(int id) => _waiter[id] is not null;

    /// <summary>Appends <paramref name="id"/>; false when the queue is full.</summary>
    public bool Enqueue(int id, IQueuedRequest waiter, long nowMs)
    {
        if (IsFull) return false;
        Link(id, _prev[_sentinel], waiter, nowMs + TimeoutMs);
        return true;
    }

    /// <summary>Removes <paramref name="id"/> if it waits (its client went away). Returns whether it did.</summary>
    public bool Remove(int id)
    {
        if (_waiter[id] is null) return false;
        Unlink(id);
        return true;
    }

    /// <summary>Serves the queue from its head while connections are to be had, then times out the
    /// entries whose deadline passed.</summary>
    public void Serve(long nowMs)
    {
        if (Woken)
        {
            Woken = false;
            while (_count > 0)
            {
                int id = _next[_sentinel];
                var w = _waiter[id]!;
                long deadline = _deadline[id];
                Unlink(id);
                if (w.TryResume()) continue;
                Link(id, _sentinel, w, deadline);   // back at the head: nothing free for it, nor for those behind
                break;
            }
        }
        while (_count > 0 && _deadline[_next[_sentinel]] <= nowMs)
        {
            int id = _next[_sentinel];
            var w = _waiter[id]!;
            Unlink(id);
            w.OnQueueTimeout();
        }
    }

    /// <summary>When the head times out, or long.MaxValue when empty.</summary>
    public long NextDeadlineMs => _count == 0 ? long.MaxValue : _deadline[_next[_sentinel]];

    /// <summary>When the head was queued, or 0 when empty.</summary>
    public long HeadSinceMs => _count == 0 ? 0 : _deadline[_next[_sentinel]] - TimeoutMs;

    private void Link(int id, int after, IQueuedRequest waiter, long deadline)
    {
        int next = _next[after];
        _next[id] = next;
        _prev[id] = after;
        _prev[next] = id;
        _next[after] = id;
        _waiter[id] = waiter;
        _deadline[id] = deadline;
        _count++;
    }

    private void Unlink(int id)
    {
        int next = _next[id], prev = _prev[id];
        _next[prev] = next;
        _prev[next] = prev;
        _waiter[id] = null;
        _count--;
    }
}
