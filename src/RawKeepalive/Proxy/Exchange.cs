using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Routing;
using RawKeepalive.Upstream;
using RawKeepalive.Config;

namespace RawKeepalive.Proxy;

/// <summary>One request on a client connection, from its parsed head to the end of its response
/// (one per connection, reused). <see cref="Start"/> runs the phases: route (server, location, body
/// framing) → access (allow/deny) → content (the location's <see cref="ContentHandler"/>); then
/// <see cref="Pump"/> moves the request and response until <see cref="Finish"/> or an abort, each of
/// which ends in the log phase. The parts with their own job: the two body relays, the tries
/// upstream (<see cref="UpstreamLeg"/>), the generated heads, local responses.</summary>
public sealed unsafe class Exchange
{
    private const long DefaultKeepaliveTimeoutMs = 75_000;

    private readonly Worker _w;
    private readonly ClientConnection _client;
    public readonly RequestBodyRelay RequestBody = new();
    public readonly ResponseBodyRelay ResponseBody;
    public readonly GeneratedHeads Generated;
    public readonly UpstreamLeg Upstream;
    public readonly LocalResponder Local;
    public readonly ExchangeVariables Variables;
    public readonly ResponseSender Response;

    public ServerRuntime Server { get; private set; } = null!;
    public LocationRuntime? Location { get; private set; }
    /// <summary>Where the head starts in the client buffer.</summary>
    private int _headStart;
    /// <summary>The head and the body's first bytes are still in the client buffer: the request can be replayed.</summary>
    public bool Replayable { get; private set; }
    /// <summary>The head is still in the client buffer: error lines quote it, variables read it.</summary>
    public bool HeadAvailable { get; private set; }
    /// <summary>Between Start and the log phase.</summary>
    private bool _open;

    // The response side.
    public bool ResponseHeadParsed;
    /// <summary>Some response byte went to the client.</summary>
    public bool ResponseStarted;
    public bool KeepClient;
    public bool UpstreamReusable;
    /// <summary>The response head's gather list (then the body bytes that came with it).</summary>
    public IovecList ResponseIov;
    /// <summary>The status the client is answered with (the log phase records it).</summary>
    public int Status;
    /// <summary>The response head's length, and the bytes of the head's gather write sent so far
    /// (the body relay counts the rest): $bytes_sent and $body_bytes_sent.</summary>
    public long ResponseHeadLength, HeadWriteSent;

    public Exchange(Worker worker, ClientConnection client)
    {
        _w = worker;
        _client = client;
        ResponseBody = new ResponseBodyRelay(worker.Pipes);
        Generated = new GeneratedHeads(worker, this);
        Upstream = new UpstreamLeg(worker, client, this);
        Local = new LocalResponder(worker, client, this);
        Response = new ResponseSender(worker, client, this);
        Variables = new ExchangeVariables(client, this, worker.Config.Http.Captures);
    }

    public ClientConnection Client => _client;
    public RequestHead Request => _client.Request;
    public byte* HeadBase => _client.BufferPointer + _headStart;
    public ReadOnlySpan<byte> HeadBytes => new(HeadBase, _client.Request.HeadLength);
    private bool IsCurrent => _client.State == ClientState.Exchanging;
    public RequestRecord Record => Variables.Record;

    /// <summary>This request's error log: the location's or server's error_log where they have one.</summary>
    public ErrorLog Log => _w.ErrorLogs.For(Location, Server);

    /// <summary>A whole request head is buffered: the exchange runs its phases.</summary>
    public void Start()
    {
        Begin();
        _headStart = _client.Start;
        Record.RequestLength = Request.HeadLength;
        RequestBody.Reset(_client.Start + Request.HeadLength);
        Replayable = HeadAvailable = true;
        if (!Generated.RentScratch())
        {
            Log.Write(LogLevel.Alert, _client.Number, "no free I/O buffers, closing client connection");
            _client.Close();
            return;
        }
        if (RoutePhase() && AccessPhase()) ContentPhase();
    }

    private void Begin()
    {
        _open = true;
        Status = 0;
        ResponseHeadLength = HeadWriteSent = 0;
        Record.Begin(_client.RequestStartMs);
        Upstream.Reset();
        ResponseHeadParsed = ResponseStarted = KeepClient = UpstreamReusable = false;
        ResponseBody.Reset();
        ResponseIov.Clear();
    }

