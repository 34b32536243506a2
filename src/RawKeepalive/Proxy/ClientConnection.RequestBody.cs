using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>This file: the request body: its framing, scanning what arrives, 100-continue, sending the
/// head and streaming the body upstream, and de-chunking a body whole for an HTTP/1.0 upstream.</summary>
public sealed unsafe partial class ClientConnection
{
    /// <summary>Sets up body framing and scans what is already buffered. False when the request was answered.</summary>
    private bool StartRequestBody()
    {
        _reqChunks = ChunkedDecoder.ForRequest();
        if (_req.Chunked)
        {
            _bodyMode = RequestBodyMode.ChunkedPassthrough;
            _bodyUnscanned = 0;
        }
        else if (_req.ContentLength > 0)
        {
            _bodyMode = RequestBodyMode.Length;
            _bodyUnscanned = _req.ContentLength;
        }
        else
        {
            _bodyMode = RequestBodyMode.None;
            _bodyComplete = true;
            return true;
        }
        return ScanRequestBody();
    }

    /// <summary>Marks newly received bytes as body up to the body's end. False when the body is malformed (answered 400).</summary>
    private bool ScanRequestBody()
    {
        if (_bodyComplete) return true;
        if (_bodyMode == RequestBodyMode.Length)
        {
            int take = (int)Math.Min(_end - _bodyScan, _bodyUnscanned);
            _bodyScan += take;
            _bodyUnscanned -= take;
            _bodyComplete = _bodyUnscanned == 0;
            return true;
        }
        var status = _reqChunks.Skip(new ReadOnlySpan<byte>(BufferPointer + _bodyScan, _end - _bodyScan), out int consumed);
        _bodyScan += consumed;
        if (status == ChunkStatus.Done) _bodyComplete = true;
        if (status == ChunkStatus.Error)
        {
            _w.Log.Write(LogLevel.Info, Number, $"client sent invalid chunked body{Context()}");
            RejectBody(400);
            return false;
        }
        long limit = _location?.Config.ClientMaxBodySize ?? 0;
        if (limit > 0 && _reqChunks.AnnouncedBytes > limit)
        {
            _w.Log.Write(LogLevel.Error, Number, $"client intended to send too large chunked body: {_reqChunks.AnnouncedBytes}+ bytes{Context()}");
            RejectBody(413);
            return false;
        }
        return true;
    }

    /// <summary>A body found bad while it streams: answered if the client has seen no response yet
    /// (the upstream connection, which got part of it, is closed), else the exchange is aborted.</summary>
    private void RejectBody(int status)
    {
        if (_respStarted) AbortExchange();
        else RespondLocal(status, close: true);
    }

    private static readonly byte[] Continue100 = PinnedBytes.Ascii("HTTP/1.1 100 Continue\r\n\r\n");
    private int _continueSent = -1;   // -1: none owed; else bytes of "100 Continue" already sent

    /// <summary>nginx answers "Expect: 100-continue" from an HTTP/1.1 client before reading the body.</summary>
    private void SendContinueIfExpected()
    {
        _continueSent = -1;
        if (!_req.ExpectContinue || _req.VersionMinor != 1 || _bodyComplete || _bodyScan > _bodyPos) return;
        _continueSent = 0;
        FlushContinue();
    }

    private bool FlushContinue()
    {
        if (_continueSent < 0 || _continueSent == Continue100.Length) return true;
        var r = SocketInterop.Send(Fd, PinnedBytes.Address(Continue100) + _continueSent, Continue100.Length - _continueSent);
        if (r.Value > 0) _continueSent += (int)r.Value;
        else if (r.IsAgain) WriteReady = false;
        return _continueSent == Continue100.Length;
    }

    /// <summary>Sends the head, then streams the body; true when something moved.</summary>
    private bool PumpRequest()
    {
        var up = _up!;
        if (!_headSent)
        {
            if (!up.WriteReady) return false;
            if (!Written(SocketInterop.SendVector(up.Fd, _reqIov.Current, _reqIov.Remaining), up, "writev() failed", out long n)) return _up != up;
            _reqIov.Advance(n);
            if (!_reqIov.IsEmpty) return true;
            _headSent = true;
            _bodyPos += _headBodyBytes;
            if (_bodyMode == RequestBodyMode.None) _requestSent = true;
            return true;
        }
        if (_bodyMode == RequestBodyMode.Buffered) return SendBufferedBody(up);
        if (_bodyPos < _bodyScan)
        {
            if (!up.WriteReady) return false;
            if (!Written(SocketInterop.Send(up.Fd, BufferPointer + _bodyPos, _bodyScan - _bodyPos), up, "send() failed", out long n)) return _up != up;
            _bodyPos += (int)n;
            return true;
        }
        if (_bodyComplete)
        {
            _requestSent = true;
            return true;
        }
        return ReadRequestBody();
    }

