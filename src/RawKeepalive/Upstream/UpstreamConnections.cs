using RawKeepalive.Loop;
using RawKeepalive.Native;

namespace RawKeepalive.Upstream;

/// <summary>What the exchange holding an upstream connection hears of it.</summary>
public interface IUpstreamOwner
{
    /// <summary>A non-blocking connect finished; <paramref name="error"/> is 0 or its errno.</summary>
    void OnUpstreamConnected(int error);

    /// <summary>The connection became readable or writable (its ready flags say which).</summary>
    void OnUpstreamReady();

    /// <summary>Its connect, send or read timer fired.</summary>
    void OnUpstreamTimeout();
}

/// <summary>The one owner of every upstream connection's life in a worker, nginx's keepalive module
/// and peer release in one place: open one, or take an idle one from a pool; attach it to an
/// exchange; release it, back to its pool when the exchange left it clean and its limits allow;
/// close it with a reason, counted for its upstream and peer. The worker hands it the events and
/// timers of its connections; the exchange asks for a connection and gives it back.</summary>
public sealed class UpstreamConnections
{
    private readonly UpstreamConnection[] _connections;
    private readonly List<KeepalivePool> _pools = [];
    private readonly List<ConnectionQueue> _queues = [];
    private readonly ZoneWatch _zones = new();
    private readonly ConnectionTable _table;
    private readonly EventLoop _loop;
    private readonly BufferSlab _slab;
    private readonly TimerWheel _timers;
    private readonly Func<bool> _freeSlots;
    private readonly LoopProfile? _profile;

    /// <param name="freeSlots">Frees connection slots when every one is taken (by closing idle
    /// clients); false when it could not.</param>
    /// <param name="profile">Times connect() and close() when the loop is profiled; null: off.</param>
    public UpstreamConnections(ConnectionTable table, EventLoop loop, BufferSlab slab, TimerWheel timers, Func<bool> freeSlots,
        LoopProfile? profile = null)
    {
        _profile = profile;
        _table = table;
        _loop = loop;
        _slab = slab;
        _timers = timers;
        _freeSlots = freeSlots;
        _connections = new UpstreamConnection[table.Capacity];
        for (int i = 0; i < _connections.Length; i++) _connections[i] = new UpstreamConnection(i);
    }

    public UpstreamConnection this[int slot] => _connections[slot];

    /// <summary>Registers the cache behind <paramref name="pool"/>, once however many locations share it:
    /// this owner expires and closes its idle connections, so the loop's work grows with upstream groups,
    /// not with locations.</summary>
    public void AddPool(LocationPool pool)
    {
        if (!_pools.Contains(pool.Cache)) _pools.Add(pool.Cache);
    }

    /// <summary>Registers an upstream group's queue: served after each batch once a connection of its
    /// group was released or closed, and its waiters timed out.</summary>
    public void AddQueue(ConnectionQueue queue)
    {
        if (!_queues.Contains(queue)) _queues.Add(queue);
    }

    /// <summary>Registers an upstream group with a zone whose peers count in shared memory (<see cref="ZoneWatch"/>).</summary>
    public void AddZone(UpstreamGroup group) => _zones.Add(group);

    /// <summary>Hands the connections freed in this batch to the queues' first waiters, and answers those
    /// that waited too long. Zoned groups first look at the other workers (<see cref="ZoneWatch.Look"/>), and
    /// afterwards say how long their own first waiters have waited.</summary>
    public void ServeQueues(long nowMs)
    {
        _zones.Look(nowMs, this);
        foreach (var q in _queues) q.Serve(nowMs);
        _zones.Publish();
    }

    /// <summary>max_conns: counts a connection about to be opened to <paramref name="peer"/> for a request
    /// waiting since <paramref name="sinceMs"/> (<see cref="UpstreamPeer.TryReserve"/>). A peer at its limit with
    /// no idle connection of <paramref name="pool"/>'s tag left to it has the least recently used idle one another
    /// location released to it (keepalive N local) closed to make room. False when there is no room.</summary>
    public bool TryReserve(LocationPool? pool, UpstreamPeer peer, long sinceMs) =>
        peer.TryReserve(sinceMs) || peer.AtLimit && pool is not null && CloseOldestIdle(pool.Cache, peer) && peer.TryReserve(sinceMs);

    /// <summary>Closes the least recently used idle connection to <paramref name="peer"/> in <paramref name="cache"/>,
    /// whatever its tag, to make room under max_conns. False when there is none.</summary>
    internal bool CloseOldestIdle(KeepalivePool cache, UpstreamPeer peer)
    {
        if (!cache.TryTakeOldest(peer.Index, out int id)) return false;
        Close(_connections[id], UpstreamCloseReason.MaxConns);
        return true;
    }

