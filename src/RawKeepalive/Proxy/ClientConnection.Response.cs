using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>This file: reading the upstream response, rewriting its head for the client, streaming
/// the body (splice included), finishing and aborting the exchange, and its timers.</summary>
public sealed unsafe partial class ClientConnection
{
    private bool _respHeadParsed;
    private bool _respStarted;        // some response byte went to the client
    private bool _respBodyDone;       // the framing says the body ended
    private ResponseBodyMode _respMode;
    private long _respUnscanned;      // Length mode: body bytes not yet received
    private ChunkedDecoder _respChunks;
    private int _respScan;            // end of the bytes in the upstream buffer that may be sent
    private bool _keepClient;
    private bool _upstreamReusable;
    private IovecList _respIov;
    private int _pipe = -1;           // the worker pipe this exchange splices its body through, or -1
    private int _pipeBytes;           // body bytes in that pipe, not yet spliced to the client

    /// <summary>A Content-Length body with at least this much left after the bytes that came with
    /// the head is spliced. Below it, the two splice calls cost more than recv+send of a buffer
    /// (perf/README.md, "splice()": 16 KiB bodies are slower spliced, 64 KiB ones twice as fast).</summary>
    private const long SpliceThreshold = 32 * 1024;

    private void ResetResponseState()
    {
        _respHeadParsed = _respStarted = _respBodyDone = _keepClient = _upstreamReusable = false;
        _respMode = ResponseBodyMode.None;
        _respScan = 0;
        _respIov.Clear();
    }

    /// <summary>One turn of the exchange: request out, response in and out, until nothing can move.</summary>
    private bool PumpExchange()
    {
        bool movedAny = false;
        while (State == ClientState.Exchanging)
        {
            bool moved = false;
            if (_up is null && !_respHeadParsed)
            {
                if (_bodyMode == RequestBodyMode.Buffered && !_bodyComplete) moved = BufferChunkedBody();
                if (!moved) break;
                movedAny = true;
                continue;
            }
            if (!FlushContinue()) break;
            if (_up is { State: UpstreamState.Active } && !_requestSent && !_respBodyDone) moved |= PumpRequest();
            if (State != ClientState.Exchanging) return true;
            if (_respHeadParsed) moved |= PumpResponseOut();
            else if (_up is { State: UpstreamState.Active } && _headSent) moved |= ReadResponseHead();
            if (!moved) break;
            movedAny = true;
        }
        if (State == ClientState.Exchanging) ArmExchangeTimers(movedAny);
        return State != ClientState.Exchanging;
    }

    private bool ReadResponseHead()
    {
        var up = _up!;
        if (!up.ReadReady) return false;
        int size = BufferSize;
        if (up.End == size)
        {
            _w.Log.Write(LogLevel.Error, Number, $"upstream sent too big header while reading response header from upstream{Context(up.Peer)}");
            FailBeforeResponse(502);
            return true;
        }
        byte* ub = _w.Slab.Pointer(up.Buffer);
        var r = SocketInterop.Receive(up.Fd, ub + up.End, size - up.End);
        if (r.IsAgain)
        {
            up.ReadReady = false;
            return false;
        }
        if (r.Value <= 0)
        {
            if (r.Value == 0 && !(up.Reused && up.End == 0))
            {
                _w.Log.Write(LogLevel.Error, Number, $"upstream prematurely closed connection while reading response header from upstream{Context(up.Peer)}");
                FailBeforeResponse(502);
            }
            else UpstreamFailed(r.Value == 0 ? PosixErrors.ECONNRESET : r.Errno, r.Value == 0 ? "upstream closed the reused connection" : "recv() failed", "reading response header from");
            return true;
        }
        up.End += (int)r.Value;
        while (true)
        {
            var p = ResponseParser.Parse(new ReadOnlySpan<byte>(ub, up.End), _resp);
            if (p == ParseResult.Incomplete) return true;
            if (p == ParseResult.Error)
            {
                // nginx's (1.23+) wording for what was wrong; the connection is closed, never pooled.
                _w.Log.Write(LogLevel.Error, Number, $"{_resp.ErrorMessage(new ReadOnlySpan<byte>(ub, up.End))} while reading response header from upstream{Context(up.Peer)}");
                FailBeforeResponse(502);
                return true;
            }
            if (_resp.Status == 101)
            {
                _w.Log.Write(LogLevel.Error, Number, $"upstream sent 101 Switching Protocols, which is not supported yet, while reading response header from upstream{Context(up.Peer)}");
                FailBeforeResponse(502);
                return true;
            }
            if (_resp.Status >= 200) break;
            // An interim 1xx: drop it and parse what follows.
            int rest = up.End - _resp.HeadLength;
            Buffer.MemoryCopy(ub + _resp.HeadLength, ub, size, rest);
            up.End = rest;
            if (rest == 0) return true;
        }
        if (_resp.IgnoredFields != UInt128.Zero)
        {
            // A later Expires line: dropped from the response, and nginx's warning for each.
            var parsed = new ReadOnlySpan<byte>(ub, _resp.HeadLength);
            for (int i = 0; i < _resp.HeaderCount; i++)
            {
                if (_resp.IsIgnored(i))
                    _w.Log.Write(LogLevel.Warn, Number, $"{_resp.IgnoredMessage(parsed, i)} while reading response header from upstream{Context(up.Peer)}");
            }
        }
        BeginResponse();
        return true;
    }

