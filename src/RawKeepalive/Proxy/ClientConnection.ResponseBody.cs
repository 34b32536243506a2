using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>This file: the response body: marking received bytes as sendable by its framing, relaying
/// them to the client from the upstream buffer, de-chunking for an HTTP/1.0 client, or splicing a long
/// Content-Length body through a worker pipe.</summary>
public sealed unsafe partial class ClientConnection
{
    private int _pipe = -1;           // the worker pipe this exchange splices its body through, or -1
    private int _pipeBytes;           // body bytes in that pipe, not yet spliced to the client

    /// <summary>A Content-Length body with at least this much left after the bytes that came with
    /// the head is spliced. Below it, the two splice calls cost more than recv+send of a buffer
    /// (perf/README.md, "splice()": 16 KiB bodies are slower spliced, 64 KiB ones twice as fast).</summary>
    private const long SpliceThreshold = 32 * 1024;

    /// <summary>Marks received body bytes as sendable, up to where the framing says the body ends.</summary>
    private void ScanResponseBody()
    {
        var up = _up!;
        if (_respBodyDone || _respScan == up.End && _respMode != ResponseBodyMode.None) return;
        byte* ub = _w.Slab.Pointer(up.Buffer);
        switch (_respMode)
        {
            case ResponseBodyMode.None:
                if (up.End > _respScan) _upstreamReusable = false;   // bytes a bodiless response should not have
                return;
            case ResponseBodyMode.Length:
                int take = (int)Math.Min(up.End - _respScan, _respUnscanned);
                _respScan += take;
                _respUnscanned -= take;
                _respBodyDone = _respUnscanned == 0;
                break;
            case ResponseBodyMode.ChunkedPassthrough:
            {
                var s = _respChunks.Skip(new ReadOnlySpan<byte>(ub + _respScan, up.End - _respScan), out int consumed);
                _respScan += consumed;
                if (s == ChunkStatus.Done) _respBodyDone = true;
                else if (s == ChunkStatus.Error) MalformedResponseBody();
                break;
            }
            case ResponseBodyMode.Dechunk:
            {
                if (up.Start != _respScan) return;   // the previous data run is not sent yet
                var s = _respChunks.Decode(new ReadOnlySpan<byte>(ub + _respScan, up.End - _respScan), out int consumed, out int ds, out int dl);
                if (s == ChunkStatus.Data)
                {
                    up.Start = _respScan + ds;
                    _respScan = up.Start + dl;
                }
                else
                {
                    _respScan += consumed;
                    up.Start = _respScan;
                    if (s == ChunkStatus.Done) _respBodyDone = true;
                    else if (s == ChunkStatus.Error) MalformedResponseBody();
                }
                break;
            }
            case ResponseBodyMode.UntilClose:
                _respScan = up.End;
                break;
        }
        if (_respBodyDone && up.End > _respScan)
        {
            // More than the framing announced: that connection is out of step, and the client's
            // connection is closed after this response too.
            _upstreamReusable = false;
            _keepClient = false;
        }
    }

    private void MalformedResponseBody()
    {
        _w.Log.Write(LogLevel.Error, Number, $"upstream sent invalid chunked response while reading upstream{Context(_up!.Peer)}");
        _upstreamReusable = false;
        _keepClient = false;
        _respBodyDone = true;
        _abortAfterFlush = true;
    }

    private bool _abortAfterFlush;