    /// <summary>Opens a non-blocking connection to <paramref name="peer"/>, which has a place reserved for it
    /// (<see cref="TryReserve"/>; given back when the open fails), that returns to <paramref name="pool"/> with its
    /// tag (null: closed after its exchange). Null with the errno when it failed at once; <paramref name="outOfSlots"/>
    /// when worker_connections were all taken.</summary>
    public UpstreamConnection? Open(UpstreamPeer peer, UpstreamGroup group, LocationPool? pool, long nowMs, out int errno, out bool outOfSlots)
    {
        errno = 0;
        int slot = _table.Allocate(SlotKind.Upstream);
        if (slot < 0 && _freeSlots()) slot = _table.Allocate(SlotKind.Upstream);
        outOfSlots = slot < 0;
        if (outOfSlots)
        {
            peer.Unreserve();
            errno = PosixErrors.EMFILE;
            return null;
        }
        long started = _profile is null ? 0 : LoopProfile.Now;
        var s = SocketInterop.OpenStream(peer.Address.Family);
        if (s.IsError)
        {
            _table.Release(slot);
            peer.Unreserve();
            errno = s.Errno;
            return null;
        }
        int fd = (int)s.Value;
        SocketInterop.SetNoDelay(fd);
        var c = SocketInterop.Connect(fd, peer.Address);
        if (c.IsError && c.Errno != PosixErrors.EINPROGRESS)
        {
            SocketInterop.Close(fd);
            _table.Release(slot);
            peer.Unreserve();
            errno = c.Errno;
            return null;
        }
        // Done already (loopback, mostly): the request goes out in this turn of the loop instead of
        // waiting a whole batch for the event that reports it (perf/README.md, "Where the tail comes from").
        bool connected = !c.IsError || SocketInterop.IsConnected(fd);
        if (_profile is not null)
        {
            (connected ? _profile.ConnectCallMicros : _profile.ConnectPendingCallMicros).Add(LoopProfile.MicrosSince(started));
            _profile.ConnectStarted[slot] = started;
        }
        var up = _connections[slot];
        up.Reset();
        up.Fd = fd;
        up.Peer = peer;
        up.Group = group;
        up.Pool = pool;
        up.OpenedMs = nowMs;
        up.State = connected ? UpstreamState.Active : UpstreamState.Connecting;
        up.WriteReady = connected;
        group.Stats.CountOpened();
        peer.Stats.CountOpened();
        _loop.Add(fd, EventLoop.ReadWrite, _table.Token(slot));
        return up;
    }

    /// <summary>The most recently used idle connection to <paramref name="peer"/> (LIFO) released with
    /// <paramref name="pool"/>'s tag (under keepalive N local, by the same location). The release check
    /// and the idle watch vouch for a pooled connection only up to the loop's last epoll_wait; a request
    /// that must not be replayed gets one only after a MSG_PEEK finds nothing waiting on it now (one the
    /// upstream closed meanwhile is closed here, and the next one tried). An idempotent request is
    /// replayed once if its connection turns out dead, so it goes without the syscall.</summary>
    public bool TryTakeIdle(LocationPool pool, UpstreamPeer peer, bool idempotent, out UpstreamConnection up)
    {
        while (pool.Cache.TryTake(peer.Index, pool.Tag, out int id))
        {
            up = _connections[id];
            if (idempotent || SocketInterop.Peek(up.Fd).IsAgain)
            {
                up.Pool = pool;
                up.Group.Stats.CountReused();
                peer.Stats.CountReused();
                return true;
            }
            Close(up, UpstreamCloseReason.ClosedWhileIdle);
        }
        up = null!;
        return false;
    }

    /// <summary>Gives <paramref name="up"/> to an exchange, with a receive buffer (Buffer is -1 when the
    /// slab is exhausted: the caller checks).</summary>
    public void Attach(UpstreamConnection up, IUpstreamOwner owner, bool reused)
    {
        up.Owner = owner;
        up.Reused = reused;
        if (up.State == UpstreamState.Idle)
        {
            up.State = UpstreamState.Active;
            up.WriteReady = true;
        }
        up.Buffer = _slab.Rent();
        up.Start = up.End = 0;
    }

