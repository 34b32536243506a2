using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>The upstream's response head: read and parsed (1xx dropped, framing conflicts refused with
/// nginx's wording), the framing decision (<see cref="ResponseFraming.Decide"/>), and the client's
/// response head built as one gather list: status line, our Server and Date, the upstream's kept
/// lines, our framing and Connection lines, then the body bytes that came with the head.</summary>
public sealed unsafe class ResponseHeadReader
{
    private readonly Worker _w;
    private readonly ClientConnection _client;
    private readonly Exchange _x;
    private readonly UpstreamLeg _leg;

    public ResponseHeadReader(Worker worker, ClientConnection client, Exchange exchange, UpstreamLeg leg)
    {
        _w = worker;
        _client = client;
        _x = exchange;
        _leg = leg;
    }

    /// <summary>Reads from <paramref name="up"/> until a final response head is parsed; true when something moved.</summary>
    public bool Read(UpstreamConnection up)
    {
        if (!up.ReadReady) return false;
        int size = _client.BufferSize;
        if (up.End == size)
        {
            LogError("upstream sent too big header", up);
            _leg.FailBeforeResponse(502);
            return true;
        }
        byte* ub = _w.Slab.Pointer(up.Buffer);
        var r = up.Stream.Receive(ub + up.End, size - up.End);
        if (r.IsAgain)
        {
            up.ReadReady = false;
            return false;
        }
        if (r.Value <= 0)
        {
            if (r.Value < 0) _leg.Failed(UpstreamLeg.Describe("recv() failed", r.Errno), UpstreamPhase.ReadingResponseHeader);
            else if (_leg.HasResponseBegun)
            {
                // Part of a response (a 1xx at least) came: the exchange has begun and is not replayed.
                LogError("upstream prematurely closed connection", up);
                _leg.FailBeforeResponse(502);
            }
            // Closed before any byte: a pooled connection was stale, a new one moves on to the next peer (the policy decides).
            else if (up.Reused) _leg.Failed(UpstreamLeg.Describe("upstream closed the reused connection", PosixErrors.ECONNRESET), UpstreamPhase.ReadingResponseHeader);
            else _leg.Failed("upstream prematurely closed connection", UpstreamPhase.ReadingResponseHeader);
            return true;
        }
        _leg.Received(r.Value);
        up.AfterReceive(r.Value, size - up.End);
        up.End += (int)r.Value;
        var resp = _client.Response;
        while (true)
        {
            var p = ResponseParser.Parse(new ReadOnlySpan<byte>(ub, up.End), resp);
            if (p == ParseResult.Incomplete) return true;
            if (p == ParseResult.Error)
            {
                // nginx's (1.23+) wording for what was wrong; the connection is closed, never pooled.
                LogError(resp.ErrorMessage(new ReadOnlySpan<byte>(ub, up.End)), up);
                _leg.FailBeforeResponse(502);
                return true;
            }
            if (resp.Status == 101)
            {
                LogError("upstream sent 101 Switching Protocols, which is not supported yet,", up);
                _leg.FailBeforeResponse(502);
                return true;
            }
            if (resp.Status >= 200) break;
            // An interim 1xx: drop it and parse what follows.
            int rest = up.End - resp.HeadLength;
            Buffer.MemoryCopy(ub + resp.HeadLength, ub, size, rest);
            up.End = rest;
            if (rest == 0) return true;
        }
        if (resp.IgnoredFields != UInt128.Zero)
        {
            // A later Expires line: dropped from the response, and nginx's warning for each.
            var parsed = new ReadOnlySpan<byte>(ub, resp.HeadLength);
            for (int i = 0; i < resp.HeaderCount; i++)
            {
                if (resp.IsIgnored(i))
                    _x.Log.Write(LogLevel.Warn, _client.Number, $"{resp.IgnoredMessage(parsed, i)} while reading response header from upstream{_x.Context(up.Peer)}");
            }
        }
        Begin(up);
        return true;
    }

    private void LogError(string what, UpstreamConnection up) =>
        _x.Log.Write(LogLevel.Error, _client.Number, $"{what} while reading response header from upstream{_x.Context(up.Peer)}");

    /// <summary>Decides framing and connection reuse, and builds the client's response head.</summary>
    private void Begin(UpstreamConnection up)
    {
        var resp = _client.Response;
        var body = _x.ResponseBody;
        _x.ResponseHeadParsed = true;
        _x.Status = resp.Status;
        _x.Record.HeaderReceived(resp, new ReadOnlySpan<byte>(_w.Slab.Pointer(up.Buffer), resp.HeadLength), _w.NowMs);
        _leg.HeaderReceived(resp.Status);
        // An upstream that answers before the whole body is out leaves its connection out of step
        // (as nginx's request_body_sent); Finish checks again for one still sending.
        var framing = ResponseFraming.Decide(_x.Request.Method, _x.Request.VersionMinor, _x.RequestBody.FullySent, _x.ClientMayKeepAlive(), resp);
        _x.UpstreamReusable = framing.UpstreamReusable && up.Pool is not null;
        _x.KeepClient = framing.ClientKeepAlive;
        _x.Response.ApplyBodyVerdicts(body.Begin(up, _w.Slab.Pointer(up.Buffer), framing.Mode, resp.ContentLength, resp.HeadLength), up);

        if (!BuildClientHead(up))
        {
            _x.Generated.FailInternally("the response head does not fit its gather list");
            return;
        }
        up.Start = body.Scan;
    }

    /// <summary>The client's response head as one gather list. Our lines have a fixed length that
    /// always fits the response area; false only if something did not.</summary>
    private bool BuildClientHead(UpstreamConnection up)
    {
        var resp = _client.Response;
        var generated = _x.Generated;
        ref var iov = ref _x.ResponseIov;
        generated.InitResponseIov(ref iov);
        byte* ub = _w.Slab.Pointer(up.Buffer);
        byte* gen = generated.ResponseArea;
        var w = new HeadWriter(new Span<byte>(gen, generated.ResponseAreaSize));
        if (!ResponseHeadRewriter.TryAppendStatusLine(ref iov, resp, ub) || !generated.TryWriteServerAndDate(ref w) || !iov.Add(gen, w.Length))
            return false;
        int tail = w.Length;
        if (!(ResponseHeadRewriter.TryAppendKeptHeaders(ref iov, resp, ub)
            && (_x.ResponseBody.Mode != ResponseBodyMode.ChunkedPassthrough || w.TryAppend(HeaderBytes.TransferEncodingChunked))
            && w.TryAppend(_x.KeepClient ? HeaderBytes.ConnectionKeepAlive : HeaderBytes.ConnectionClose)
            && w.TryAppend("\r\n"u8)
            && iov.Add(gen + tail, w.Length - tail)))
            return false;
        _x.ResponseHeadLength = iov.RemainingBytes();
        var headers = _x.Record.Headers;
        headers.CaptureForwarded(resp, new ReadOnlySpan<byte>(ub, resp.HeadLength));
        headers.CaptureGenerated(new ReadOnlySpan<byte>(gen, w.Length));
        return iov.Add(ub + up.Start, _x.ResponseBody.Scan - up.Start);
    }
}
