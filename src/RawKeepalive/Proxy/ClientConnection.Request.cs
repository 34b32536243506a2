using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Upstream;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;

namespace RawKeepalive.Proxy;

/// <summary>How the request body travels upstream.</summary>
public enum RequestBodyMode : byte
{
    None,
    Length,
    /// <summary>Chunked from the client, forwarded unchanged to an HTTP/1.1 upstream.</summary>
    ChunkedPassthrough,
    /// <summary>Chunked from the client to an HTTP/1.0 upstream: read whole, sent with Content-Length (as nginx).</summary>
    Buffered,
}

/// <summary>This file: starting an exchange, choosing and connecting the upstream, sending the
/// request (head as one gather write over the receive buffer, body streamed), and retries.</summary>
public sealed unsafe partial class ClientConnection
{
    private ServerRuntime _server = null!;
    private LocationRuntime? _location;
    private UpstreamConnection? _up;
    private int _scratch = -1;

    // Request side of the exchange. Offsets are into the client buffer.
    private int _headStart;
    private int _bodyStart;          // first body byte, while the head is still buffered (replays start here)
    private int _bodyPos;            // next request body byte to forward (or to skip)
    private int _bodyScan;           // end of the bytes known to belong to the body
    private long _bodyUnscanned;     // Length mode: body bytes not yet seen
    private RequestBodyMode _bodyMode;
    private ChunkedDecoder _reqChunks;
    private bool _bodyComplete;      // every body byte has been received (not necessarily sent)
    private bool _headSent, _requestSent;
    private int _headBodyBytes;      // body bytes that went out with the head's gather write
    private bool _headBuffered;      // the head is still in the buffer: the request can be replayed, the log can quote it
    private bool _staleRetried;
    private int _triesLeft;
    private int _peer;
    private byte[]? _bufferedBody;   // de-chunked body for an HTTP/1.0 upstream; grows by doubling
    private int _bufferedLength;
    private int _bufferedBodySent;
    private IovecList _reqIov;

    private byte* HeadBase => BufferPointer + _headStart;

    /// <summary>A whole request head is buffered: the exchange runs its phases, route → access →
    /// content; the log phase is FinishExchange's.</summary>
    private void StartExchange()
    {
        State = ClientState.Exchanging;
        _w.Counters.Enter(ref Phase, ClientPhase.Writing);
        _w.Timers.Cancel(Slot);
        _headStart = _start;
        _bodyStart = _bodyPos = _start + _req.HeadLength;
        _bodyScan = _bodyPos;
        _up = null;
        _headSent = _requestSent = _bodyComplete = _staleRetried = false;
        _headBodyBytes = 0;
        _headBuffered = true;
        _bufferedBody = null;
        _bufferedLength = _bufferedBodySent = 0;
        ResetResponseState();
        _scratch = _w.Slab.Rent();
        if (_scratch < 0)
        {
            _w.Log.Write(LogLevel.Alert, Number, "no free I/O buffers, closing client connection");
            Close();
            return;
        }

        if (RoutePhase() && AccessPhase()) ContentPhase();
    }

    /// <summary>Finds the server and location, and sets up the request body's framing. False when the
    /// request was answered (a malformed body, OPTIONS *, no location, a body over client_max_body_size).</summary>
    private bool RoutePhase()
    {
        _server = Listener.Select(HostForServerName());
        var path = _req.Path.Of(new ReadOnlySpan<byte>(HeadBase, _req.HeadLength));
        _location = _server.Match(path.IsEmpty ? "/"u8 : path);

        if (!StartRequestBody()) return false;
        if (_req.IsAsteriskOptions)
        {
            RespondOptionsAsterisk();
            return false;
        }
        if (_location is null)
        {
            RespondLocal(404, close: false);
            return false;
        }
        var limit = _location.Config.ClientMaxBodySize;
        if (limit > 0 && _req.ContentLength > limit)
        {
            _w.Log.Write(LogLevel.Error, Number, $"client intended to send too large body: {_req.ContentLength} bytes{Context()}");
            RespondLocal(413, close: true);
            return false;
        }
        return true;
    }

    /// <summary>allow/deny: false when the client was refused (403).</summary>
    private bool AccessPhase()
    {
        if (_location!.Config.Access is not { } access || RawKeepalive.Config.AccessRule.Allows(access, PeerAddress)) return true;
        RespondForbidden();
        return false;
    }

    /// <summary>The location's content: return, stub_status, or proxying to its upstream (404 without one).</summary>
    private void ContentPhase()
    {
        var location = _location!;
        if (location.Config.Return is { } ret) RespondReturn(ret);
        else if (location.Config.StubStatus) RespondStubStatus();
        else if (location.Group is null) RespondLocal(404, close: false);
        else StartProxying(location, location.Group);
    }

