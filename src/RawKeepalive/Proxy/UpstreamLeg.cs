using System.Diagnostics;
using RawKeepalive.Http;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>The proxy content handler's side of an exchange: its tries upstream. Takes an idle pooled
/// connection or opens one (through <see cref="UpstreamConnections"/>), builds the request head's
/// gather list, pumps the request body to it, reads the response head (<see cref="ResponseHeadReader"/>),
/// applies the retry policy (<see cref="UpstreamTries"/>) when a try fails, and releases the
/// connection when the exchange is done with it. An upstream connection knows it only as its
/// <see cref="IUpstreamOwner"/>.</summary>
public sealed unsafe class UpstreamLeg : IUpstreamOwner, IQueuedRequest
{
    private readonly Worker _w;
    private readonly ClientConnection _client;
    private readonly Exchange _x;
    private readonly ResponseHeadReader _head;
    private UpstreamTries _tries;
    /// <summary>Bytes received on this try before the response head was parsed (the body relay counts the
    /// rest). Any at all, a 1xx included, means the exchange has begun: a failure is then no longer a stale
    /// connection or a reason to try the next peer.</summary>
    private long _received;
    /// <summary>When the current try began (Stopwatch ticks): its connect, header and response times count from here.</summary>
    private long _tryStart;
    /// <summary>The upstream queue this exchange waits in (every peer at max_conns), or null, and since when (a zone serves the longest-waiting first).</summary>
    private ConnectionQueue? _queue;
    private long _queuedMs;

    public UpstreamLeg(Worker worker, ClientConnection client, Exchange exchange)
    {
        _w = worker;
        _client = client;
        _x = exchange;
        _head = new ResponseHeadReader(worker, client, exchange, this);
    }

    public ClientConnection Client => _client;

    /// <summary>The upstream connection of the current try, or null.</summary>
    public UpstreamConnection? Connection { get; private set; }

    public void Reset() => (Connection, _queue) = (null, null);

    /// <summary>Waiting in its upstream's queue for a connection.</summary>
    public bool Queued => _queue is not null;

    /// <summary>The exchange ends (its client went away): it leaves the queue it waits in.</summary>
    public void LeaveQueue()
    {
        _queue?.Remove(_client.Slot);
        _queue = null;
    }

    /// <summary>The request's generated lines, 100-continue, then the first try (after the whole body,
    /// for a chunked body to an HTTP/1.0 upstream).</summary>
    public void Start(LocationRuntime location, UpstreamGroup group)
    {
        var body = _x.RequestBody;
        if (body.Mode == RequestBodyMode.ChunkedPassthrough && location.UpstreamHttp10)
            body.SwitchToBuffered();   // de-chunked from the start: the pass-through scan is forgotten
        if (!_x.Generated.PrepareRequestHeaders()) return;
        body.ExpectContinue(_x.Request, _client.Stream, ref _client.WriteReady);
        _tries.Start(group, location.Config.Proxy.NextUpstreamTries);
        if (body.Mode != RequestBodyMode.Buffered) Connect(fresh: false, first: true);
    }

    /// <summary>Takes an idle pooled connection to the current peer, or opens a new one; on an
    /// immediate connect failure moves on to the next peer. A peer at max_conns is skipped; when every
    /// peer is, the request waits in the upstream's queue, or gets 502 without one. The first try of a
    /// request joins the queue behind those already waiting.</summary>
    private void Connect(bool fresh, bool first = false) => TryConnect(fresh, first, resuming: false);

