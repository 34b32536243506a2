using RawKeepalive.Http;
using RawKeepalive.Native;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

public enum ClientState : byte { Closed, WaitingRequest, Exchanging, Lingering }

/// <summary>A client connection and the one exchange it is in at a time: reading a request head,
/// forwarding the request to an upstream connection, streaming the response back, then waiting
/// for the next request. Events only set ready flags and call <see cref="Advance"/>, which moves
/// the state machine as far as the ready flags allow (nginx's model for edge-triggered epoll).
/// This file: life cycle, request heads and routing.</summary>
public sealed unsafe partial class ClientConnection : IUpstreamOwner, IRequestVariables
{
    private readonly Worker _w;
    public readonly int Slot;
    public int Fd = -1;
    public long Number;
    public ClientState State;
    public bool ReadReady, WriteReady;
    public Listener Listener = null!;
    public readonly byte[] PeerAddress = new byte[128];
    public Observability.ClientPhase Phase;   // stub_status's reading/writing/waiting, kept by _w.Counters

    /// <summary>Receive buffer (slab index, -1 when none: an idle connection holds no buffer) and
    /// the unconsumed bytes in it.</summary>
    private int _buffer = -1;
    private int _start, _end;
    /// <summary>Requests completed on this connection (keepalive_requests).</summary>
    private int _requests;
    private bool _headTimerArmed;

    private const long DefaultKeepaliveTimeoutMs = 75_000;

    /// <summary>Held together with the receive buffer (see MessageHeads).</summary>
    private MessageHeads? _heads;
    private RequestHead _req = null!;
    private ResponseHead _resp = null!;

    public ClientConnection(Worker worker, int slot)
    {
        _w = worker;
        Slot = slot;
        _body = new ResponseBodyRelay(worker.Pipes);
        _reqBody = new RequestBodyRelay();
    }

    public void Open(int fd, long number, Listener listener)
    {
        Fd = fd;
        Number = number;
        Listener = listener;
        State = ClientState.WaitingRequest;
        ReadReady = WriteReady = false;
        _start = _end = 0;
        _requests = 0;
        _headTimerArmed = true;
        _w.Timers.Set(Slot, _w.NowMs + listener.DefaultServer.Config.ClientHeaderTimeoutMs);
    }

    private byte* BufferPointer => _w.Slab.Pointer(_buffer);
    private int BufferSize => _w.Slab.BufferSize;

    public void OnEvent(uint events)
    {
        if ((events & (EpollInterop.In | EpollInterop.Err | EpollInterop.Hup | EpollInterop.RdHup)) != 0) ReadReady = true;
        if ((events & (EpollInterop.Out | EpollInterop.Err | EpollInterop.Hup)) != 0) WriteReady = true;
        Advance();
    }

    /// <summary>Moves the connection forward until it has to wait for an event or a timer.</summary>
    public void Advance()
    {
        while (true)
        {
            bool moved = State switch
            {
                ClientState.WaitingRequest => ReadRequestHead(),
                ClientState.Exchanging => PumpExchange(),
                ClientState.Lingering => DrainLingering(),
                _ => false,
            };
            if (!moved) return;
        }
    }

    /// <summary>Its upstream connection became readable or writable: the exchange moves on.</summary>
    void IUpstreamOwner.OnUpstreamReady() => Advance();

    public void OnTimer()
    {
        if (State == ClientState.WaitingRequest)
        {
            if (_end > _start) _w.Log.Write(Observability.LogLevel.Info, Number, "client timed out (110: Connection timed out) while reading client request headers");
            Close();
        }
        else if (State == ClientState.Exchanging)
        {
            OnClientTimeout();
        }
        else if (State == ClientState.Lingering)
        {
            Close();
        }
    }

    /// <summary>An idle keepalive connection: it has been answered at least once and holds no buffer
    /// (no request in progress). nginx closes these first when worker_connections run out; a
    /// connection still waiting for its first request is not one (it may have just been accepted).</summary>
    public bool IsIdle => State == ClientState.WaitingRequest && _buffer < 0 && _requests > 0;

    private const long LingeringTimeoutMs = 5_000;   // nginx's lingering_timeout
    private const long LingeringTimeMs = 30_000;     // nginx's lingering_time
    private long _lingerUntilMs;

    /// <summary>nginx's lingering close: after a response the client may still be sending to (an
    /// error, an unread body), stop writing and read and discard for a while before closing, so
    /// the close does not turn into a reset that destroys the response in flight.</summary>
    private void LingerThenClose()
    {
        ReleaseBuffer();
        State = ClientState.Lingering;
        SocketInterop.ShutdownWrite(Fd);
        _lingerUntilMs = _w.NowMs + LingeringTimeMs;
        _w.Timers.Set(Slot, _w.NowMs + LingeringTimeoutMs);
    }

