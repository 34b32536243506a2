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

/// <summary>This file: the request side's state, and starting an exchange: its phases (route, access,
/// content) and the proxy content handler's start. The body is ClientConnection.RequestBody.cs's,
/// the tries upstream ClientConnection.UpstreamTries.cs's.</summary>
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
}