    /// <summary>Ends an exchange's hold on <paramref name="up"/>: back to its pool when
    /// <paramref name="reusable"/>, within keepalive_requests and keepalive_time, and alive (see
    /// <see cref="DeadAtRelease"/>), else closed with <paramref name="failure"/> (not reusable), the
    /// limit that retired it, or what found it dead.</summary>
    public void Release(UpstreamConnection up, bool reusable, UpstreamCloseReason failure, bool stopping, long nowMs)
    {
        _timers.Cancel(up.Slot);
        up.Owner = null;
        if (up.Buffer >= 0)
        {
            _slab.Return(up.Buffer);
            up.Buffer = -1;
        }
        up.Requests++;
        var cfg = up.Group.Config;
        var reason = !reusable ? failure
            : up.Pool is null ? UpstreamCloseReason.NotReusable
            : stopping ? UpstreamCloseReason.Shutdown
            : up.Requests >= cfg.KeepaliveRequests ? UpstreamCloseReason.MaxRequests
            : nowMs - up.OpenedMs >= cfg.KeepaliveTimeMs ? UpstreamCloseReason.MaxTime
            : DeadAtRelease(up);
        if (reason is { } r) Close(up, r);
        else PutIdle(up, nowMs);
    }

    /// <summary>Why <paramref name="up"/>, whose exchange ended cleanly, must not be pooled, or null when
    /// it is alive: no EOF, reset or stray byte waits on it. A hang-up epoll already reported while it
    /// was active raises no new event, so the pool's watch would never see it: it is honoured here. When
    /// the last read stopped at EAGAIN or came back short and no event came since (ReadReady is false),
    /// nothing can be waiting, and whatever arrives later raises an event while it is idle; otherwise a
    /// MSG_PEEK looks (nginx's keepalive module reads one byte in the same case).</summary>
    private static UpstreamCloseReason? DeadAtRelease(UpstreamConnection up)
    {
        if (up.HungUp) return UpstreamCloseReason.ClosedAtRelease;
        if (!up.ReadReady) return null;
        var peek = SocketInterop.Peek(up.Fd);
        return peek.IsAgain ? null
            : peek.Value > 0 ? UpstreamCloseReason.UnexpectedDataAtRelease
            : UpstreamCloseReason.ClosedAtRelease;
    }

    private void PutIdle(UpstreamConnection up, long nowMs)
    {
        UpstreamStats.WentIdle(up);
        if (up.Group.Queue is { Count: > 0 } queue) queue.Woken = true;   // its first waiter takes it after this batch
        up.State = UpstreamState.Idle;
        up.ReadReady = false;
        up.Pool!.Cache.Add(up.Slot, up.Peer.Index, up.Pool.Tag, nowMs, _turn);   // past keepalive N until EndTurn
    }

    /// <summary>The loop's turns, counted by <see cref="EndTurn"/>: what the hand-off window is measured in.</summary>
    private long _turn;

    /// <summary>How long at least a connection released past keepalive N waits for a request to hand it to.
    /// Measured (perf/README.md, "Where the tail comes from"): 1 ms and 50 ms keep the tail short; 5 ms let
    /// evictions, and the connects after them, come in bursts that tripled 64 KiB responses' p99.</summary>
    public const long HandOffWindowMs = 50;

    /// <summary>The end of a turn of the loop: each pool closes its least recently used idle connections
    /// beyond keepalive N that were released before this turn and at least <see cref="HandOffWindowMs"/> ago.
    /// One released in this turn stays through the next: under load beyond the pool the request a response
    /// answers arrives a turn after that response went out (the client must read it first), so evicting at
    /// release closed the connection that request then opened again (perf/README.md, "Where the tail comes
    /// from"). That request takes it instead: the hand-off before eviction.</summary>
    public void EndTurn(long nowMs)
    {
        foreach (var pool in _pools)
            for (int id; (id = pool.PopOverflow(_turn, nowMs - HandOffWindowMs)) >= 0;)
                Close(_connections[id], UpstreamCloseReason.PoolFull);
        _turn++;
    }

    /// <summary>A pool holds more than keepalive N: the loop must turn again soon to evict the rest.</summary>
    private bool Overflowing
    {
        get
        {
            foreach (var pool in _pools)
                if (pool.Overflowing) return true;
            return false;
        }
    }