    /// <summary>Finds the server and location, and sets up the request body's framing. False when the
    /// request was answered (a malformed body, OPTIONS *, no location, a body over client_max_body_size).</summary>
    private bool RoutePhase()
    {
        var req = Request;
        Server = _client.Listener.Select(HostForServerName());
        var path = req.Path.Of(HeadBytes);
        Location = Server.Match(path.IsEmpty ? "/"u8 : path);

        var outcome = RequestBody.Start(req, Location?.Config.ClientMaxBodySize ?? 0, _client.BufferPointer, _client.End);
        if (outcome != RequestBodyOutcome.Waiting)
        {
            RejectBody(outcome);
            return false;
        }
        if (req.IsAsteriskOptions)
        {
            Local.RespondOptionsAsterisk();
            return false;
        }
        if (Location is null)
        {
            Local.Respond(404, close: false);
            return false;
        }
        var limit = Location.Config.ClientMaxBodySize;
        if (limit > 0 && req.ContentLength > limit)
        {
            Log.Write(LogLevel.Error, _client.Number, $"client intended to send too large body: {req.ContentLength} bytes{Context()}");
            Local.Respond(413, close: true);
            return false;
        }
        return true;
    }

    /// <summary>allow/deny: false when the client was refused (403).</summary>
    private bool AccessPhase()
    {
        if (Location!.Config.Access is not { } access || Config.AccessRule.Allows(access, _client.PeerAddress)) return true;
        Log.Write(LogLevel.Error, _client.Number, $"access forbidden by rule{Context()}");
        Local.Respond(403, close: false);
        return false;
    }

    /// <summary>The location's content handler, chosen when the config was loaded.</summary>
    private void ContentPhase() => _w.Content.For(Location!).Run(this, Location!);

    /// <summary>$host rules for choosing the server block: the Host without its port, compared case-insensitively by the server.</summary>
    private ReadOnlySpan<byte> HostForServerName()
    {
        var req = Request;
        if (!req.HasHost) return default;
        var host = req.Host.Of(HeadBytes);
        if (host.Length > 0 && host[0] != (byte)'[')
        {
            int colon = host.LastIndexOf((byte)':');
            if (colon >= 0) host = host[..colon];
        }
        return host;
    }

    /// <summary>A request whose head could not be parsed (or is too big): answered here and closed.</summary>
    public void RespondToBadRequest(int status)
    {
        Begin();
        Log.Write(LogLevel.Info, _client.Number, $"client sent invalid request, answering {status}");
        // What was parsed of it stays readable for the log (as nginx logs what it parsed of a bad
        // request line); the default server answers.
        Server = _client.Listener.DefaultServer;
        Location = null;
        Replayable = HeadAvailable = false;
        _headStart = _client.Start;
        Request.HeadLength = _client.End - _client.Start;
        Request.Method = HttpMethod.Get;
        Record.RequestLength = _client.End - _client.Start;
        // The bad head is consumed; only bytes still arriving make the close linger.
        RequestBody.Consume(_client.End);
        _client.Start = _client.End;
        Local.RespondBadRequest(status);
    }

    /// <summary>One turn of the exchange: request out, response in and out, until nothing can move.
    /// True when the connection left the exchange (finished, closed).</summary>
    public bool Pump()
    {
        bool movedAny = false;
        while (IsCurrent)
        {
            bool moved = false;
            var up = Upstream.Connection;
            if (up is null && !ResponseHeadParsed)
            {
                if (RequestBody.Mode == RequestBodyMode.Buffered && !RequestBody.Complete) moved = Upstream.BufferChunkedBody();
                if (!moved) break;
                movedAny = true;
                continue;
            }
            if (!RequestBody.FlushContinue(_client.Stream, ref _client.WriteReady)) break;
            if (up is { State: UpstreamState.Active } && !RequestBody.RequestSent && !ResponseBody.Done) moved |= Upstream.PumpRequest();
            if (!IsCurrent) return true;
            if (ResponseHeadParsed) moved |= Response.Pump();
            else if (Upstream.Connection is { State: UpstreamState.Active } && RequestBody.HeadSent) moved |= Upstream.ReadResponseHead();
            if (!moved) break;
            movedAny = true;
        }
        if (IsCurrent) ExchangeTimeouts.Arm(this, _w.Timers, _w.NowMs, movedAny);
        return !IsCurrent;
    }

    /// <summary>A request body found bad (logged here): answered if the client has seen no response
    /// yet (an upstream connection that got part of it is closed), else the exchange is aborted.</summary>
    public void RejectBody(RequestBodyOutcome step)
    {
        int status;
        if (step == RequestBodyOutcome.InvalidChunked)
        {
            Log.Write(LogLevel.Info, _client.Number, $"client sent invalid chunked body{Context()}");
            status = 400;
        }
        else
        {
            Log.Write(LogLevel.Error, _client.Number, $"client intended to send too large chunked body: {RequestBody.AnnouncedBytes}+ bytes{Context()}");
            status = 413;
        }
        if (ResponseStarted) Abort();
        else Local.Respond(status, close: true);
    }