    /// <summary><see cref="Connect"/>; false only when <paramref name="resuming"/> from the queue and
    /// there is still no connection to be had (nothing was changed).</summary>
    private bool TryConnect(bool fresh, bool first, bool resuming)
    {
        var location = _x.Location!;
        var group = location.Group!;
        var upstreams = _w.Upstreams;
        if (first && group.Queue is { Count: > 0 } waiting)
        {
            Enqueue(group, waiting);
            return true;
        }
        long since = resuming ? _queuedMs : _w.NowMs;
        for (int skips = 0; ; )
        {
            var peer = group.Peers[_tries.Peer];
            if (!fresh && location.Pool is { } pool && upstreams.TryTakeIdle(pool, peer, HttpMethods.IsIdempotent(_x.Request.Method), out var idle))
            {
                Attach(idle, reused: true);
                break;
            }
            if (!upstreams.TryReserve(location.Pool, peer, since))
            {
                // max_conns: a peer at its limit is skipped by peer selection (no try spent; bounded, as a zone's counts move under it); none left: the queue, or nginx's "no live upstreams"
                if (++skips < group.Peers.Length && _tries.SkipToPeerBelowLimit(group, since)) continue;
                if (resuming) return false;
                if (group.Queue is { } queue) Enqueue(group, queue);
                else FailBeforeConnect(group, "no live upstreams");
                return true;
            }
            skips = 0;
            var opened = upstreams.Open(peer, group, location.Pool, _w.NowMs, out int errno, out bool outOfSlots);
            if (opened is not null)
            {
                Attach(opened, reused: false);
                break;
            }
            if (outOfSlots) _x.Log.Write(LogLevel.Alert, _client.Number, $"{_w.Config.WorkerConnections} worker_connections are not enough");
            LogError(Describe("connect() failed", errno), UpstreamPhase.Connecting, peer);
            if (!_tries.TryNextPeer(group.Peers.Length))
            {
                _x.Local.Respond(502, close: !_x.RequestBody.Complete);
                return true;
            }
        }
        var up = Connection!;
        if (up.Buffer < 0)
        {
            _x.Log.Write(LogLevel.Alert, _client.Number, "no free I/O buffers for the upstream connection");
            _x.Local.Respond(502, close: true);
            return true;
        }
        if (!BuildRequestHead()) return true;
        if (up.State == UpstreamState.Connecting)
            _w.Timers.Set(up.Slot, _w.NowMs + location.Config.Proxy.ConnectTimeoutMs);
        return true;
    }

    /// <summary>Joins <paramref name="queue"/> (at its tail), or answers 502 when it is full.</summary>
    private void Enqueue(UpstreamGroup group, ConnectionQueue queue)
    {
        if (queue.Enqueue(_client.Slot, this, _w.NowMs)) (_queue, _queuedMs) = (queue, _w.NowMs);
        else FailBeforeConnect(group, "upstream queue is full");
    }

    /// <summary>No connection for this request: the error line names the upstream group, as nginx's does, and
    /// the client gets 502. The log variables see a try to the group itself: $upstream_addr is its name and
    /// $upstream_status 502, as nginx records a request that found no live upstream.</summary>
    private void FailBeforeConnect(UpstreamGroup group, string reason)
    {
        _x.Record.BeginTry(group.NameBytes, reused: false, connectionRequests: 0, _w.NowMs);
        _x.Record.TryEnded(_w.NowMs, failedStatus: 502);
        _x.Log.Write(LogLevel.Error, _client.Number, $"{reason} while connecting to upstream{_x.Context(group.Config.Name)}");
        _x.Local.Respond(502, close: !_x.RequestBody.Complete);
    }

    /// <summary>A connection of its group was released or closed: it tries again from its current peer.
    /// Runs after the loop's batch, outside its fault handling: a fault costs this client only.</summary>
    bool IQueuedRequest.TryResume()
    {
        var queue = _queue!;
        _queue = null;
        try
        {
            if (!TryConnect(fresh: false, first: false, resuming: true))
            {
                _queue = queue;
                return false;
            }
            _client.Advance();
        }
        catch (Exception e)
        {
            _w.Fault(_client.Slot, e);
        }
        return true;
    }

    /// <summary>It waited queue's timeout=: 502.</summary>
    void IQueuedRequest.OnQueueTimeout()
    {
        _queue = null;
        try
        {
            FailBeforeConnect(_x.Location!.Group!, "upstream queue timed out");
            _client.Advance();
        }
        catch (Exception e)
        {
            _w.Fault(_client.Slot, e);
        }
    }

    private void Attach(UpstreamConnection up, bool reused)
    {
        Connection = up;
        _received = 0;
        _w.Upstreams.Attach(up, this, reused);
        _x.Record.BeginTry(up.Peer.NameBytes, reused, up.Requests + 1, _w.NowMs);
        if (up.State == UpstreamState.Active) _x.Record.Connected(_w.NowMs);
        _tryStart = Stopwatch.GetTimestamp();
        UpstreamStats.Sent(up);
        if (!reused && up.State == UpstreamState.Active) UpstreamStats.Connected(up, 0);   // connect() finished at once
    }