    /// <summary>Every byte of the request is out, whether or not PumpRequest has come round to noting
    /// it in _requestSent (a response can be read in the same turn as the last body bytes went).</summary>
    private bool RequestFullySent => _requestSent || _headSent && _bodyComplete
        && (_bodyMode == RequestBodyMode.Buffered ? _bufferedBodySent == _bufferedLength : _bodyPos == _bodyScan);

    private bool SendBufferedBody(UpstreamConnection up)
    {
        if (_bufferedBodySent == _bufferedLength)
        {
            _requestSent = true;
            return true;
        }
        if (!up.WriteReady) return false;
        PosixResult r;
        fixed (byte* p = _bufferedBody) r = SocketInterop.Send(up.Fd, p + _bufferedBodySent, _bufferedLength - _bufferedBodySent);
        if (!Written(r, up, "send() failed", out long n)) return _up != up;
        _bufferedBodySent += (int)n;
        return true;
    }

    /// <summary>The outcome of a write upstream: true with the bytes written; false when the socket
    /// is full (write readiness cleared) or the write failed (handled: the upstream is released).</summary>
    private bool Written(PosixResult r, UpstreamConnection up, string call, out long written)
    {
        written = r.Value;
        if (!r.IsError) return true;
        if (r.IsAgain) up.WriteReady = false;
        else UpstreamFailed(r.Errno, call, "sending request to");
        return false;
    }

    /// <summary>More request body from the client into the buffer. Once everything buffered was
    /// forwarded the buffer starts over, which also means the head can no longer be replayed.</summary>
    private bool ReadRequestBody()
    {
        if (!ReadReady) return false;
        if (_headSent && _bodyPos == _bodyScan && (_bodyPos == _end || _end == BufferSize))
        {
            int held = _end - _bodyPos;   // the start of a trailer line the decoder holds back, usually none
            Buffer.MemoryCopy(BufferPointer + _bodyPos, BufferPointer, held, held);
            _start = _bodyPos = _bodyScan = _headStart = 0;
            _end = held;
            _headBuffered = false;
        }
        if (_end == BufferSize) return false;
        var r = SocketInterop.Receive(Fd, BufferPointer + _end, BufferSize - _end);
        if (r.Value > 0)
        {
            _end += (int)r.Value;
            ScanRequestBody();   // a malformed body is answered inside; either way the state moved
            return true;
        }
        if (r.IsAgain)
        {
            ReadReady = false;
            return false;
        }
        _w.Log.Write(LogLevel.Info, Number, $"client prematurely closed connection while sending request body{Context()}");
        AbortExchange();
        return true;
    }

    /// <summary>A chunked body for an HTTP/1.0 upstream is read whole and de-chunked first, bounded by client_max_body_size.</summary>
    private bool BufferChunkedBody()
    {
        var limit = _location!.Config.ClientMaxBodySize;
        while (true)
        {
            while (_bodyPos < _end && !_reqChunks.IsDone)
            {
                var status = _reqChunks.Decode(new ReadOnlySpan<byte>(BufferPointer + _bodyPos, _end - _bodyPos), out int consumed, out int ds, out int dl);
                if (status == ChunkStatus.Error)
                {
                    RespondLocal(400, close: true);
                    return true;
                }
                if (status == ChunkStatus.Data)
                {
                    if (limit > 0 && _bufferedLength + dl > limit)
                    {
                        _w.Log.Write(LogLevel.Error, Number, $"client intended to send too large chunked body{Context()}");
                        RespondLocal(413, close: true);
                        return true;
                    }
                    if (_bufferedBody is null || _bufferedLength + dl > _bufferedBody.Length)
                        Array.Resize(ref _bufferedBody, Math.Max(_bufferedLength + dl, 2 * (_bufferedBody?.Length ?? 8 * 1024)));
                    new ReadOnlySpan<byte>(BufferPointer + _bodyPos + ds, dl).CopyTo(_bufferedBody.AsSpan(_bufferedLength));
                    _bufferedLength += dl;
                }
                _bodyPos += consumed;
                if (status == ChunkStatus.NeedMore) break;   // it may hold back the start of a trailer line
            }
            if (_reqChunks.IsDone)
            {
                _bodyScan = _bodyPos;
                _bodyComplete = true;
                ConnectUpstream(fresh: false);
                return true;
            }
            if (!ReadReady) return false;
            // The head stays (the request is built from it once the body is whole); decoded bytes go.
            if (_bodyPos == _end || _end == BufferSize)
            {
                int held = _end - _bodyPos;   // as in ReadRequestBody
                Buffer.MemoryCopy(BufferPointer + _bodyPos, BufferPointer + _bodyStart, held, held);
                _bodyPos = _bodyScan = _bodyStart;
                _end = _bodyStart + held;
            }
            var r = SocketInterop.Receive(Fd, BufferPointer + _end, BufferSize - _end);
            if (r.Value > 0) _end += (int)r.Value;
            else if (r.IsAgain)
            {
                ReadReady = false;
                return false;
            }
            else
            {
                Close();
                return false;
            }
        }
    }
}