    /// <summary>Decides framing and connection reuse, and builds the client's response head.</summary>
    private void BeginResponse()
    {
        var up = _up!;
        _respHeadParsed = true;
        // An upstream that answers before the whole body is out leaves its connection out of step
        // (as nginx's request_body_sent); FinishExchange checks again for one still sending.
        var framing = ResponseFraming.Decide(_req.Method, _req.VersionMinor, RequestFullySent, ClientMayKeepAlive(), _resp);
        _respMode = framing.Mode;
        _upstreamReusable = framing.UpstreamReusable && up.Pool is not null;
        _keepClient = framing.ClientKeepAlive;
        _respChunks = default;
        _respChunks.Reset();
        _respUnscanned = _resp.ContentLength;
        _respBodyDone = _respMode == ResponseBodyMode.None || (_respMode == ResponseBodyMode.Length && _resp.ContentLength == 0);

        up.Start = _respScan = _resp.HeadLength;
        ScanResponseBody();

        if (!BuildResponseHead(up))
        {
            FailInternally("the response head does not fit its gather list");
            return;
        }
        up.Start = _respScan;
    }

    /// <summary>Status line, our Server and Date, the upstream's kept lines, our framing and Connection
    /// lines, then the body bytes that came with the head, as one gather list. Our lines have a fixed
    /// length that always fits the response area; false only if something did not.</summary>
    private bool BuildResponseHead(UpstreamConnection up)
    {
        _respIov.Init((Iovec*)(Scratch + ResponseIovOffset), IovecCapacity);
        byte* ub = _w.Slab.Pointer(up.Buffer);
        byte* gen = Scratch + ResponseGenOffset;
        var w = new HeadWriter(new Span<byte>(gen, ResponseGenSize));
        if (!ResponseHeadRewriter.TryAppendStatusLine(ref _respIov, _resp, ub) || !TryWriteServerAndDate(ref w) || !_respIov.Add(gen, w.Length))
            return false;
        int tail = w.Length;
        return ResponseHeadRewriter.TryAppendKeptHeaders(ref _respIov, _resp, ub)
            && (_respMode != ResponseBodyMode.ChunkedPassthrough || w.TryAppend(HeaderBytes.TransferEncodingChunked))
            && w.TryAppend(_keepClient ? HeaderBytes.ConnectionKeepAlive : HeaderBytes.ConnectionClose)
            && w.TryAppend("\r\n"u8)
            && _respIov.Add(gen + tail, w.Length - tail)
            && _respIov.Add(ub + up.Start, _respScan - up.Start);
    }

    private bool TryWriteServerAndDate(ref HeadWriter w) =>
        w.TryAppend(HeaderBytes.ServerAndDatePrefix) && w.TryAppend(_w.Date.Bytes) && w.TryAppend("\r\n"u8);

    private bool ClientMayKeepAlive()
    {
        if (!_req.KeepAlive || _w.Stopping) return false;
        var cfg = _location?.Config;
        if (cfg is null) return true;
        return cfg.KeepaliveTimeoutMs > 0 && _requests + 1 < cfg.KeepaliveRequests;
    }