    /// <summary>The proxy content handler: the request's generated lines, 100-continue, then the first
    /// upstream try (after the whole body, for a chunked body to an HTTP/1.0 upstream).</summary>
    private void StartProxying(LocationRuntime location, UpstreamGroup group)
    {
        if (_bodyMode == RequestBodyMode.ChunkedPassthrough && location.UpstreamHttp10)
        {
            // De-chunked from the start: the pass-through scan above is forgotten.
            _bodyMode = RequestBodyMode.Buffered;
            _reqChunks = ChunkedDecoder.ForRequest();
            _bodyScan = _bodyPos;
            _bodyComplete = false;
        }
        if (!PrepareRequestHeaders()) return;
        SendContinueIfExpected();
        _triesLeft = group.Peers.Length;
        if (location.Config.ProxyNextUpstreamTries > 0) _triesLeft = Math.Min(_triesLeft, location.Config.ProxyNextUpstreamTries);
        _peer = group.NextPeer();
        if (_bodyMode != RequestBodyMode.Buffered) ConnectUpstream(fresh: false);
    }

    /// <summary>$host rules for choosing the server block: the Host without its port, compared case-insensitively by the server.</summary>
    private ReadOnlySpan<byte> HostForServerName()
    {
        if (!_req.HasHost) return default;
        var host = _req.Host.Of(new ReadOnlySpan<byte>(HeadBase, _req.HeadLength));
        if (host.Length > 0 && host[0] != (byte)'[')
        {
            int colon = host.LastIndexOf((byte)':');
            if (colon >= 0) host = host[..colon];
        }
        return host;
    }

    /// <summary>Sets up body framing and scans what is already buffered. False when the request was answered.</summary>
    private bool StartRequestBody()
    {
        _reqChunks = ChunkedDecoder.ForRequest();
        if (_req.Chunked)
        {
            _bodyMode = RequestBodyMode.ChunkedPassthrough;
            _bodyUnscanned = 0;
        }
        else if (_req.ContentLength > 0)
        {
            _bodyMode = RequestBodyMode.Length;
            _bodyUnscanned = _req.ContentLength;
        }
        else
        {
            _bodyMode = RequestBodyMode.None;
            _bodyComplete = true;
            return true;
        }
        return ScanRequestBody();
    }

    /// <summary>Marks newly received bytes as body up to the body's end. False when the body is malformed (answered 400).</summary>
    private bool ScanRequestBody()
    {
        if (_bodyComplete) return true;
        if (_bodyMode == RequestBodyMode.Length)
        {
            int take = (int)Math.Min(_end - _bodyScan, _bodyUnscanned);
            _bodyScan += take;
            _bodyUnscanned -= take;
            _bodyComplete = _bodyUnscanned == 0;
            return true;
        }
        var status = _reqChunks.Skip(new ReadOnlySpan<byte>(BufferPointer + _bodyScan, _end - _bodyScan), out int consumed);
        _bodyScan += consumed;
        if (status == ChunkStatus.Done) _bodyComplete = true;
        if (status == ChunkStatus.Error)
        {
            _w.Log.Write(LogLevel.Info, Number, $"client sent invalid chunked body{Context()}");
            RejectBody(400);
            return false;
        }
        long limit = _location?.Config.ClientMaxBodySize ?? 0;
        if (limit > 0 && _reqChunks.AnnouncedBytes > limit)
        {
            _w.Log.Write(LogLevel.Error, Number, $"client intended to send too large chunked body: {_reqChunks.AnnouncedBytes}+ bytes{Context()}");
            RejectBody(413);
            return false;
        }
        return true;
    }

    /// <summary>A body found bad while it streams: answered if the client has seen no response yet
    /// (the upstream connection, which got part of it, is closed), else the exchange is aborted.</summary>
    private void RejectBody(int status)
    {
        if (_respStarted) AbortExchange();
        else RespondLocal(status, close: true);
    }

    private static readonly byte[] Continue100 = PinnedBytes.Ascii("HTTP/1.1 100 Continue\r\n\r\n");
    private int _continueSent = -1;   // -1: none owed; else bytes of "100 Continue" already sent

    /// <summary>nginx answers "Expect: 100-continue" from an HTTP/1.1 client before reading the body.</summary>
    private void SendContinueIfExpected()
    {
        _continueSent = -1;
        if (!_req.ExpectContinue || _req.VersionMinor != 1 || _bodyComplete || _bodyScan > _bodyPos) return;
        _continueSent = 0;
        FlushContinue();
    }