    private long TryMicroseconds => Stopwatch.GetElapsedTime(_tryStart).Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>Request line and kept client headers (RequestHeadRewriter), the generated lines, the
    /// framing line and blank line, and whatever body bytes are already buffered, as one gather list.
    /// False when it could not be built (answered 500): nothing was sent.</summary>
    private bool BuildRequestHead()
    {
        var body = _x.RequestBody;
        var generated = _x.Generated;
        ref var iov = ref body.HeadIov;
        generated.InitRequestIov(ref iov);
        var framing = generated.RequestFramingWriter();
        int headBodyBytes = body.TakeHeadBody();
        bool built = RequestHeadRewriter.TryAppend(ref iov, _x.Request, _x.HeadBase, _x.Location!)
            && iov.Add(generated.RequestLines, generated.RequestLinesLength)
            && generated.TryWriteRequestFraming(ref framing)
            && iov.Add(generated.RequestFramingArea, framing.Length)
            && iov.Add(_client.BufferPointer + body.Pos, headBodyBytes);
        if (!built)
        {
            generated.FailInternally("the upstream request head does not fit its gather list");
            return false;
        }
        body.HeadQueued();
        return true;
    }

    /// <summary>Sends the head, then streams the body; true when something moved.</summary>
    public bool PumpRequest()
    {
        var up = Connection!;
        var body = _x.RequestBody;
        var outcome = body.Pump(up, _client.BufferPointer, _client.BufferSize, ref _client.End, _client.Stream, ref _client.ReadReady);
        if ((outcome & RequestBodyOutcome.BodyRestarted) != 0) _x.BodyRestarted(outcome);
        switch (outcome & RequestBodyOutcome.StepMask)
        {
            case RequestBodyOutcome.Waiting:
                return false;
            case RequestBodyOutcome.Moved:
                return true;
            case RequestBodyOutcome.UpstreamWriteFailed:
                Failed(Describe(body.FailedCall, body.Errno), UpstreamPhase.SendingRequest);
                return Connection != up;
            case RequestBodyOutcome.ClientClosed:
                _x.Log.Write(LogLevel.Info, _client.Number, $"client prematurely closed connection while sending request body{_x.Context()}");
                _x.Abort();
                return true;
            default:   // InvalidChunked, TooLarge: the state moved either way
                _x.RejectBody(outcome & RequestBodyOutcome.StepMask);
                return true;
        }
    }

    /// <summary>A chunked body for an HTTP/1.0 upstream is read whole and de-chunked first, bounded by client_max_body_size.</summary>
    public bool BufferChunkedBody()
    {
        switch (_x.RequestBody.BufferChunked(_client.BufferPointer, _client.BufferSize, ref _client.End, _client.Stream, ref _client.ReadReady))
        {
            case RequestBodyOutcome.Buffered:
                Connect(fresh: false, first: true);
                return true;
            case RequestBodyOutcome.InvalidChunked:
                _x.Local.Respond(400, close: true);
                return true;
            case RequestBodyOutcome.TooLarge:
                _x.Log.Write(LogLevel.Error, _client.Number, $"client intended to send too large chunked body{_x.Context()}");
                _x.Local.Respond(413, close: true);
                return true;
            case RequestBodyOutcome.ClientClosed:
                _client.Close();
                return false;
            default:   // Waiting
                return false;
        }
    }

    /// <summary>Reads the response head; true when something moved.</summary>
    public bool ReadResponseHead() => _head.Read(Connection!);

    /// <summary><paramref name="bytes"/> of a response (a 1xx included) arrived on this try.</summary>
    public void Received(long bytes) => _received += bytes;

    /// <summary>The upstream's final response head was parsed: its status and header time are counted.</summary>
    public void HeaderReceived(int status) => UpstreamStats.Answered(Connection!, status, TryMicroseconds);

    public bool HasResponseBegun => _received > 0;

    /// <summary>A try failed: the retry policy decides between the same peer on a fresh connection
    /// (a stale pooled one), the next peer, or the client's 502/504.</summary>
    /// <param name="reason">nginx's words for what failed, errno included ("connect() failed (111: Connection refused)").</param>
    public void Failed(string reason, UpstreamPhase phase, bool timedOut = false)
    {
        var up = Connection!;
        var peer = up.Peer;
        var location = _x.Location!;
        bool beforeResponse = !HasResponseBegun;
        bool replay = HttpMethods.IsIdempotent(_x.Request.Method) || location.Config.Proxy.NextUpstreamNonIdempotent;
        var failure = new UpstreamFailure(phase, timedOut, up.Reused, beforeResponse, replay && _x.Replayable);
        bool allowed = timedOut ? location.Config.Proxy.NextUpstreamTimeout : location.Config.Proxy.NextUpstreamError;
        Release(reusable: false, UpstreamCloseReason.ErrorMidExchange, timedOut ? 504 : 502);

        var decision = _tries.Decide(failure, allowed, location.Group!.Peers.Length);
        if (decision == RetryDecision.FreshConnection)
        {
            up.Group.Stats.CountStaleRetry();
            peer.Stats.CountStaleRetry();
            _x.RequestBody.Rewind();   // a de-chunked body is all in memory: it goes again whole
            _x.Log.Write(LogLevel.Info, _client.Number, $"{reason} on a reused keepalive connection to {peer.Name}, retrying on a new connection");
            Connect(fresh: true);
            return;
        }
        LogError(reason, phase, peer);
        if (decision == RetryDecision.NextPeer)
        {
            _x.RequestBody.Rewind();
            Connect(fresh: false);
            return;
        }
        if (_x.ResponseStarted) _x.Abort();
        else _x.Local.Respond(timedOut ? 504 : 502, close: !_x.RequestBody.Complete || _x.RequestBody.Pos < _x.RequestBody.Scan);
    }

