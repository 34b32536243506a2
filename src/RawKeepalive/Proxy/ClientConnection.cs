using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Routing;

namespace RawKeepalive.Proxy;

public enum ClientState : byte { Closed, WaitingRequest, Exchanging, Lingering }

/// <summary>A client connection: reading request heads, keep-alive between requests, pipelined
/// requests, lingering close. Each request head it reads starts its <see cref="Exchange"/> (one per
/// connection, reused), which runs until the response is out. Events only set ready flags and call
/// <see cref="Advance"/>, which moves the state machine as far as the ready flags allow (nginx's
/// model for edge-triggered epoll).</summary>
public sealed unsafe class ClientConnection
{
    private const long LingeringTimeoutMs = 5_000;   // nginx's lingering_timeout
    private const long LingeringTimeMs = 30_000;     // nginx's lingering_time

    private readonly Worker _w;
    private readonly Exchange _exchange;
    public readonly int Slot;
    public int Fd = -1;
    /// <summary>The byte stream over <see cref="Fd"/> (plaintext today; TLS termination slots in here).</summary>
    public ITransport Transport = PlainTransport.Instance;
    public SocketStream Stream => new(Transport, Fd);
    public long Number;
    public ClientState State;
    public bool ReadReady, WriteReady;
    public Listener Listener = null!;
    public readonly byte[] PeerAddress = new byte[128];
    public ClientPhase Phase;   // stub_status's reading/writing/waiting, kept by the worker's counters

    /// <summary>Receive buffer (slab index, -1 when none: an idle connection holds no buffer).</summary>
    private int _buffer = -1;
    /// <summary>The unconsumed bytes of the receive buffer: [Start, End). The exchange moves them.</summary>
    public int Start, End;
    private bool _headTimerArmed;
    private long _lingerUntilMs;
    /// <summary>When the current request's first byte arrived ($request_time starts there); -1 before it.</summary>
    private long _requestStartMs = -1;

    /// <summary>The parsed heads, held together with the receive buffer (see MessageHeads).</summary>
    private MessageHeads? _heads;
    public RequestHead Request = null!;
    public ResponseHead Response = null!;

    public ClientConnection(Worker worker, int slot)
    {
        _w = worker;
        Slot = slot;
        _exchange = new Exchange(worker, this);
    }

    /// <summary>Requests completed on this connection (keepalive_requests).</summary>
    public int Requests { get; private set; }

    /// <summary>When the current request's first byte arrived (monotonic ms).</summary>
    public long RequestStartMs => _requestStartMs >= 0 ? _requestStartMs : _w.NowMs;

    public byte* BufferPointer => _w.Slab.Pointer(_buffer);
    public int BufferSize => _w.Slab.BufferSize;

    public void Open(int fd, long number, Listener listener)
    {
        Fd = fd;
        Number = number;
        Listener = listener;
        Transport = PlainTransport.Instance;
        State = ClientState.WaitingRequest;
        ReadReady = WriteReady = false;
        Start = End = 0;
        Requests = 0;
        _requestStartMs = -1;
        _exchange.Variables.Record.ConnectionOpened(_w.NowMs);
        _headTimerArmed = true;
        _w.Timers.Set(Slot, _w.NowMs + listener.DefaultServer.Config.ClientHeaderTimeoutMs);
    }