    private bool FlushContinue()
    {
        if (_continueSent < 0 || _continueSent == Continue100.Length) return true;
        var r = SocketInterop.Send(Fd, PinnedBytes.Address(Continue100) + _continueSent, Continue100.Length - _continueSent);
        if (r.Value > 0) _continueSent += (int)r.Value;
        else if (r.IsAgain) WriteReady = false;
        return _continueSent == Continue100.Length;
    }

    /// <summary>Takes an idle pooled connection to the current peer, or opens a new one; on an
    /// immediate connect failure moves on to the next peer.</summary>
    private void ConnectUpstream(bool fresh)
    {
        var location = _location!;
        var group = location.Group!;
        var upstreams = _w.Upstreams;
        while (true)
        {
            var peer = group.Peers[_peer];
            if (!fresh && location.Pool is { } pool && upstreams.TryTakeIdle(pool, peer, HttpMethods.IsIdempotent(_req.Method), _w.NowMs, out var idle))
            {
                Attach(idle, reused: true);
                _w.Counters.UpstreamReused(group);
                break;
            }
            var opened = upstreams.Open(peer, group, location.Pool, _w.NowMs, out int errno, out bool outOfSlots);
            if (opened is not null)
            {
                Attach(opened, reused: false);
                _w.Counters.UpstreamOpened(group);
                break;
            }
            if (outOfSlots) _w.Log.Write(LogLevel.Alert, Number, $"{_w.Config.WorkerConnections} worker_connections are not enough");
            LogUpstreamError(errno, "connect() failed", "connecting to", peer);
            if (!NextPeer())
            {
                RespondLocal(502, close: !_bodyComplete);
                return;
            }
        }
        if (_up!.Buffer < 0)
        {
            _w.Log.Write(LogLevel.Alert, Number, "no free I/O buffers for the upstream connection");
            RespondLocal(502, close: true);
            return;
        }
        if (!BuildRequestHead()) return;
        if (_up.State == UpstreamState.Connecting)
            _w.Timers.Set(_up.Slot, _w.NowMs + location.Config.ProxyConnectTimeoutMs);
    }

    private void Attach(UpstreamConnection up, bool reused)
    {
        _up = up;
        _w.Upstreams.Attach(up, this, reused);
    }

    private bool NextPeer()
    {
        if (--_triesLeft <= 0) return false;
        _peer = _peer + 1 == _location!.Group!.Peers.Length ? 0 : _peer + 1;
        return true;
    }

    /// <summary>Request line and kept client headers (RequestHeadRewriter), the generated lines, the
    /// framing line and blank line, and whatever body bytes are already buffered, as one gather list.
    /// False when it could not be built (answered 500): nothing was sent.</summary>
    private bool BuildRequestHead()
    {
        _reqIov.Init((Iovec*)(Scratch + RequestIovOffset), IovecCapacity);
        var framing = new HeadWriter(new Span<byte>(Scratch + RequestFramingOffset, RequestFramingSize));
        _headBodyBytes = _bodyMode is RequestBodyMode.Length or RequestBodyMode.ChunkedPassthrough ? _bodyScan - _bodyPos : 0;
        bool built = RequestHeadRewriter.TryAppend(ref _reqIov, _req, HeadBase, _location!)
            && _reqIov.Add(_reqGen, _reqGenLength)
            && TryWriteRequestFraming(ref framing)
            && _reqIov.Add(Scratch + RequestFramingOffset, framing.Length)
            && _reqIov.Add(BufferPointer + _bodyPos, _headBodyBytes);
        if (!built)
        {
            FailInternally("the upstream request head does not fit its gather list");
            return false;
        }
        _headSent = _requestSent = false;
        return true;
    }

    /// <summary>Sends the head, then streams the body; true when something moved.</summary>
    private bool PumpRequest()
    {
        var up = _up!;
        if (!_headSent)
        {
            if (!up.WriteReady) return false;
            if (!Written(SocketInterop.SendVector(up.Fd, _reqIov.Current, _reqIov.Remaining), up, "writev() failed", out long n)) return _up != up;
            _reqIov.Advance(n);
            if (!_reqIov.IsEmpty) return true;
            _headSent = true;
            _bodyPos += _headBodyBytes;
            if (_bodyMode == RequestBodyMode.None) _requestSent = true;
            return true;
        }
        if (_bodyMode == RequestBodyMode.Buffered) return SendBufferedBody(up);
        if (_bodyPos < _bodyScan)
        {
            if (!up.WriteReady) return false;
            if (!Written(SocketInterop.Send(up.Fd, BufferPointer + _bodyPos, _bodyScan - _bodyPos), up, "send() failed", out long n)) return _up != up;
            _bodyPos += (int)n;
            return true;
        }
        if (_bodyComplete)
        {
            _requestSent = true;
            return true;
        }
        return ReadRequestBody();
    }