    /// <summary>The response is out: the upstream connection goes back to its pool when the exchange
    /// was clean, the log phase records the request, and the client waits for its next request or closes.</summary>
    public void Finish()
    {
        if (Upstream.Connection is { } up) Upstream.Release(UpstreamReusable && RequestBody.FullySent && up.End == ResponseBody.Scan);
        End();
        if (!KeepClient || !RequestBody.RequestSent && RequestBody.Mode != RequestBodyMode.None && !RequestBody.SkipUnsent())
        {
            bool clientMaySend = _client.ReadReady || RequestBody.Mode != RequestBodyMode.None && !RequestBody.Complete || _client.End > RequestBody.Scan;
            if (clientMaySend) _client.LingerThenClose();   // don't let the close reset what it is still sending
            else _client.Close();
            return;
        }
        _client.WaitForNextRequest(Math.Max(RequestBody.Scan, RequestBody.Pos), Location?.Config.KeepaliveTimeoutMs ?? DefaultKeepaliveTimeoutMs);
    }

    /// <summary>Something went wrong after the client saw part of the response (or can't be told
    /// cleanly): close both sides, never let a partial response look complete.</summary>
    public void Abort() => _client.Close();

    /// <summary>The client connection is closing with the exchange still open (an abort, a client
    /// gone): its upstream connection is closed, never pooled, and the request is recorded, as 499
    /// when no response had started (nginx's "client closed request").</summary>
    public void OnClientClosing()
    {
        if (!_open) return;
        Upstream.LeaveQueue();
        if (Upstream.Connection is not null) Upstream.Release(reusable: false, UpstreamCloseReason.ErrorMidExchange);
        if (!ResponseStarted) Status = 499;
        End();
    }

    /// <summary>The end of every exchange, clean or not: its buffers go back, then the log phase.</summary>
    private void End()
    {
        _open = false;
        Generated.ReleaseScratch();
        LogPhase();
    }

    /// <summary>The log phase: the one place where a finished request is recorded, in the counters of
    /// responses by status class and in the location's access logs.</summary>
    private void LogPhase()
    {
        var record = Record;
        record.Status = Status;
        record.HeaderBytesSent = ResponseHeadLength;
        record.BytesSent = HeadWriteSent + ResponseBody.SentToClient;
        record.RequestLength += RequestBody.ReceivedBodyBytes;   // an unparsed request has none (Consume)
        _w.Counters.Responded(Status);
        _w.AccessLogs.Record(Location, Variables);
    }

    /// <summary>The client's socket reported a hang-up during the exchange. With the request complete
    /// nothing more is owed from it, so an end of stream or a reset means it went away (nginx's check
    /// of a broken connection): the upstream connection is closed too, never pooled, and the request
    /// is recorded as 499. Bytes still to read (a pipelined request before the FIN) mean it has not.</summary>
    public void OnClientHangup()
    {
        if (!RequestBody.Complete) return;   // the body's reader sees the end itself
        var peek = SocketInterop.Peek(_client.Fd);
        if (peek.Value > 0 || peek.IsAgain) return;
        Log.Write(LogLevel.Info, _client.Number, $"client prematurely closed connection, so upstream connection is closed too{Context()}");
        if (!ResponseStarted) Status = 499;
        Abort();
    }

    public void OnClientTimeout()
    {
        string phase = ResponseHeadParsed ? "sending to client" : "reading client request body";
        Log.Write(LogLevel.Info, _client.Number, $"client timed out (110: Connection timed out) while {phase}{Context()}");
        if (!ResponseStarted) Status = 408;
        Abort();
    }

    /// <summary>The exchange can answer for itself: keep-alive unless the request, the worker's
    /// draining or the location's keepalive limits say otherwise.</summary>
    public bool ClientMayKeepAlive()
    {
        if (!Request.KeepAlive || _w.Stopping) return false;
        var cfg = Location?.Config;
        if (cfg is null) return true;
        return cfg.KeepaliveTimeoutMs > 0 && _client.Requests + 1 < cfg.KeepaliveRequests;
    }

    /// <summary>The client buffer started over to take more body (<paramref name="outcome"/> says whether the
    /// head went too): the request can no longer be replayed, and without its head nothing reads it.</summary>
    public void BodyRestarted(RequestBodyOutcome outcome)
    {
        Replayable = false;
        if ((outcome & RequestBodyOutcome.HeadDropped) == 0) return;
        HeadAvailable = false;
        Request.ForgetBytes();
        _client.Start = _headStart = 0;
    }

    /// <summary>nginx's log context: ", client: …, server: …, request: "…", upstream: "…", host: "…"".</summary>
    public string Context(UpstreamPeer? peer = null) => LogContext.Format(this, peer);

    /// <summary>The log context naming the upstream group rather than a peer (nginx's "no live upstreams" line).</summary>
    public string Context(string upstreamName) => LogContext.Format(this, null, upstreamName);
}