    public void OnEvent(uint events)
    {
        if ((events & (EpollInterop.In | EpollInterop.Err | EpollInterop.Hup | EpollInterop.RdHup)) != 0) ReadReady = true;
        if ((events & (EpollInterop.Out | EpollInterop.Err | EpollInterop.Hup)) != 0) WriteReady = true;
        if (State == ClientState.Exchanging && (events & (EpollInterop.Err | EpollInterop.Hup | EpollInterop.RdHup)) != 0)
        {
            _exchange.OnClientHangup();
            if (State == ClientState.Closed) return;
        }
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
                ClientState.Exchanging => _exchange.Pump(),
                ClientState.Lingering => DrainLingering(),
                _ => false,
            };
            if (!moved) return;
        }
    }

    public void OnTimer()
    {
        switch (State)
        {
            case ClientState.WaitingRequest:
                if (End > Start) _w.Log.Write(LogLevel.Info, Number, "client timed out (110: Connection timed out) while reading client request headers");
                Close();
                break;
            case ClientState.Exchanging:
                _exchange.OnClientTimeout();
                break;
            case ClientState.Lingering:
                Close();
                break;
        }
    }

    /// <summary>An idle keepalive connection: it has been answered at least once and holds no buffer
    /// (no request in progress). nginx closes these first when worker_connections run out; a
    /// connection still waiting for its first request is not one (it may have just been accepted).</summary>
    public bool IsIdle => State == ClientState.WaitingRequest && _buffer < 0 && Requests > 0;

    /// <summary>Reads and parses until a whole request head is buffered; true when the state changed.</summary>
    private bool ReadRequestHead()
    {
        while (true)
        {
            if (End > Start)
            {
                var data = new ReadOnlySpan<byte>(BufferPointer + Start, End - Start);
                var r = RequestParser.Parse(data, Request);
                // Only the head's lines count (a body that came with it is no line); a head shorter
                // than one large buffer cannot hold a line longer than one.
                int headBytes = r == ParseResult.Complete ? Request.HeadLength : data.Length;
                int maxLine = Listener.DefaultServer.Config.LargeClientHeaderBufferSize;
                if (r != ParseResult.Error && headBytes > maxLine && HeadLimits.OversizedLine(data[..headBytes], maxLine) is > 0 and var tooLong)
                {
                    StartBadRequest(tooLong);
                    return true;
                }
                if (r == ParseResult.Complete)
                {
                    State = ClientState.Exchanging;
                    _w.Counters.Enter(ref Phase, ClientPhase.Writing);
                    _w.Timers.Cancel(Slot);
                    _exchange.Start();
                    return true;
                }
                if (r == ParseResult.Error)
                {
                    StartBadRequest(Request.ErrorStatus);
                    return true;
                }
                if (End == BufferSize)
                {
                    if (Start == 0)
                    {
                        StartBadRequest(RequestParser.OversizeStatus(data));
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
                if (End == Start) ReleaseBuffer();
                return false;
            }
            if (_buffer < 0 && !RentBuffer()) return false;
            var n = Transport.Receive(Fd, BufferPointer + End, BufferSize - End);
            if (n.Value > 0)
            {
                if (End == Start) _requestStartMs = _w.NowMs;   // the first byte of a request
                End += (int)n.Value;
                _w.Counters.Enter(ref Phase, ClientPhase.Reading);
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

    private void StartBadRequest(int status)
    {
        _w.Counters.Enter(ref Phase, ClientPhase.Writing);
        _exchange.RespondToBadRequest(status);
    }

    private bool RentBuffer()
    {
        _buffer = _w.Slab.Rent();
        if (_buffer >= 0)
        {
            _heads = _w.Heads.Rent();
            Request = _heads.Request;
            Response = _heads.Response;
            return true;
        }
        _w.Log.Write(LogLevel.Alert, Number, "no free I/O buffers, closing client connection");
        Close();
        return false;
    }

    private void ReleaseBuffer()
    {
        if (_buffer < 0) return;
        _w.Slab.Return(_buffer);
        _buffer = -1;
        Start = End = 0;
        _w.Heads.Return(_heads!);
        _heads = null;
        Request = null!;
        Response = null!;
    }

    /// <summary>Moves pipelined bytes to the front so the rest of a head fits.</summary>
    private void Compact()
    {
        int len = End - Start;
        Buffer.MemoryCopy(BufferPointer + Start, BufferPointer, BufferSize, len);
        Start = 0;
        End = len;
    }

    /// <summary>The exchange is over and the connection stays: keepalive_timeout with no buffer held,
    /// or straight on to a pipelined request (from <paramref name="next"/>).</summary>
    public void WaitForNextRequest(int next, long keepaliveTimeoutMs)
    {
        Requests++;
        Start = next;
        State = ClientState.WaitingRequest;
        _requestStartMs = End > Start ? _w.NowMs : -1;   // a pipelined request starts now
        _w.Counters.Enter(ref Phase, End > Start ? ClientPhase.Reading : ClientPhase.Waiting);
        if (End > Start)
        {
            _headTimerArmed = true;
            _w.Timers.Set(Slot, _w.NowMs + Listener.DefaultServer.Config.ClientHeaderTimeoutMs);
            return;
        }
        ReleaseBuffer();
        _headTimerArmed = false;
        _w.Timers.Set(Slot, _w.NowMs + keepaliveTimeoutMs);
    }

    /// <summary>nginx's lingering close: after a response the client may still be sending to (an
    /// error, an unread body), stop writing and read and discard for a while before closing, so
    /// the close does not turn into a reset that destroys the response in flight.</summary>
    public void LingerThenClose()
    {
        Requests++;
        ReleaseBuffer();
        State = ClientState.Lingering;
        Transport.ShutdownWrite(Fd);
        _lingerUntilMs = _w.NowMs + LingeringTimeMs;
        _w.Timers.Set(Slot, _w.NowMs + LingeringTimeoutMs);
    }

    private bool DrainLingering()
    {
        byte* discard = stackalloc byte[4096];
        bool read = false;
        while (ReadReady)
        {
            var r = Transport.Receive(Fd, discard, 4096);
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

    public void Close()
    {
        if (State == ClientState.Closed) return;
        if (State == ClientState.Exchanging) _exchange.OnClientClosing();
        ReleaseBuffer();
        State = ClientState.Closed;
        _w.CloseClient(this);
        Fd = -1;
    }
}
