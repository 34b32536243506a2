using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>This file: the response side's state, one turn of the exchange, and the response head:
/// reading it (1xx dropped), the framing decision, and its rewrite for the client. The body is
/// ResponseBodyRelay's (ClientConnection.ResponseBody.cs the glue), the end of the exchange
/// ClientConnection.Finish.cs's.</summary>
public sealed unsafe partial class ClientConnection
{
    private bool _respHeadParsed;
    private bool _respStarted;        // some response byte went to the client
    private bool _keepClient;
    private bool _upstreamReusable;
    private IovecList _respIov;

    private void ResetResponseState()
    {
        _respHeadParsed = _respStarted = _keepClient = _upstreamReusable = false;
        _body.Reset();
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
                if (_reqBody.Mode == RequestBodyMode.Buffered && !_reqBody.Complete) moved = BufferChunkedBody();
                if (!moved) break;
                movedAny = true;
                continue;
            }
            if (!_reqBody.FlushContinue(Fd, ref WriteReady)) break;
            if (_up is { State: UpstreamState.Active } && !_reqBody.RequestSent && !_body.Done) moved |= PumpRequest();
            if (State != ClientState.Exchanging) return true;
            if (_respHeadParsed) moved |= PumpResponseOut();
            else if (_up is { State: UpstreamState.Active } && _reqBody.HeadSent) moved |= ReadResponseHead();
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
        var framing = ResponseFraming.Decide(_req.Method, _req.VersionMinor, _reqBody.FullySent, ClientMayKeepAlive(), _resp);
        _upstreamReusable = framing.UpstreamReusable && up.Pool is not null;
        _keepClient = framing.ClientKeepAlive;
        ApplyBodyVerdicts(_body.Begin(up, _w.Slab.Pointer(up.Buffer), framing.Mode, _resp.ContentLength, _resp.HeadLength), up);

        if (!BuildResponseHead(up))
        {
            FailInternally("the response head does not fit its gather list");
            return;
        }
        up.Start = _body.Scan;
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
            && (_body.Mode != ResponseBodyMode.ChunkedPassthrough || w.TryAppend(HeaderBytes.TransferEncodingChunked))
            && w.TryAppend(_keepClient ? HeaderBytes.ConnectionKeepAlive : HeaderBytes.ConnectionClose)
            && w.TryAppend("\r\n"u8)
            && _respIov.Add(gen + tail, w.Length - tail)
            && _respIov.Add(ub + up.Start, _body.Scan - up.Start);
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
}
