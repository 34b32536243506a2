using RawKeepalive.Config;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Upstream;
using RawKeepalive.Http;
using RawKeepalive.Routing;

namespace RawKeepalive.Proxy;

/// <summary>One worker: one thread running a <see cref="LoopHost"/>, and everything its connections
/// need — client connection records, upstream connections and their idle pools, buffers, pipes. It
/// is the loop's handler: client slots go to their ClientConnection, upstream slots to
/// UpstreamConnections, listeners to accept; and it drains on a graceful stop. Nothing here is
/// shared with another thread.</summary>
public sealed unsafe class Worker : IDisposable, ILoopHandler
{
    public const int IoBufferSize = 16 * 1024;
    /// <summary>Free I/O buffers kept resident (3 MiB): enough for ~64 exchanges in flight to
    /// reuse warm memory; a larger burst's buffers return to the kernel once it passes.</summary>
    private const int WarmBuffers = 192;
    /// <summary>How long a draining worker leaves idle clients open: a request may already be on its
    /// way on one, and it is answered (with "Connection: close") rather than reset.</summary>
    public const long DrainGraceMs = 1000;


    public ProxyConfig Config { get; }
    public ErrorLog Log { get; }
    /// <summary>This worker's access log writers; the log phase records each finished request here.</summary>
    public AccessLogs AccessLogs { get; }
    /// <summary>The http/server/location error_log lines: ErrorLogs.For(location, server) is a request's log.</summary>
    public LevelErrorLogs ErrorLogs { get; }
    public TimerWheel Timers => _host.Timers;
    public BufferSlab Slab { get; }
    public SplicePipes Pipes { get; } = new();
    /// <summary>Room for generated heads that outgrow their scratch area (generated_headers_max_size bounds them).</summary>
    public PinnedBufferPool LargeHeads { get; } = new();
    public HttpDate Date { get; } = new();
    public ErrorPages ErrorPages { get; } = new();
    /// <summary>The content handler of each kind of location (proxy, return, stub_status, none).</summary>
    public ContentHandlers Content { get; } = new();
    public MessageHeadsPool Heads { get; } = new();
    /// <summary>Every upstream connection's life: open or take, attach, release, close with a reason.</summary>
    public UpstreamConnections Upstreams { get; }
    public long NowMs => _host.NowMs;
    /// <summary>GC.GetAllocatedBytesForCurrentThread() of the loop thread, refreshed every iteration:
    /// the hot path must leave it unchanged in steady state (read from any thread).</summary>
    public long LoopAllocatedBytes => Volatile.Read(ref _loopAllocatedBytes);
    private long _loopAllocatedBytes;
    /// <summary>Draining or stopping: responses say "Connection: close" and no upstream connection is kept.</summary>
    public bool Stopping { get; private set; }
    /// <summary>The counters, the metrics page and the keepalive doctor.</summary>
    public WorkerMetrics Figures { get; }
    public CounterSlot Counters => Figures.Counters;
    /// <summary>The server-wide counters stub_status and the metrics page read.</summary>
    public SharedCounters Segment => Figures.Segment;
    public MetricsPage Metrics => Figures.Page;

    private readonly LoopHost _host;
    private readonly ConnectionTable _table;
    private readonly ClientConnection[] _clients;
    private readonly Acceptor _acceptor;
    private volatile bool _drainRequested;
    private long _drainStartMs = -1;
    private bool _idleClosed;

