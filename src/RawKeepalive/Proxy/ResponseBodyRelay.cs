using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>What one call into a <see cref="ResponseBodyRelay"/> did: a step (the low bits, under
/// <see cref="StepMask"/>) and the verdicts and error it adds. The connection applies the verdicts,
/// logs the error with its context and ends the exchange when the step says so.</summary>
[Flags]
public enum BodyOutcome : byte
{
    /// <summary>Nothing moved: wait for readiness.</summary>
    Waiting = 0,
    Moved = 1,
    /// <summary>The body is out: finish the exchange.</summary>
    Finished = 2,
    /// <summary>The sendable part of a malformed body is out: close without finishing.</summary>
    AbortFlushed = 3,
    /// <summary>A write to the client failed (not EAGAIN), errno in <see cref="ResponseBodyRelay.Errno"/>.</summary>
    ClientWriteFailed = 4,
    /// <summary>The upstream closed before the body's end.</summary>
    UpstreamClosedEarly = 5,
    /// <summary>splice() from the upstream failed, errno in <see cref="ResponseBodyRelay.Errno"/>.</summary>
    SpliceFailed = 6,
    StepMask = 7,

    /// <summary>The upstream connection is out of step (bytes past the body, or a body ended by close).</summary>
    UpstreamNotReusable = 8,
    /// <summary>The client's connection is closed after this response.</summary>
    CloseClient = 16,
    /// <summary>The chunked body is invalid (logged by the connection, which aborts once what was sendable is out).</summary>
    MalformedChunked = 32,
}

/// <summary>The response body, one per client connection and reused by each exchange: marks received
/// bytes as sendable by the body's framing, relays them to the client from the upstream buffer,
/// de-chunks for an HTTP/1.0 client, or splices a long Content-Length body through a worker pipe.
/// It knows the upstream connection and the client only through what each call passes in, and
/// reports back through <see cref="BodyOutcome"/>; it logs nothing and ends nothing itself.</summary>
public sealed unsafe class ResponseBodyRelay
{
    private readonly SplicePipes _pipes;

    private ResponseBodyMode _mode;
    private long _unscanned;          // Length mode: body bytes not yet received
    private ChunkedDecoder _chunks;
    private int _scan;                // end of the bytes in the upstream buffer that may be sent
    private bool _done;               // the framing says the body ended
    private bool _abortAfterFlush;
    private int _pipe = -1;           // the worker pipe this exchange splices its body through, or -1
    private int _pipeBytes;           // body bytes in that pipe, not yet spliced to the client
    private long _bodyReceived;       // body bytes received from the upstream, those that came with the head included
    private long _readAfterHead;      // bytes received from the upstream after its head was parsed
    private long _sentToClient;       // body bytes this relay wrote to the client

    /// <summary>A Content-Length body with at least this much left after the bytes that came with
    /// the head is spliced. Below it, the two splice calls cost more than recv+send of a buffer
    /// (perf/README.md, "splice()": 16 KiB bodies are slower spliced, 64 KiB ones twice as fast).</summary>
    private const long SpliceThreshold = 32 * 1024;

    public ResponseBodyRelay(SplicePipes pipes) => _pipes = pipes;

    /// <summary>The framing says the body ended.</summary>
    public bool Done => _done;
    public ResponseBodyMode Mode => _mode;
    /// <summary>End of the bytes in the upstream buffer that may be sent.</summary>
    public int Scan => _scan;
    /// <summary>Body bytes wait in the pipe for the client.</summary>
    public bool HasPipedBytes => _pipeBytes > 0;
    /// <summary>The errno of the last <see cref="BodyOutcome.ClientWriteFailed"/> or <see cref="BodyOutcome.SpliceFailed"/>.</summary>
    public int Errno { get; private set; }
    /// <summary>Body bytes received from the upstream ($upstream_response_length).</summary>
    public long BodyReceived => _bodyReceived;
    /// <summary>Bytes received from the upstream after its head (the head reader counts those before).</summary>
    public long ReadAfterHead => _readAfterHead;
    /// <summary>Body bytes written to the client by the relay (the head's gather write counts the rest).</summary>
    public long SentToClient => _sentToClient;

    /// <summary>A new exchange: no body yet.</summary>
    public void Reset()
    {
        _done = _abortAfterFlush = false;
        _mode = ResponseBodyMode.None;
        _scan = 0;
        _bodyReceived = _readAfterHead = _sentToClient = 0;
    }

    /// <summary>A response made here: its body is whole in the head's gather list.</summary>
    public void BeginLocal()
    {
        _done = true;
        _abortAfterFlush = false;
        _mode = ResponseBodyMode.None;
    }

    /// <summary>The upstream's head is parsed (<paramref name="headLength"/> bytes of <paramref name="up"/>'s
    /// buffer at <paramref name="buffer"/>): the body starts after it, and the bytes that came with the
    /// head are scanned.</summary>
    public BodyOutcome Begin(UpstreamConnection up, byte* buffer, ResponseBodyMode mode, long contentLength, int headLength)
    {
        _mode = mode;
        _chunks = default;
        _chunks.Reset();
        _unscanned = contentLength;
        _done = mode == ResponseBodyMode.None || (mode == ResponseBodyMode.Length && contentLength == 0);
        up.Start = _scan = headLength;
        _bodyReceived = up.End - headLength;
        return ScanBody(up, buffer);
    }

    /// <summary>Marks received body bytes as sendable, up to where the framing says the body ends.</summary>
    private BodyOutcome ScanBody(UpstreamConnection up, byte* ub)
    {
        var outcome = BodyOutcome.Waiting;
        if (_done || _scan == up.End && _mode != ResponseBodyMode.None) return outcome;
        switch (_mode)
        {
            case ResponseBodyMode.None:
                // bytes a bodiless response should not have
                return up.End > _scan ? BodyOutcome.UpstreamNotReusable : outcome;
            case ResponseBodyMode.Length:
                int take = (int)Math.Min(up.End - _scan, _unscanned);
                _scan += take;
                _unscanned -= take;
                _done = _unscanned == 0;
                break;
            case ResponseBodyMode.ChunkedPassthrough:
            {
                var s = _chunks.Skip(new ReadOnlySpan<byte>(ub + _scan, up.End - _scan), out int consumed);
                _scan += consumed;
                if (s == ChunkStatus.Done) _done = true;
                else if (s == ChunkStatus.Error) outcome = Malformed();
                break;
            }
            case ResponseBodyMode.Dechunk:
            {
                if (up.Start != _scan) return outcome;   // the previous data run is not sent yet
                var s = _chunks.Decode(new ReadOnlySpan<byte>(ub + _scan, up.End - _scan), out int consumed, out int ds, out int dl);
                if (s == ChunkStatus.Data)
                {
                    up.Start = _scan + ds;
                    _scan = up.Start + dl;
                }
                else
                {
                    _scan += consumed;
                    up.Start = _scan;
                    if (s == ChunkStatus.Done) _done = true;
                    else if (s == ChunkStatus.Error) outcome = Malformed();
                }
                break;
            }
            case ResponseBodyMode.UntilClose:
                _scan = up.End;
                break;
        }
        // More than the framing announced: that connection is out of step, and the client's
        // connection is closed after this response too.
        if (_done && up.End > _scan) outcome |= BodyOutcome.UpstreamNotReusable | BodyOutcome.CloseClient;
        return outcome;
    }

    private BodyOutcome Malformed()
    {
        _done = true;
        _abortAfterFlush = true;
        return BodyOutcome.MalformedChunked | BodyOutcome.UpstreamNotReusable | BodyOutcome.CloseClient;
    }

    /// <summary>Once the head is out: sends body bytes as they arrive; reads more when the buffer is
    /// drained. <paramref name="buffer"/> is <paramref name="up"/>'s buffer of <paramref name="bufferSize"/>
    /// bytes; a write that finds the client's socket full clears <paramref name="clientWriteReady"/>.</summary>
    public BodyOutcome Pump(UpstreamConnection up, byte* buffer, int bufferSize, SocketStream client, ref bool clientWriteReady, bool splice)
    {
        if (up.Start < _scan)
        {
            if (!clientWriteReady) return BodyOutcome.Waiting;
            var r = client.Send(buffer + up.Start, _scan - up.Start);
            if (r.IsError) return ClientWriteError(r, ref clientWriteReady);
            up.Start += (int)r.Value;
            _sentToClient += r.Value;
            if (up.Start == _scan && _mode == ResponseBodyMode.Dechunk) return BodyOutcome.Moved | ScanBody(up, buffer);
            return BodyOutcome.Moved;
        }
        if (_done) return _abortAfterFlush ? BodyOutcome.AbortFlushed : BodyOutcome.Finished;
        if (up.Start < up.End && _mode == ResponseBodyMode.Dechunk) return BodyOutcome.Moved | ScanBody(up, buffer);
        if (_pipe >= 0 || StartSplice(up, splice)) return PumpSplice(up, client, ref clientWriteReady);
        if (!up.ReadReady) return BodyOutcome.Waiting;
        if (up.Start == up.End) up.Start = up.End = _scan = 0;
        if (up.End == bufferSize) return BodyOutcome.Waiting;
        var n = up.Stream.Receive(buffer + up.End, bufferSize - up.End);
        if (n.Value > 0)
        {
            up.AfterReceive(n.Value, bufferSize - up.End);
            up.End += (int)n.Value;
            _bodyReceived += n.Value;
            _readAfterHead += n.Value;
            return BodyOutcome.Moved | ScanBody(up, buffer);
        }
        if (n.IsAgain)
        {
            up.ReadReady = false;
            return BodyOutcome.Waiting;
        }
        if (n.Value == 0 && _mode == ResponseBodyMode.UntilClose)
        {
            _done = true;
            return BodyOutcome.Moved | BodyOutcome.UpstreamNotReusable;
        }
        // A truncated body must never look complete to the client: the connection closes without finishing.
        return BodyOutcome.UpstreamClosedEarly;
    }

    /// <summary>Once the buffered body bytes are out, a long Content-Length body takes a worker pipe
    /// if one is free.</summary>
    private bool StartSplice(UpstreamConnection up, bool splice)
    {
        if (_mode != ResponseBodyMode.Length || _unscanned < SpliceThreshold || up.Start != up.End || !splice) return false;
        _pipe = _pipes.TryTake();
        _pipeBytes = 0;
        return _pipe >= 0;
    }

    /// <summary>The body through the pipe: fill it from the upstream only when it is empty (so an
    /// EAGAIN always means the socket is drained, never that the pipe is full), never past the
    /// body's last byte (what follows belongs to the connection's next response), then empty it
    /// into the client.</summary>
    private BodyOutcome PumpSplice(UpstreamConnection up, SocketStream client, ref bool clientWriteReady)
    {
        if (_pipeBytes > 0)
        {
            if (!clientWriteReady) return BodyOutcome.Waiting;
            var r = PipeInterop.Splice(_pipes.ReadFd(_pipe), client.Fd, _pipeBytes);
            if (r.IsError) return ClientWriteError(r, ref clientWriteReady);
            _pipeBytes -= (int)r.Value;
            _sentToClient += r.Value;
            return BodyOutcome.Moved;
        }
        if (_unscanned == 0)
        {
            ReturnPipe();
            _done = true;
            // The last splice stopped at the body's end, not at EAGAIN: whatever else is in the socket
            // would be read as the next response on this connection (as in ScanBody).
            if (up.ReadReady && SocketInterop.Peek(up.Fd) is { IsAgain: false } next)
                return BodyOutcome.Moved | BodyOutcome.UpstreamNotReusable | (next.Value > 0 ? BodyOutcome.CloseClient : 0);
            return BodyOutcome.Moved;
        }
        if (!up.ReadReady) return BodyOutcome.Waiting;
        var n = PipeInterop.Splice(up.Fd, _pipes.WriteFd(_pipe), Math.Min(_unscanned, _pipes.CapacityOf(_pipe)));
        if (n.Value > 0)
        {
            _pipeBytes = (int)n.Value;
            _unscanned -= n.Value;
            _bodyReceived += n.Value;
            _readAfterHead += n.Value;
            _pipes.SplicedBytes += n.Value;
            return BodyOutcome.Moved;
        }
        if (n.IsAgain)
        {
            up.ReadReady = false;
            return BodyOutcome.Waiting;
        }
        if (n.Value == 0) return BodyOutcome.UpstreamClosedEarly;
        Errno = n.Errno;
        return BodyOutcome.SpliceFailed;
    }

    /// <summary>A write to the client failed: full (write readiness cleared, nothing moved) or gone.</summary>
    private BodyOutcome ClientWriteError(PosixResult r, ref bool clientWriteReady)
    {
        if (r.IsAgain)
        {
            clientWriteReady = false;
            return BodyOutcome.Waiting;
        }
        Errno = r.Errno;
        return BodyOutcome.ClientWriteFailed;
    }

    /// <summary>The pipe goes back to the worker (the exchange's hold on its upstream connection ended).</summary>
    public void ReturnPipe()
    {
        if (_pipe < 0) return;
        _pipes.Return(_pipe, empty: _pipeBytes == 0);
        _pipe = -1;
        _pipeBytes = 0;
    }
}