    /// <summary>Marks received body bytes as sendable, up to where the framing says the body ends.</summary>
    private void ScanResponseBody()
    {
        var up = _up!;
        if (_respBodyDone || _respScan == up.End && _respMode != ResponseBodyMode.None) return;
        byte* ub = _w.Slab.Pointer(up.Buffer);
        switch (_respMode)
        {
            case ResponseBodyMode.None:
                if (up.End > _respScan) _upstreamReusable = false;   // bytes a bodiless response should not have
                return;
            case ResponseBodyMode.Length:
                int take = (int)Math.Min(up.End - _respScan, _respUnscanned);
                _respScan += take;
                _respUnscanned -= take;
                _respBodyDone = _respUnscanned == 0;
                break;
            case ResponseBodyMode.ChunkedPassthrough:
            {
                var s = _respChunks.Skip(new ReadOnlySpan<byte>(ub + _respScan, up.End - _respScan), out int consumed);
                _respScan += consumed;
                if (s == ChunkStatus.Done) _respBodyDone = true;
                else if (s == ChunkStatus.Error) MalformedResponseBody();
                break;
            }
            case ResponseBodyMode.Dechunk:
            {
                if (up.Start != _respScan) return;   // the previous data run is not sent yet
                var s = _respChunks.Decode(new ReadOnlySpan<byte>(ub + _respScan, up.End - _respScan), out int consumed, out int ds, out int dl);
                if (s == ChunkStatus.Data)
                {
                    up.Start = _respScan + ds;
                    _respScan = up.Start + dl;
                }
                else
                {
                    _respScan += consumed;
                    up.Start = _respScan;
                    if (s == ChunkStatus.Done) _respBodyDone = true;
                    else if (s == ChunkStatus.Error) MalformedResponseBody();
                }
                break;
            }
            case ResponseBodyMode.UntilClose:
                _respScan = up.End;
                break;
        }
        if (_respBodyDone && up.End > _respScan)
        {
            // More than the framing announced: that connection is out of step, and the client's
            // connection is closed after this response too.
            _upstreamReusable = false;
            _keepClient = false;
        }
    }

    private void MalformedResponseBody()
    {
        _w.Log.Write(LogLevel.Error, Number, $"upstream sent invalid chunked response while reading upstream{Context(_up!.Peer)}");
        _upstreamReusable = false;
        _keepClient = false;
        _respBodyDone = true;
        _abortAfterFlush = true;
    }

    private bool _abortAfterFlush;

    /// <summary>Writes the head, then body bytes as they arrive; reads more when the buffer is drained.</summary>
    private bool PumpResponseOut()
    {
        if (!_respIov.IsEmpty)
        {
            if (!WriteReady) return false;
            if (!Written(SocketInterop.SendVector(Fd, _respIov.Current, _respIov.Remaining), out long sent)) return State != ClientState.Exchanging;
            _respStarted = true;
            _respIov.Advance(sent);
            return true;
        }
        var up = _up;
        if (up is null)
        {
            FinishExchange();
            return true;
        }
        byte* ub = _w.Slab.Pointer(up.Buffer);
        if (up.Start < _respScan)
        {
            if (!WriteReady) return false;
            if (!Written(SocketInterop.Send(Fd, ub + up.Start, _respScan - up.Start), out long sent)) return State != ClientState.Exchanging;
            up.Start += (int)sent;
            if (up.Start == _respScan && _respMode == ResponseBodyMode.Dechunk) ScanResponseBody();
            return true;
        }
        if (_respBodyDone)
        {
            if (_abortAfterFlush) AbortExchange();
            else FinishExchange();
            return true;
        }
        if (up.Start < up.End && _respMode == ResponseBodyMode.Dechunk)
        {
            ScanResponseBody();
            return true;
        }
        if (_pipe >= 0 || StartSplice(up)) return PumpSplice(up);
        if (!up.ReadReady) return false;
        if (up.Start == up.End) up.Start = up.End = _respScan = 0;
        if (up.End == BufferSize) return false;
        var n = SocketInterop.Receive(up.Fd, ub + up.End, BufferSize - up.End);
        if (n.Value > 0)
        {
            up.End += (int)n.Value;
            ScanResponseBody();
            return true;
        }
        if (n.IsAgain)
        {
            up.ReadReady = false;
            return false;
        }
        if (n.Value == 0 && _respMode == ResponseBodyMode.UntilClose)
        {
            _respBodyDone = true;
            _upstreamReusable = false;
            return true;
        }
        // A truncated body must never look complete to the client: close without finishing.
        _w.Log.Write(LogLevel.Error, Number, $"upstream prematurely closed connection while reading upstream{Context(up.Peer)}");
        AbortExchange();
        return true;
    }