    /// <summary>Writes the head, then body bytes as they arrive; reads more when the buffer is drained.</summary>
    private bool PumpResponseOut()
    {
        if (!_respIov.IsEmpty)
        {
            if (!WriteReady) return false;
            if (!Written(SocketInterop.SendVector(Fd, _respIov.Current, _respIov.Remaining), out long sent)) return State != ClientState.Exchanging;
            _respStarted = true;
            _respIov.Advance(sent);
            return true;
        }
        var up = _up;
        if (up is null)
        {
            FinishExchange();
            return true;
        }
        byte* ub = _w.Slab.Pointer(up.Buffer);
        if (up.Start < _respScan)
        {
            if (!WriteReady) return false;
            if (!Written(SocketInterop.Send(Fd, ub + up.Start, _respScan - up.Start), out long sent)) return State != ClientState.Exchanging;
            up.Start += (int)sent;
            if (up.Start == _respScan && _respMode == ResponseBodyMode.Dechunk) ScanResponseBody();
            return true;
        }
        if (_respBodyDone)
        {
            if (_abortAfterFlush) AbortExchange();
            else FinishExchange();
            return true;
        }
        if (up.Start < up.End && _respMode == ResponseBodyMode.Dechunk)
        {
            ScanResponseBody();
            return true;
        }
        if (_pipe >= 0 || StartSplice(up)) return PumpSplice(up);
        if (!up.ReadReady) return false;
        if (up.Start == up.End) up.Start = up.End = _respScan = 0;
        if (up.End == BufferSize) return false;
        var n = SocketInterop.Receive(up.Fd, ub + up.End, BufferSize - up.End);
        if (n.Value > 0)
        {
            up.End += (int)n.Value;
            ScanResponseBody();
            return true;
        }
        if (n.IsAgain)
        {
            up.ReadReady = false;
            return false;
        }
        if (n.Value == 0 && _respMode == ResponseBodyMode.UntilClose)
        {
            _respBodyDone = true;
            _upstreamReusable = false;
            return true;
        }
        // A truncated body must never look complete to the client: close without finishing.
        _w.Log.Write(LogLevel.Error, Number, $"upstream prematurely closed connection while reading upstream{Context(up.Peer)}");
        AbortExchange();
        return true;
    }

    /// <summary>Once the buffered body bytes are out, a long Content-Length body takes a worker pipe
    /// if one is free.</summary>
    private bool StartSplice(UpstreamConnection up)
    {
        if (_respMode != ResponseBodyMode.Length || _respUnscanned < SpliceThreshold || up.Start != up.End || !_location!.Config.ProxySplice) return false;
        _pipe = _w.Pipes.TryTake();
        _pipeBytes = 0;
        return _pipe >= 0;
    }

    /// <summary>The body through the pipe: fill it from the upstream only when it is empty (so an
    /// EAGAIN always means the socket is drained, never that the pipe is full), never past the
    /// body's last byte (what follows belongs to the connection's next response), then empty it
    /// into the client.</summary>
    private bool PumpSplice(UpstreamConnection up)
    {
        if (_pipeBytes > 0)
        {
            if (!WriteReady) return false;
            if (!Written(PipeInterop.Splice(_w.Pipes.ReadFd(_pipe), Fd, _pipeBytes), out long sent)) return State != ClientState.Exchanging;
            _pipeBytes -= (int)sent;
            return true;
        }
        if (_respUnscanned == 0)
        {
            ReturnPipe();
            _respBodyDone = true;
            // The last splice stopped at the body's end, not at EAGAIN: whatever else is in the socket
            // would be read as the next response on this connection (as in ScanResponseBody).
            if (up.ReadReady && SocketInterop.Peek(up.Fd) is { IsAgain: false } next)
            {
                _upstreamReusable = false;
                if (next.Value > 0) _keepClient = false;
            }
            return true;
        }
        if (!up.ReadReady) return false;
        var n = PipeInterop.Splice(up.Fd, _w.Pipes.WriteFd(_pipe), Math.Min(_respUnscanned, _w.Pipes.CapacityOf(_pipe)));
        if (n.Value > 0)
        {
            _pipeBytes = (int)n.Value;
            _respUnscanned -= n.Value;
            _w.Pipes.SplicedBytes += n.Value;
            return true;
        }
        if (n.IsAgain)
        {
            up.ReadReady = false;
            return false;
        }
        string what = n.Value == 0 ? "upstream prematurely closed connection" : $"splice() failed ({n.Errno}: {PosixErrors.Describe(n.Errno)})";
        _w.Log.Write(LogLevel.Error, Number, $"{what} while reading upstream{Context(up.Peer)}");
        AbortExchange();
        return true;
    }

    private void ReturnPipe()
    {
        if (_pipe < 0) return;
        _w.Pipes.Return(_pipe, empty: _pipeBytes == 0);
        _pipe = -1;
        _pipeBytes = 0;
    }

    /// <summary>The outcome of a write to the client: true with the bytes written; false when the
    /// socket is full (write readiness cleared) or the client is gone (the exchange is aborted).</summary>
    private bool Written(PosixResult r, out long written)
    {
        written = r.Value;
        if (!r.IsError) return true;
        if (r.IsAgain) WriteReady = false;
        else
        {
            _w.Log.Write(LogLevel.Info, Number, $"writev() failed ({r.Errno}: {PosixErrors.Describe(r.Errno)}) while sending to client{Context()}");
            AbortExchange();
        }
        return false;
    }
}