    private bool DrainLingering()
    {
        byte* discard = stackalloc byte[4096];
        bool read = false;
        while (ReadReady)
        {
            var r = SocketInterop.Receive(Fd, discard, 4096);
            if (r.Value > 0)
            {
                read = true;
                continue;
            }
            if (r.IsAgain)
            {
                ReadReady = false;
                break;
            }
            Close();
            return false;
        }
        if (read) _w.Timers.Set(Slot, Math.Min(_w.NowMs + LingeringTimeoutMs, _lingerUntilMs));
        return false;
    }

    /// <summary>Reads and parses until a whole request head is buffered; true when the state changed.</summary>
    private bool ReadRequestHead()
    {
        while (true)
        {
            if (_end > _start)
            {
                var data = new ReadOnlySpan<byte>(BufferPointer + _start, _end - _start);
                var r = RequestParser.Parse(data, _req);
                // Only the head's lines count (a body that came with it is no line); a head shorter
                // than one large buffer cannot hold a line longer than one.
                int headBytes = r == ParseResult.Complete ? _req.HeadLength : data.Length;
                int maxLine = Listener.DefaultServer.Config.LargeClientHeaderBufferSize;
                if (r != ParseResult.Error && headBytes > maxLine && HeadLimits.OversizedLine(data[..headBytes], maxLine) is > 0 and var tooLong)
                {
                    RespondToBadRequest(tooLong);
                    return true;
                }
                if (r == ParseResult.Complete)
                {
                    StartExchange();
                    return true;
                }
                if (r == ParseResult.Error)
                {
                    RespondToBadRequest(_req.ErrorStatus);
                    return true;
                }
                if (_end == BufferSize)
                {
                    if (_start == 0)
                    {
                        RespondToBadRequest(RequestParser.OversizeStatus(data));
                        return true;
                    }
                    Compact();
                }
                if (!_headTimerArmed)
                {
                    // The first byte of a new request ends keepalive_timeout and starts client_header_timeout.
                    _headTimerArmed = true;
                    _w.Timers.Set(Slot, _w.NowMs + Listener.DefaultServer.Config.ClientHeaderTimeoutMs);
                }
            }
            if (!ReadReady)
            {
                if (_end == _start) ReleaseBuffer();
                return false;
            }
            if (_buffer < 0 && !RentBuffer()) return false;
            var n = SocketInterop.Receive(Fd, BufferPointer + _end, BufferSize - _end);
            if (n.Value > 0)
            {
                _end += (int)n.Value;
                _w.Counters.Enter(ref Phase, Observability.ClientPhase.Reading);
                continue;
            }
            if (n.IsAgain)
            {
                ReadReady = false;
                continue;
            }
            Close();   // the client closed between requests, or reset
            return false;
        }
    }

    private bool RentBuffer()
    {
        _buffer = _w.Slab.Rent();
        if (_buffer >= 0)
        {
            _heads = _w.Heads.Rent();
            _req = _heads.Request;
            _resp = _heads.Response;
            return true;
        }
        _w.Log.Write(Observability.LogLevel.Alert, Number, "no free I/O buffers, closing client connection");
        Close();
        return false;
    }

    private void ReleaseBuffer()
    {
        if (_buffer < 0) return;
        _w.Slab.Return(_buffer);
        _buffer = -1;
        _start = _end = 0;
        _w.Heads.Return(_heads!);
        _heads = null;
        _req = null!;
        _resp = null!;
    }

    /// <summary>Moves pipelined bytes to the front so the rest of a head fits.</summary>
    private void Compact()
    {
        int len = _end - _start;
        Buffer.MemoryCopy(BufferPointer + _start, BufferPointer, BufferSize, len);
        _start = 0;
        _end = len;
    }

    /// <summary>Between requests: keepalive_timeout with no buffer held, or straight on to a pipelined request.</summary>
    private void WaitForNextRequest()
    {
        State = ClientState.WaitingRequest;
        _w.Counters.Enter(ref Phase, _end > _start ? Observability.ClientPhase.Reading : Observability.ClientPhase.Waiting);
        if (_end > _start)
        {
            _headTimerArmed = true;
            _w.Timers.Set(Slot, _w.NowMs + Listener.DefaultServer.Config.ClientHeaderTimeoutMs);
            return;
        }
        ReleaseBuffer();
        _headTimerArmed = false;
        _w.Timers.Set(Slot, _w.NowMs + (_location?.Config.KeepaliveTimeoutMs ?? DefaultKeepaliveTimeoutMs));
    }

    public void Close()
    {
        if (State == ClientState.Closed) return;
        if (_up is not null) ReleaseUpstream(reusable: false, UpstreamCloseReason.ErrorMidExchange);
        ReleaseScratch();
        ReleaseBuffer();
        State = ClientState.Closed;
        _w.CloseClient(this);
        Fd = -1;
    }
}