    /// <summary>The response head was unusable (logged by the caller): the connection is closed and the
    /// client answered <paramref name="status"/>, no retry.</summary>
    public void FailBeforeResponse(int status)
    {
        Release(reusable: false, UpstreamCloseReason.ErrorMidExchange, status);
        if (_x.ResponseStarted) _x.Abort();
        else _x.Local.Respond(status, close: !_x.RequestBody.Complete);
    }

    private void LogError(string reason, UpstreamPhase phase, UpstreamPeer peer) =>
        _x.Log.Write(LogLevel.Error, _client.Number, $"{reason} while {UpstreamTries.Describe(phase)}{_x.Context(peer)}");

    /// <summary>"what (errno: description)", as nginx words a failed system call.</summary>
    public static string Describe(string what, int errno) => $"{what} ({errno}: {PosixErrors.Describe(errno)})";

    /// <summary>Ends the exchange's hold on its upstream connection: back to the pool when the exchange
    /// left it reusable and its limits allow, else closed with <paramref name="failure"/> (when not
    /// <paramref name="reusable"/>) or the limit that retired it.</summary>
    /// <param name="failedStatus">For a try that failed before a response: nginx's 502 (error) or 504 (timeout) in $upstream_status.</param>
    public void Release(bool reusable, UpstreamCloseReason failure = UpstreamCloseReason.NotReusable, int failedStatus = 0)
    {
        var up = Connection!;
        Connection = null;
        EndTry(failedStatus);
        UpstreamStats.TryEnded(up, TryMicroseconds);
        _x.ResponseBody.ReturnPipe();   // the body was spliced from this connection: the exchange is over
        _w.Upstreams.Release(up, reusable, failure, _w.Stopping, _w.NowMs);
    }

    /// <summary>The try's figures for the $upstream_* variables: bytes each way, the body's length, its time.</summary>
    private void EndTry(int failedStatus)
    {
        ref var t = ref _x.Record.Current;
        var body = _x.ResponseBody;
        t.BytesSent = _x.RequestBody.SentBytes;
        t.BytesReceived = _received + (_x.ResponseHeadParsed ? body.ReadAfterHead : 0);
        if (_x.ResponseHeadParsed) t.ResponseLength = body.BodyReceived;
        _x.Record.TryEnded(_w.NowMs, failedStatus);
    }

    /// <summary>Its upstream connection became readable or writable: the exchange moves on.</summary>
    void IUpstreamOwner.OnUpstreamReady() => _client.Advance();

    /// <summary>The upstream connection finished connecting (or failed to).</summary>
    void IUpstreamOwner.OnUpstreamConnected(int error)
    {
        var up = Connection!;
        if (error != 0) Failed(Describe("connect() failed", error), UpstreamPhase.Connecting);
        else
        {
            up.State = UpstreamState.Active;
            _x.Record.Connected(_w.NowMs);
            _w.Timers.Cancel(up.Slot);
            UpstreamStats.Connected(up, TryMicroseconds);
        }
        _client.Advance();
    }

    /// <summary>The upstream connection's timer fired: connect, send or read timeout.</summary>
    void IUpstreamOwner.OnUpstreamTimeout()
    {
        var up = Connection!;
        if (_x.ResponseHeadParsed)
        {
            _x.Log.Write(LogLevel.Error, _client.Number, $"upstream timed out (110: Connection timed out) while reading upstream{_x.Context(up.Peer)}");
            _x.Abort();
            return;
        }
        var phase = up.State == UpstreamState.Connecting ? UpstreamPhase.Connecting
            : !_x.RequestBody.RequestSent ? UpstreamPhase.SendingRequest : UpstreamPhase.ReadingResponseHeader;
        Failed(Describe("upstream timed out", PosixErrors.ETIMEDOUT), phase, timedOut: true);
        _client.Advance();
    }
}
