using RawKeepalive.Native;

namespace RawKeepalive.Loop;

/// <summary>What a <see cref="LoopHost"/> hands its events to: the connections of each slot kind,
/// the listeners, and the owner's own deadlines. Called only on the loop's thread.</summary>
public interface ILoopHandler
{
    /// <summary>Before each wait: false to leave the loop (a drain that is done).</summary>
    bool BeforeWait();

    /// <summary>The earliest time (monotonic ms) the handler must be woken for besides connection
    /// timers, or long.MaxValue.</summary>
    long NextDeadlineMs { get; }

    /// <summary>The loop woke: the clock (<see cref="LoopHost.NowMs"/>) was just read, the batch follows.</summary>
    void OnBatchStart();

    void OnListenerReady(int index);

    void OnEvent(int slot, SlotKind kind, uint events);

    void OnTimer(int slot, SlotKind kind);

    /// <summary>An exception escaped the handling of <paramref name="slot"/>: that connection (and
    /// what it is paired with) must go; the loop and every other connection carry on.</summary>
    void OnFault(int slot, Exception e);

    /// <summary>The parent process is gone (its pipe hung up): the loop stops after this batch.</summary>
    void OnParentGone();

    /// <summary>After each batch and its expired timers: the handler's periodic work.</summary>
    void AfterBatch();
}

/// <summary>A worker's event loop, with nothing of HTTP or proxying in it: one edge-triggered epoll
/// set, the connection table whose (generation, slot) tokens route each event to its slot's kind,
/// the timer wheel, the monotonic clock, and a wake-up eventfd for other threads (signals). Each
/// batch goes out in two passes: the slots of the priority kind first (upstream connections, so
/// exchanges in flight finish and pool their connections before new requests look for one), then
/// the rest; then expired timers; then the handler's own periodic work.</summary>
public sealed class LoopHost : IDisposable
{
    private const ulong ListenerTokenFlag = 1UL << 63;
    private const ulong WakeToken = 1UL << 62;
    private const ulong ParentToken = WakeToken | 1;

    private readonly EventLoop _epoll = new();
    private readonly int _wakeFd;
    private readonly SlotKind _priority;
    private volatile bool _stopRequested;

    /// <param name="capacity">worker_connections: the slots of the connection table and timer wheel.</param>
    /// <param name="priority">The kind of slot whose events are handled first in each batch.</param>
    public LoopHost(int capacity, SlotKind priority)
    {
        _priority = priority;
        Table = new ConnectionTable(capacity);
        NowMs = MonotonicClock.NowMs;
        Timers = new TimerWheel(capacity, 10, NowMs);
        Profile?.Size(capacity);
        _wakeFd = EventFdInterop.Open();
        _epoll.Add(_wakeFd, EpollInterop.In | EpollInterop.EdgeTriggered, WakeToken);
    }

    public ConnectionTable Table { get; }
    public TimerWheel Timers { get; }
    public EventLoop Epoll => _epoll;
    /// <summary>The monotonic clock, read once per batch.</summary>
    public long NowMs { get; private set; }
    public bool StopRequested => _stopRequested;
    /// <summary>Where the loop spends its time (RAWKEEPALIVE_LOOP_PROFILE), or null: off.</summary>
    public LoopProfile? Profile { get; } = LoopProfile.FromEnvironment();

    /// <summary>Registers slot <paramref name="slot"/>'s descriptor (its token carries the slot's generation).</summary>
    public void Add(int fd, int slot) => _epoll.Add(fd, EventLoop.ReadWrite, Table.Token(slot));

    public void AddListener(int fd, int index) => _epoll.Add(fd, EpollInterop.In | EpollInterop.EdgeTriggered, ListenerTokenFlag | (uint)index);

    public void RemoveListener(int fd) => _epoll.Remove(fd);

