using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>This file: one try upstream and the next: taking or opening a connection, building the
/// request head's gather list, failures and the retry policy (stale reuse, next peer), and the
/// context nginx adds to their log lines.</summary>
public sealed unsafe partial class ClientConnection
{
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
                RespondLocal(502, close: !_reqBody.Complete);
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
        ref var iov = ref _reqBody.HeadIov;
        iov.Init((Iovec*)(Scratch + RequestIovOffset), IovecCapacity);
        var framing = new HeadWriter(new Span<byte>(Scratch + RequestFramingOffset, RequestFramingSize));
        int headBodyBytes = _reqBody.TakeHeadBody();
        bool built = RequestHeadRewriter.TryAppend(ref iov, _req, HeadBase, _location!)
            && iov.Add(_reqGen, _reqGenLength)
            && TryWriteRequestFraming(ref framing)
            && iov.Add(Scratch + RequestFramingOffset, framing.Length)
            && iov.Add(BufferPointer + _reqBody.Pos, headBodyBytes);
        if (!built)
        {
            FailInternally("the upstream request head does not fit its gather list");
            return false;
        }
        _reqBody.HeadQueued();
        return true;
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
            _reqBody.Rewind();   // a de-chunked body is all in memory: it goes again whole
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
            _reqBody.Rewind();
            ConnectUpstream(fresh: false);
            return;
        }
        if (_respStarted) AbortExchange();
        else RespondLocal(timedOut ? 504 : 502, close: !_reqBody.Complete || _reqBody.Pos < _reqBody.Scan);
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