    /// <summary>Once the buffered body bytes are out, a long Content-Length body takes a worker pipe
    /// if one is free.</summary>
    private bool StartSplice(UpstreamConnection up)
    {
        if (_respMode != ResponseBodyMode.Length || _respUnscanned < SpliceThreshold || up.Start != up.End || !_location!.Config.ProxySplice) return false;
        _pipe = _w.Pipes.TryTake();
        _pipeBytes = 0;
        return _pipe >= 0;
    }

    /// <summary>The body through the pipe: fill it from the upstream only when it is empty (so an
    /// EAGAIN always means the socket is drained, never that the pipe is full), never past the
    /// body's last byte (what follows belongs to the connection's next response), then empty it
    /// into the client.</summary>
    private bool PumpSplice(UpstreamConnection up)
    {
        if (_pipeBytes > 0)
        {
            if (!WriteReady) return false;
            if (!Written(PipeInterop.Splice(_w.Pipes.ReadFd(_pipe), Fd, _pipeBytes), out long sent)) return State != ClientState.Exchanging;
            _pipeBytes -= (int)sent;
            return true;
        }
        if (_respUnscanned == 0)
        {
            ReturnPipe();
            _respBodyDone = true;
            // The last splice stopped at the body's end, not at EAGAIN: whatever else is in the socket
            // would be read as the next response on this connection (as in ScanResponseBody).
            if (up.ReadReady && SocketInterop.Peek(up.Fd) is { IsAgain: false } next)
            {
                _upstreamReusable = false;
                if (next.Value > 0) _keepClient = false;
            }
            return true;
        }
        if (!up.ReadReady) return false;
        var n = PipeInterop.Splice(up.Fd, _w.Pipes.WriteFd(_pipe), Math.Min(_respUnscanned, _w.Pipes.CapacityOf(_pipe)));
        if (n.Value > 0)
        {
            _pipeBytes = (int)n.Value;
            _respUnscanned -= n.Value;
            _w.Pipes.SplicedBytes += n.Value;
            return true;
        }
        if (n.IsAgain)
        {
            up.ReadReady = false;
            return false;
        }
        string what = n.Value == 0 ? "upstream prematurely closed connection" : $"splice() failed ({n.Errno}: {PosixErrors.Describe(n.Errno)})";
        _w.Log.Write(LogLevel.Error, Number, $"{what} while reading upstream{Context(up.Peer)}");
        AbortExchange();
        return true;
    }

    private void ReturnPipe()
    {
        if (_pipe < 0) return;
        _w.Pipes.Return(_pipe, empty: _pipeBytes == 0);
        _pipe = -1;
        _pipeBytes = 0;
    }

    /// <summary>The outcome of a write to the client: true with the bytes written; false when the
    /// socket is full (write readiness cleared) or the client is gone (the exchange is aborted).</summary>
    private bool Written(PosixResult r, out long written)
    {
        written = r.Value;
        if (!r.IsError) return true;
        if (r.IsAgain) WriteReady = false;
        else
        {
            _w.Log.Write(LogLevel.Info, Number, $"writev() failed ({r.Errno}: {PosixErrors.Describe(r.Errno)}) while sending to client{Context()}");
            AbortExchange();
        }
        return false;
    }

    /// <summary>The response is out: the upstream connection goes back to its pool when the
    /// exchange was clean, and the client waits for its next request or closes.</summary>
    private void FinishExchange()
    {
        if (_up is not null) ReleaseUpstream(_upstreamReusable && RequestFullySent && _up.End == _respScan);
        ReleaseScratch();
        _requests++;
        if (!_keepClient || !_requestSent && _bodyMode != RequestBodyMode.None && !SkipUnsentBody())
        {
            bool clientMaySend = ReadReady || _bodyMode != RequestBodyMode.None && !_bodyComplete || _end > _bodyScan;
            if (clientMaySend) LingerThenClose();   // don't let the close reset what it is still sending
            else Close();
            return;
        }
        _start = _bodyScan > _bodyPos ? _bodyScan : _bodyPos;
        WaitForNextRequest();
    }

    /// <summary>After a local response, a body already fully buffered is skipped so the connection can be kept.</summary>
    private bool SkipUnsentBody()
    {
        if (!_bodyComplete) return false;
        _bodyPos = _bodyScan;
        return true;
    }