    /// <summary>Worker processes: <paramref name="fd"/> is the read end of a pipe the parent never writes
    /// to; any event on it means the parent died.</summary>
    public void WatchParent(int fd) => _epoll.Add(fd, EpollInterop.In | EpollInterop.RdHup | EpollInterop.EdgeTriggered, ParentToken);

    /// <summary>Wakes the loop from any thread (a signal handler).</summary>
    public void Wake() => EventFdInterop.Signal(_wakeFd);

    /// <summary>Stops the loop from any thread.</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        Wake();
    }

    public void Run(ILoopHandler handler)
    {
        while (!_stopRequested)
        {
            if (!handler.BeforeWait()) break;
            int count = _epoll.Wait(NextTimeout(handler.NextDeadlineMs));
            NowMs = MonotonicClock.NowMs;
            if (Profile is not null) _batchStart = LoopProfile.Now;
            handler.OnBatchStart();
            for (int i = 0; i < count; i++)
            {
                ref var ev = ref _epoll.Event(i);
                if (!IsPriority(ev.Token)) continue;
                Profile?.UpstreamTurnMicros.Add(LoopProfile.MicrosSince(_batchStart));
                Dispatch(handler, ev.Token, ev.Events);
                ev.Token = WakeToken;   // handled: the second pass skips it
            }
            for (int i = 0; i < count; i++)
            {
                ref var ev = ref _epoll.Event(i);
                if (Profile is not null && (ev.Token & (ListenerTokenFlag | WakeToken)) == 0)   // a connection's, not one handled above
                    Profile.ClientTurnMicros.Add(LoopProfile.MicrosSince(_batchStart));
                Dispatch(handler, ev.Token, ev.Events);
            }
            RunTimers(handler);
            handler.AfterBatch();
            if (Profile is not null && count > 0)
            {
                Profile.BatchEvents.Add(count);
                Profile.BatchMicros.Add(LoopProfile.MicrosSince(_batchStart));
            }
        }
        Profile?.Write();
    }

    /// <summary>When the current batch's epoll_wait returned (Stopwatch ticks; profiling only).</summary>
    private long _batchStart;

    private int NextTimeout(long deadlineMs)
    {
        int t = Timers.NextTimeoutMs(NowMs);
        if (deadlineMs == long.MaxValue) return t;
        int d = (int)Math.Clamp(deadlineMs - NowMs, 0, int.MaxValue);
        return t < 0 || d < t ? d : t;
    }

    private bool IsPriority(ulong token)
    {
        if ((token & (ListenerTokenFlag | WakeToken)) != 0) return false;
        int slot = ConnectionTable.SlotOf(token);
        return Table.Kind(slot) == _priority && ConnectionTable.GenerationOf(token) == Table.Generation(slot);
    }

    private void Dispatch(ILoopHandler handler, ulong token, uint events)
    {
        if ((token & ListenerTokenFlag) != 0)
        {
            handler.OnListenerReady((int)(uint)token);
            return;
        }
        if (token == WakeToken) return;
        if (token == ParentToken)
        {
            handler.OnParentGone();
            _stopRequested = true;
            return;
        }
        int slot = ConnectionTable.SlotOf(token);
        if (ConnectionTable.GenerationOf(token) != Table.Generation(slot)) return;   // an event for a connection closed earlier in this batch
        try
        {
            var kind = Table.Kind(slot);
            if (kind != SlotKind.Free) handler.OnEvent(slot, kind, events);
        }
        catch (Exception e)
        {
            handler.OnFault(slot, e);
        }
    }

    private void RunTimers(ILoopHandler handler)
    {
        int slot;
        while ((slot = Timers.PopExpired(NowMs)) >= 0)
        {
            try
            {
                var kind = Table.Kind(slot);
                if (kind != SlotKind.Free) handler.OnTimer(slot, kind);
            }
            catch (Exception e)
            {
                handler.OnFault(slot, e);
            }
        }
    }

    public void Dispose()
    {
        _epoll.Dispose();
        SocketInterop.Close(_wakeFd);
    }
}