    /// <param name="segment">The master's counters segment; null in single-process mode (a private one).</param>
    /// <param name="counterSlot">This worker's slot of <paramref name="segment"/>.</param>
    public Worker(ProxyConfig config, ErrorLog log, Listener[] listeners, SharedCounters? segment = null, int counterSlot = 1)
    {
        Config = config;
        Log = log;
        AccessLogs = new AccessLogs(config.Http, log);
        ErrorLogs = new LevelErrorLogs(config.Http, log);
        int n = config.WorkerConnections;
        _host = new LoopHost(n, priority: SlotKind.Upstream);
        _table = _host.Table;
        // Every connection record exists from the start (nginx's preallocated connections): a slot
        // used for the first time costs nothing, and steady state allocates nothing at all.
        _clients = new ClientConnection[n];
        for (int i = 0; i < n; i++) _clients[i] = new ClientConnection(this, i);
        // Each exchange holds at most three buffers (client, upstream, scratch); an idle connection none.
        Slab = new BufferSlab(IoBufferSize, 64, 3 * n, WarmBuffers);
        Upstreams = new UpstreamConnections(_table, _host.Epoll, Slab, Timers, ReuseIdleConnections, _host.Profile);
        ProcessInterop.IgnoreBrokenPipe();
        _acceptor = new Acceptor(this, _host, _clients, listeners, ReuseIdleConnections);
        foreach (var l in listeners)
        {
            foreach (var s in l.Servers)
                foreach (var loc in s.Locations)
                    if (loc.Pool is not null) Upstreams.AddPool(loc.Pool);
        }
        var groups = new List<UpstreamGroup>();
        foreach (var l in listeners)
            foreach (var s in l.Servers)
                foreach (var loc in s.Locations)
                    if (loc.Group is not null && !groups.Contains(loc.Group)) groups.Add(loc.Group);
        foreach (var g in groups)
            if (g.Queue is not null) Upstreams.AddQueue(g.Queue);
        Figures = new WorkerMetrics(segment, counterSlot, config, groups, log, NowMs);
        foreach (var g in groups)
            if (Array.Exists(g.Peers, p => p.Zone is not null)) Upstreams.AddZone(g);
    }

    /// <summary>Worker processes: <paramref name="fd"/> is the read end of a pipe the master never writes
    /// to; any event on it is the master's end (it died), and the worker stops at once.</summary>
    public void WatchParent(int fd) => _host.WatchParent(fd);

    /// <summary>Graceful stop, from any thread: stop accepting, finish in-flight requests, then exit.</summary>
    public void RequestDrain()
    {
        _drainRequested = true;
        Wake();
    }

    /// <summary>Asks the loop to stop, from any thread (a signal handler).</summary>
    public void RequestStop() => _host.RequestStop();

    /// <summary>USR1, from any thread: the loop reopens the error log between two iterations (a
    /// rotated file is let go; the new one is created).</summary>
    public void RequestReopen()
    {
        _reopenRequested = true;
        Wake();
    }

    private volatile bool _reopenRequested;
    private long _nextTrimMs;
    private const int TrimIntervalMs = 1000;

    private void Wake() => _host.Wake();

    public void Run()
    {
        _host.Run(this);
        Stopping = true;
    }

    bool ILoopHandler.BeforeWait() => !_drainRequested || !DrainStep();

    void ILoopHandler.OnBatchStart() => Date.Refresh(NowMs);

    void ILoopHandler.OnListenerReady(int index) => _acceptor.OnReady(index);

    void ILoopHandler.OnEvent(int slot, SlotKind kind, uint events)
    {
        if (kind == SlotKind.Client) _clients[slot].OnEvent(events);
        else Upstreams.OnEvent(Upstreams[slot], events);
    }

    void ILoopHandler.OnTimer(int slot, SlotKind kind)
    {
        if (kind == SlotKind.Client) _clients[slot].OnTimer();
        else Upstreams.OnTimer(slot);
    }

    void ILoopHandler.OnParentGone() => Log.Write(LogLevel.Alert, 0, "the master process is gone, exiting");

    void ILoopHandler.AfterBatch()
    {
        Upstreams.ExpireIdle(NowMs);
        Upstreams.ServeQueues(NowMs);
        Upstreams.EndTurn(NowMs);   // after the queues: a waiter takes a released connection first
        if (NowMs >= AccessLogs.NextFlushDueMs) AccessLogs.FlushDue(NowMs);
        _acceptor.AfterBatch();
        Figures.Doctor.Tick(NowMs);
        if (Slab.TrimDue && NowMs >= _nextTrimMs)
        {
            _nextTrimMs = NowMs + TrimIntervalMs;
            Slab.TrimCold();
        }
        if (_reopenRequested)
        {
            _reopenRequested = false;
            Log.Reopen();
            ErrorLogs.Reopen();
            AccessLogs.Reopen();
        }
        Volatile.Write(ref _loopAllocatedBytes, GC.GetAllocatedBytesForCurrentThread());
    }