    /// <summary>Ends the exchange's hold on its upstream connection: back to the pool when the exchange
    /// left it reusable and its limits allow, else closed with <paramref name="failure"/> (when not
    /// <paramref name="reusable"/>) or the limit that retired it.</summary>
    private void ReleaseUpstream(bool reusable, UpstreamCloseReason failure = UpstreamCloseReason.NotReusable)
    {
        var up = _up!;
        _up = null;
        ReturnPipe();   // the body was spliced from this connection: the exchange is over
        _w.Upstreams.Release(up, reusable, failure, _w.Stopping, _w.NowMs);
    }

    private void ReleaseScratch()
    {
        ReturnLarge(ref _largeRequestGen);
        ReturnLarge(ref _largeResponseGen);
        if (_scratch < 0) return;
        _w.Slab.Return(_scratch);
        _scratch = -1;
    }

    /// <summary>Something went wrong after the client saw part of the response (or can't be told
    /// cleanly): close both sides, never let a partial response look complete.</summary>
    private void AbortExchange()
    {
        _abortAfterFlush = false;
        Close();
    }

    private void FailBeforeResponse(int status)
    {
        ReleaseUpstream(reusable: false, UpstreamCloseReason.ErrorMidExchange);
        if (_respStarted) AbortExchange();
        else RespondLocal(status, close: !_bodyComplete);
    }

    private void OnClientTimeout()
    {
        string phase = _respHeadParsed ? "sending to client" : "reading client request body";
        _w.Log.Write(LogLevel.Info, Number, $"client timed out (110: Connection timed out) while {phase}{Context()}");
        AbortExchange();
    }

    /// <summary>The upstream connection's timer fired: connect, send or read timeout.</summary>
    public void OnUpstreamTimeout()
    {
        var up = _up!;
        string phase = up.State == UpstreamState.Connecting ? "connecting to" : !_requestSent ? "sending request to" : "reading response header from";
        if (_respHeadParsed)
        {
            _w.Log.Write(LogLevel.Error, Number, $"upstream timed out (110: Connection timed out) while reading upstream{Context(up.Peer)}");
            AbortExchange();
            return;
        }
        UpstreamFailed(PosixErrors.ETIMEDOUT, "upstream timed out", phase, timedOut: true);
        Advance();
    }

    /// <summary>The upstream connection finished connecting (or failed to).</summary>
    public void OnUpstreamConnected(int error)
    {
        if (error != 0) UpstreamFailed(error, "connect() failed", "connecting to");
        else
        {
            _up!.State = UpstreamState.Active;
            _w.Timers.Cancel(_up.Slot);
        }
        Advance();
    }

    /// <summary>nginx's timeouts run between two successive operations: re-armed on progress, for
    /// whichever side the exchange is waiting on.</summary>
    private void ArmExchangeTimers(bool progressed)
    {
        var up = _up;
        var cfg = _location?.Config;
        if (cfg is null) return;
        bool waitClientWrite = (!_respIov.IsEmpty || up is not null && up.Start < _respScan || _pipeBytes > 0) && !WriteReady;
        bool waitClientRead = !_bodyComplete && !ReadReady && (up is null || _headSent && _bodyPos == _bodyScan);
        if (waitClientWrite) { if (progressed || !_w.Timers.IsSet(Slot)) _w.Timers.Set(Slot, _w.NowMs + cfg.SendTimeoutMs); }
        else if (waitClientRead) { if (progressed || !_w.Timers.IsSet(Slot)) _w.Timers.Set(Slot, _w.NowMs + cfg.ClientBodyTimeoutMs); }
        else _w.Timers.Cancel(Slot);

        if (up is null || up.State == UpstreamState.Connecting) return;
        bool waitUpWrite = !_requestSent && !up.WriteReady;
        bool waitUpRead = _headSent && !up.ReadReady && !_respBodyDone && !waitClientWrite;
        if (waitUpWrite) { if (progressed || !_w.Timers.IsSet(up.Slot)) _w.Timers.Set(up.Slot, _w.NowMs + cfg.ProxySendTimeoutMs); }
        else if (waitUpRead) { if (progressed || !_w.Timers.IsSet(up.Slot)) _w.Timers.Set(up.Slot, _w.NowMs + cfg.ProxyReadTimeoutMs); }
        else _w.Timers.Cancel(up.Slot);
    }
}
