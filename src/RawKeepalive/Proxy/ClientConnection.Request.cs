using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Upstream;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;

namespace RawKeepalive.Proxy;

/// <summary>This file: the request side's state, and starting an exchange: its phases (route, access,
/// content) and the proxy content handler's start. The body is RequestBodyRelay's (glue in ClientConnection.RequestBody.cs),
/// the tries upstream ClientConnection.UpstreamTries.cs's.</summary>
public sealed unsafe partial class ClientConnection
{
    private ServerRuntime _server = null!;
    private LocationRuntime? _location;
    private UpstreamConnection? _up;
    private int _scratch = -1;

    // Request side of the exchange. Offsets are into the client buffer.
    private int _headStart;
    private bool _headBuffered;      // the head is still in the buffer: the request can be replayed, the log can quote it
    private bool _staleRetried;
    private int _triesLeft;
    private int _peer;

    private byte* HeadBase => BufferPointer + _headStart;

    /// <summary>A whole request head is buffered: the exchange runs its phases, route → access →
    /// content; the log phase is FinishExchange's.</summary>
    private void StartExchange()
    {
        State = ClientState.Exchanging;
        _w.Counters.Enter(ref Phase, ClientPhase.Writing);
        _w.Timers.Cancel(Slot);
        _headStart = _start;
        _reqBody.Reset(_start + _req.HeadLength);
        _up = null;
        _staleRetried = false;
        _headBuffered = true;
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
        if (_reqBody.Mode == RequestBodyMode.ChunkedPassthrough && location.UpstreamHttp10)
            _reqBody.SwitchToBuffered();   // de-chunked from the start: the pass-through scan above is forgotten
        if (!PrepareRequestHeaders()) return;
        _reqBody.ExpectContinue(_req, Fd, ref WriteReady);
        _triesLeft = group.Peers.Length;
        if (location.Config.ProxyNextUpstreamTries > 0) _triesLeft = Math.Min(_triesLeft, location.Config.ProxyNextUpstreamTries);
        _peer = group.NextPeer();
        if (_reqBody.Mode != RequestBodyMode.Buffered) ConnectUpstream(fresh: false);
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