    /// <summary>Every byte of the request is out, whether or not PumpRequest has come round to noting
    /// it in _requestSent (a response can be read in the same turn as the last body bytes went).</summary>
    private bool RequestFullySent => _requestSent || _headSent && _bodyComplete
        && (_bodyMode == RequestBodyMode.Buffered ? _bufferedBodySent == _bufferedLength : _bodyPos == _bodyScan);

    private bool SendBufferedBody(UpstreamConnection up)
    {
        if (_bufferedBodySent == _bufferedLength)
        {
            _requestSent = true;
            return true;
        }
        if (!up.WriteReady) return false;
        PosixResult r;
        fixed (byte* p = _bufferedBody) r = SocketInterop.Send(up.Fd, p + _bufferedBodySent, _bufferedLength - _bufferedBodySent);
        if (!Written(r, up, "send() failed", out long n)) return _up != up;
        _bufferedBodySent += (int)n;
        return true;
    }

    /// <summary>The outcome of a write upstream: true with the bytes written; false when the socket
    /// is full (write readiness cleared) or the write failed (handled: the upstream is released).</summary>
    private bool Written(PosixResult r, UpstreamConnection up, string call, out long written)
    {
        written = r.Value;
        if (!r.IsError) return true;
        if (r.IsAgain) up.WriteReady = false;
        else UpstreamFailed(r.Errno, call, "sending request to");
        return false;
    }

    /// <summary>More request body from the client into the buffer. Once everything buffered was
    /// forwarded the buffer starts over, which also means the head can no longer be replayed.</summary>
    private bool ReadRequestBody()
    {
        if (!ReadReady) return false;
        if (_headSent && _bodyPos == _bodyScan && (_bodyPos == _end || _end == BufferSize))
        {
            int held = _end - _bodyPos;   // the start of a trailer line the decoder holds back, usually none
            Buffer.MemoryCopy(BufferPointer + _bodyPos, BufferPointer, held, held);
            _start = _bodyPos = _bodyScan = _headStart = 0;
            _end = held;
            _headBuffered = false;
        }
        if (_end == BufferSize) return false;
        var r = SocketInterop.Receive(Fd, BufferPointer + _end, BufferSize - _end);
        if (r.Value > 0)
        {
            _end += (int)r.Value;
            ScanRequestBody();   // a malformed body is answered inside; either way the state moved
            return true;
        }
        if (r.IsAgain)
        {
            ReadReady = false;
            return false;
        }
        _w.Log.Write(LogLevel.Info, Number, $"client prematurely closed connection while sending request body{Context()}");
        AbortExchange();
        return true;
    }

    /// <summary>A chunked body for an HTTP/1.0 upstream is read whole and de-chunked first, bounded by client_max_body_size.</summary>
    private bool BufferChunkedBody()
    {
        var limit = _location!.Config.ClientMaxBodySize;
        while (true)
        {
            while (_bodyPos < _end && !_reqChunks.IsDone)
            {
                var status = _reqChunks.Decode(new ReadOnlySpan<byte>(BufferPointer + _bodyPos, _end - _bodyPos), out int consumed, out int ds, out int dl);
                if (status == ChunkStatus.Error)
                {
                    RespondLocal(400, close: true);
                    return true;
                }
                if (status == ChunkStatus.Data)
                {
                    if (limit > 0 && _bufferedLength + dl > limit)
                    {
                        _w.Log.Write(LogLevel.Error, Number, $"client intended to send too large chunked body{Context()}");
                        RespondLocal(413, close: true);
                        return true;
                    }
                    if (_bufferedBody is null || _bufferedLength + dl > _bufferedBody.Length)
                        Array.Resize(ref _bufferedBody, Math.Max(_bufferedLength + dl, 2 * (_bufferedBody?.Length ?? 8 * 1024)));
                    new ReadOnlySpan<byte>(BufferPointer + _bodyPos + ds, dl).CopyTo(_bufferedBody.AsSpan(_bufferedLength));
                    _bufferedLength += dl;
                }
                _bodyPos += consumed;
                if (status == ChunkStatus.NeedMore) break;   // it may hold back the start of a trailer line
            }
            if (_reqChunks.IsDone)
            {
                _bodyScan = _bodyPos;
                _bodyComplete = true;
                ConnectUpstream(fresh: false);
                return true;
            }
            if (!ReadReady) return false;
            // The head stays (the request is built from it once the body is whole); decoded bytes go.
            if (_bodyPos == _end || _end == BufferSize)
            {
                int held = _end - _bodyPos;   // as in ReadRequestBody
                Buffer.MemoryCopy(BufferPointer + _bodyPos, BufferPointer + _bodyStart, held, held);
                _bodyPos = _bodyScan = _bodyStart;
                _end = _bodyStart + held;
            }
            var r = SocketInterop.Receive(Fd, BufferPointer + _end, BufferSize - _end);
            if (r.Value > 0) _end += (int)r.Value;
            else if (r.IsAgain)
            {
                ReadReady = false;
                return false;
            }
            else
            {
                Close();
                return false;
            }
        }
    }