    /// <summary>Closes <paramref name="up"/> (a pooled one leaves its pool) and counts why.</summary>
    public void Close(UpstreamConnection up, UpstreamCloseReason reason)
    {
        if (up.Fd < 0) return;
        up.Pool?.Cache.Remove(up.Slot);
        up.Group.Stats.CountClosed(reason);
        up.Peer.Stats.CountClosed(reason);
        if (up.Group.Queue is { } queue) queue.Woken = true;
        _timers.Cancel(up.Slot);
        UpstreamStats.Ended(up);
        // close() also removes it from epoll
        long started = _profile is null ? 0 : LoopProfile.Now;
        bool abortive = ClosesAbortively(up, reason);
        if (abortive) SocketInterop.CloseAbortive(up.Fd);
        else SocketInterop.Close(up.Fd);
        if (_profile is not null)
            (abortive ? _profile.AbortiveCloseMicros : _profile.GracefulCloseMicros).Add(LoopProfile.MicrosSince(started));
        up.Peer.Unreserve();   // after close(): with a zone, another worker may open in its place at once
        if (up.Buffer >= 0) _slab.Return(up.Buffer);
        up.Reset();
        _table.Release(up.Slot);
    }

    /// <summary>Whether <paramref name="up"/> is closed with a reset rather than a FIN (keepalive_close reset):
    /// only when the proxy itself retires it idle and clean: no exchange holds it (an idle one, or one whose
    /// exchange completed), and the reason is a limit or the pool, never a failure or a partial exchange. Its
    /// port then skips TIME_WAIT.</summary>
    private static bool ClosesAbortively(UpstreamConnection up, UpstreamCloseReason reason) =>
        up.Owner is null && up.Group.Config.KeepaliveCloseReset
        && reason is UpstreamCloseReason.PoolFull or UpstreamCloseReason.IdleTimeout or UpstreamCloseReason.MaxRequests
            or UpstreamCloseReason.MaxTime or UpstreamCloseReason.Shutdown or UpstreamCloseReason.MaxConns;

    /// <summary>An epoll event for <paramref name="up"/>.</summary>
    public void OnEvent(UpstreamConnection up, uint events)
    {
        bool readable = (events & (EpollInterop.In | EpollInterop.Err | EpollInterop.Hup | EpollInterop.RdHup)) != 0;
        if (readable) up.ReadReady = true;
        if ((events & (EpollInterop.Err | EpollInterop.Hup | EpollInterop.RdHup)) != 0) up.HungUp = true;
        if ((events & (EpollInterop.Out | EpollInterop.Err | EpollInterop.Hup)) != 0) up.WriteReady = true;
        switch (up.State)
        {
            case UpstreamState.Idle:
                // The upstream closed an idle connection or sent something unasked: it leaves the pool now.
                if (readable && !SocketInterop.Peek(up.Fd).IsAgain) Close(up, UpstreamCloseReason.ClosedWhileIdle);
                else up.ReadReady = false;
                return;
            case UpstreamState.Connecting:
                if (!up.WriteReady && !readable) return;
                _profile?.ConnectDoneMicros.Add(LoopProfile.MicrosSince(_profile.ConnectStarted[up.Slot]));
                up.Owner!.OnUpstreamConnected(SocketInterop.PendingError(up.Fd));
                return;
            case UpstreamState.Active:
                up.Owner?.OnUpstreamReady();
                return;
        }
    }

    /// <summary>A timer of <paramref name="slot"/> fired: its exchange's connect, send or read timeout.</summary>
    public void OnTimer(int slot) => _connections[slot].Owner?.OnUpstreamTimeout();

    /// <summary>Closes the pooled connections idle for their pool's keepalive_timeout.</summary>
    public void ExpireIdle(long nowMs)
    {
        foreach (var pool in _pools)
            for (int id; (id = pool.PopExpired(nowMs)) >= 0;)
                Close(_connections[id], UpstreamCloseReason.IdleTimeout);
    }

    /// <summary>When the next pooled connection expires, a queued request times out, a pool's overflow is due
    /// for eviction (<see cref="EndTurn"/>) or a zone is to be looked at again; long.MaxValue when none.</summary>
    public long NextDueMs(long nowMs)
    {
        long due = Overflowing ? nowMs + HandOffWindowMs : long.MaxValue;
        foreach (var pool in _pools) due = Math.Min(due, pool.NextExpiryMs);
        foreach (var q in _queues) due = Math.Min(due, q.NextDeadlineMs);
        return Math.Min(due, _zones.NextLookMs);
    }

    /// <summary>Closes every pooled connection (a draining worker keeps none).</summary>
    public void CloseIdle(UpstreamCloseReason reason)
    {
        foreach (var pool in _pools)
            for (int id; (id = pool.PopExpired(long.MaxValue)) >= 0;)
                Close(_connections[id], reason);
    }

    /// <summary>Closes every open connection, pooled or not (the worker is going away).</summary>
    public void CloseAll(UpstreamCloseReason reason)
    {
        foreach (var up in _connections)
            if (up.Fd >= 0) Close(up, reason);
    }
}
