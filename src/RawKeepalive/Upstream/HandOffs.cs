namespace RawKeepalive.Upstream;

/// <summary>Hand-off before eviction: per peer, the FIFO of connections still connecting for an exchange,
/// so a connection released clean while one waits goes straight to that exchange (neither pooled and
/// taken nor closed), and the connect still in progress is abandoned. Intrusive lists over connection
/// slots: enqueue, remove and the usual take are O(1) (a take skips waiters of other locations under
/// <c>keepalive N local</c>). The exchanges handed a connection are woken after the batch, not from
/// inside the release that handed it.</summary>
public sealed class HandOffs
{
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly bool[] _queued;
    private readonly int[] _woken;
    private readonly bool[] _wakePending;
    private int _wokenCount;

    public HandOffs(int capacity)
    {
        _next = new int[capacity];
        _prev = new int[capacity];
        _queued = new bool[capacity];
        _woken = new int[capacity];
        _wakePending = new bool[capacity];
    }

    /// <summary><paramref name="up"/>, just opened, waits for its connect to finish.</summary>
    public void Enqueue(UpstreamConnection up)
    {
        var peer = up.Peer;
        int slot = up.Slot;
        _queued[slot] = true;
        _next[slot] = -1;
        _prev[slot] = peer.ConnectingTail;
        if (peer.ConnectingTail >= 0) _next[peer.ConnectingTail] = slot;
        else peer.ConnectingHead = slot;
        peer.ConnectingTail = slot;
    }

    /// <summary>Its connect finished, failed or was abandoned, or it is closing.</summary>
    public void Remove(UpstreamConnection up)
    {
        int slot = up.Slot;
        if (!_queued[slot]) return;
        _queued[slot] = false;
        var peer = up.Peer;
        int next = _next[slot], prev = _prev[slot];
        if (prev >= 0) _next[prev] = next;
        else peer.ConnectingHead = next;
        if (next >= 0) _prev[next] = prev;
        else peer.ConnectingTail = prev;
    }

    /// <summary>The slot of the oldest connection still connecting to <paramref name="peer"/> for an exchange of a
    /// location with <paramref name="tag"/>, taken off the list; -1 when none waits.</summary>
    public int TakeWaiting(UpstreamPeer peer, int tag, UpstreamConnection[] connections)
    {
        for (int s = peer.ConnectingHead; s >= 0; s = _next[s])
        {
            var c = connections[s];
            if (c.Pool is { } pool && pool.Tag == tag)
            {
                Remove(c);
                return s;
            }
        }
        return -1;
    }

    /// <summary>The exchange now holding <paramref name="slot"/> is told it may go on, after the batch.</summary>
    public void Wake(int slot)
    {
        if (_wakePending[slot]) return;
        _wakePending[slot] = true;
        _woken[_wokenCount++] = slot;
    }

    /// <summary>Tells each exchange handed a connection since the last call that it can send.</summary>
    public void WakeAll(UpstreamConnection[] connections)
    {
        for (int i = 0; i < _wokenCount; i++)
        {
            int slot = _woken[i];
            _wakePending[slot] = false;
            connections[slot].Owner?.OnUpstreamReady();
        }
        _wokenCount = 0;
    }
}