    /// <summary>The upstream connection failed. A reused connection that died before the first
    /// response byte was stale: an idempotent request is replayed once on a fresh connection to the
    /// same peer, without counting against the peer. A connect failure moves on to the next peer.</summary>
    private void UpstreamFailed(int errno, string what, string phase, bool timedOut = false)
    {
        var up = _up!;
        var peer = up.Peer;
        bool beforeResponse = !_respHeadParsed && up.End == 0;
        bool stale = up.Reused && beforeResponse && !timedOut;
        bool replay = HttpMethods.IsIdempotent(_req.Method) || _location!.Config.ProxyNextUpstreamNonIdempotent;
        ReleaseUpstream(reusable: false, UpstreamCloseReason.ErrorMidExchange);

        if (stale && !_staleRetried && _headBuffered && replay)
        {
            _staleRetried = true;
            _w.Counters.StaleRetry(up.Group);
            up.Group.Stats.CountStaleRetry();
            peer.Stats.CountStaleRetry();
            _bodyPos = _bodyStart;
            _bufferedBodySent = 0;   // a de-chunked body is all in memory: it goes again whole
            _w.Log.Write(LogLevel.Info, Number, $"{what} ({errno}: {PosixErrors.Describe(errno)}) on a reused keepalive connection to {peer.Name}, retrying on a new connection");
            ConnectUpstream(fresh: true);
            return;
        }
        if (timedOut) _w.Log.Write(LogLevel.Error, Number, $"upstream timed out (110: Connection timed out) while {phase} upstream{Context(peer)}");
        else LogUpstreamError(errno, what, phase, peer);

        bool nothingSent = phase == "connecting to";
        var cfg = _location!.Config;
        bool allowed = timedOut ? cfg.ProxyNextUpstreamTimeout : cfg.ProxyNextUpstreamError;
        if (beforeResponse && allowed && (nothingSent || (replay && _headBuffered)) && NextPeer())
        {
            _bodyPos = _bodyStart;
            _bufferedBodySent = 0;
            ConnectUpstream(fresh: false);
            return;
        }
        if (_respStarted) AbortExchange();
        else RespondLocal(timedOut ? 504 : 502, close: !_bodyComplete || _bodyPos < _bodyScan);
    }

    private void LogUpstreamError(int errno, string what, string phase, UpstreamPeer peer) =>
        _w.Log.Write(LogLevel.Error, Number, $"{what} ({errno}: {PosixErrors.Describe(errno)}) while {phase} upstream{Context(peer)}");

    /// <summary>nginx's log context: ", client: …, server: …, request: "…", upstream: "…", host: "…"".</summary>
    private string Context(UpstreamPeer? peer = null)
    {
        var head = _headBuffered ? new ReadOnlySpan<byte>(HeadBase, _req.HeadLength) : default;
        Span<byte> addr = stackalloc byte[64];
        int n = SockAddr.FormatAddress(PeerAddress, addr);
        string requestLine = !head.IsEmpty ? System.Text.Encoding.ASCII.GetString(head[.._req.Target.End]) + (_req.VersionMinor == 1 ? " HTTP/1.1" : " HTTP/1.0") : "";
        string s = $", client: {System.Text.Encoding.ASCII.GetString(addr[..n])}, server: {System.Text.Encoding.ASCII.GetString(_server?.FirstName ?? [])}, request: \"{requestLine}\"";
        if (peer is not null && !head.IsEmpty) s += $", upstream: \"http://{peer.Name}{System.Text.Encoding.ASCII.GetString(head[_req.Path.Start.._req.Target.End])}\"";
        if (_req.HasHost && !head.IsEmpty) s += $", host: \"{System.Text.Encoding.ASCII.GetString(_req.Host.Of(head))}\"";
        return s;
    }
}