    /// <summary>One step of draining; true when the worker may exit (no connections left, or
    /// worker_shutdown_timeout passed).</summary>
    private bool DrainStep()
    {
        if (_drainStartMs < 0)
        {
            _drainStartMs = NowMs;
            Stopping = true;
            _acceptor.StopListening();
            Upstreams.CloseIdle(UpstreamCloseReason.Shutdown);
        }
        if (!_idleClosed && NowMs - _drainStartMs >= DrainGraceMs)
        {
            _idleClosed = true;
            for (int i = 0; i < _table.Capacity; i++)
                if (_table.Kind(i) == SlotKind.Client && _clients[i]!.Phase == ClientPhase.Waiting) _clients[i]!.Close();
        }
        if (Config.WorkerShutdownTimeoutMs > 0 && NowMs - _drainStartMs >= Config.WorkerShutdownTimeoutMs)
        {
            Log.Write(LogLevel.Notice, 0, "worker_shutdown_timeout passed, closing the remaining connections");
            return true;
        }
        for (int i = 0; i < _table.Capacity; i++)
            if (_table.Kind(i) == SlotKind.Client) return false;
        return true;
    }

    /// <summary>The worker's own deadlines: the next buffer trim, the drain's grace and shutdown
    /// timeout, the next pooled connection's expiry, the next access log buffer's flush= time, the next
    /// accept after running out of descriptors.</summary>
    long ILoopHandler.NextDeadlineMs
    {
        get
        {
            long due = Math.Min(Math.Min(Upstreams.NextDueMs(NowMs), AccessLogs.NextFlushDueMs), _acceptor.RetryAtMs);
            if (Slab.TrimDue) due = Math.Min(due, Math.Clamp(_nextTrimMs, NowMs, NowMs + TrimIntervalMs));
            due = Math.Min(due, Figures.Doctor.DueMs);   // the keepalive doctor's next look
            if (_drainStartMs >= 0)
            {
                if (!_idleClosed) due = Math.Min(due, _drainStartMs + DrainGraceMs);
                else if (Config.WorkerShutdownTimeoutMs > 0) due = Math.Min(due, _drainStartMs + Config.WorkerShutdownTimeoutMs);
            }
            return due;
        }
    }

    /// <summary>A bug must cost one connection, not the worker and every request it carries
    /// (nginx's master would respawn a crashed worker; here the damage stays smaller still).</summary>
    void ILoopHandler.OnFault(int slot, Exception e) => Fault(slot, e);

    /// <summary>A bug while serving <paramref name="slot"/>: logged [crit], and the connection closed (also
    /// for work done outside the loop's dispatch, such as serving an upstream queue after the batch).</summary>
    public void Fault(int slot, Exception e)
    {
        Log.Write(LogLevel.Crit, 0, $"internal error, closing the connection: {e}");
        bool upstream = _table.Kind(slot) == SlotKind.Upstream;
        var client = upstream ? (Upstreams[slot].Owner as UpstreamLeg)?.Client : _clients[slot];
        if (upstream && client is null) Upstreams.Close(Upstreams[slot], UpstreamCloseReason.ErrorMidExchange);
        try { client?.Close(); }
        catch (Exception again) { Log.Write(LogLevel.Crit, 0, $"internal error while closing: {again}"); }
    }

    /// <summary>nginx's ngx_drain_connections: when every slot is taken, close up to 32 idle
    /// keepalive client connections to make room. False when there were none.</summary>
    private bool ReuseIdleConnections()
    {
        int closed = 0;
        for (int i = 0; i < _table.Capacity && closed < 32; i++)
        {
            if (_table.Kind(i) != SlotKind.Client || !_clients[i].IsIdle) continue;
            _clients[i].Close();
            closed++;
        }
        if (closed > 0) Log.Write(LogLevel.Warn, 0, $"{Config.WorkerConnections} worker_connections are not enough, reusing connections");
        return closed > 0;
    }

    public void CloseClient(ClientConnection c)
    {
        Counters.Closed(ref c.Phase);
        Timers.Cancel(c.Slot);
        SocketInterop.Close(c.Fd);
        _table.Release(c.Slot);
    }

    public void Dispose()
    {
        for (int i = 0; i < _table.Capacity; i++)
            if (_table.Kind(i) == SlotKind.Client) _clients[i].Close();
        Upstreams.CloseAll(UpstreamCloseReason.Shutdown);
        AccessLogs.Dispose();   // every buffered line is written before the worker goes
        ErrorLogs.Dispose();
        _host.Dispose();
        Pipes.Dispose();
        _acceptor.Dispose();
    }
}
