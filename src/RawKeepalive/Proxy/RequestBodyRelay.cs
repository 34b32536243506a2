using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Upstream;

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

/// <summary>What one call into a <see cref="RequestBodyRelay"/> did: a step (the low bits, under
/// <see cref="StepMask"/>) and <see cref="HeadDropped"/>. The connection logs with its context and
/// answers or ends the exchange when the step says so.</summary>
[Flags]
public enum RequestBodyOutcome : byte
{
    /// <summary>Nothing moved: wait for readiness.</summary>
    Waiting = 0,
    Moved = 1,
    /// <summary>A de-chunked body is whole: the request can go upstream.</summary>
    Buffered = 2,
    /// <summary>The chunked body is malformed (400).</summary>
    InvalidChunked = 3,
    /// <summary>The chunked body is over client_max_body_size (413); <see cref="RequestBodyRelay.AnnouncedBytes"/> says how far.</summary>
    TooLarge = 4,
    /// <summary>A write upstream failed (not EAGAIN): errno in <see cref="RequestBodyRelay.Errno"/>, the call in <see cref="RequestBodyRelay.FailedCall"/>.</summary>
    UpstreamWriteFailed = 5,
    /// <summary>The client closed (or its read failed) before the body's end.</summary>
    ClientClosed = 6,
    StepMask = 7,

    /// <summary>The client buffer started over to take more body: the body's first bytes are gone, so
    /// the request can no longer be replayed.</summary>
    BodyRestarted = 8,

    /// <summary>With <see cref="BodyRestarted"/>, the buffer started over at 0, the head is gone from it
    /// too (only when the head leaves less than <see cref="RequestBodyRelay.MinBodyRoom"/> after it).</summary>
    HeadDropped = 16,
}

/// <summary>The request body, one per client connection and reused by each exchange: its framing,
/// marking received bytes as body, 100-continue, the head's gather list and the body streamed
/// upstream after it, and de-chunking a body whole for an HTTP/1.0 upstream. Offsets are into the
/// client buffer, which stays the connection's: each call passes its pointer, size and end in. It
/// reports back through <see cref="RequestBodyOutcome"/>; it logs nothing and answers nothing itself.</summary>
public sealed unsafe class RequestBodyRelay
{
    private static readonly byte[] Continue100 = PinnedBytes.Ascii("HTTP/1.1 100 Continue\r\n\r\n");

    /// <summary>When the buffer starts over for more body, the head stays before it if this much room is
    /// left after it (the log and variables still read it); a larger head is given up for the room.</summary>
    public const int MinBodyRoom = 4096;

    private int _start;              // first body byte, while the head is still buffered (replays start here)
    private int _pos;                // next request body byte to forward (or to skip)
    private int _scan;               // end of the bytes known to belong to the body
    private long _unscanned;         // Length mode: body bytes not yet seen
    private long _limit;             // client_max_body_size, 0 for none
    private RequestBodyMode _mode;
    private ChunkedDecoder _chunks;
    private bool _complete;          // every body byte has been received (not necessarily sent)
    private bool _headSent, _requestSent;
    private int _headBodyBytes;      // body bytes that went out with the head's gather write
    private byte[]? _buffered;       // de-chunked body for an HTTP/1.0 upstream; grows by doubling
    private int _bufferedLength;
    private int _bufferedSent;
    private int _continueSent = -1;  // -1: none owed; else bytes of "100 Continue" already sent
    private IovecList _headIov;
    private long _sentBytes;         // this try: every byte written upstream, head included ($upstream_bytes_sent)
    private long _receivedBody;      // body bytes received from the client ($request_length's body part)

    public RequestBodyMode Mode => _mode;
    /// <summary>Every body byte has been received (not necessarily sent).</summary>
    public bool Complete => _complete;
    public bool HeadSent => _headSent;
    /// <summary>PumpRequest's note that every byte of the request is out.</summary>
    public bool RequestSent => _requestSent;
    /// <summary>Next body byte to forward (or to skip).</summary>
    public int Pos => _pos;
    /// <summary>End of the bytes known to belong to the body.</summary>
    public int Scan => _scan;
    /// <summary>The de-chunked body's length (its Content-Length).</summary>
    public int BufferedLength => _bufferedLength;
    /// <summary>What a chunked body announced so far (for the 413 log line).</summary>
    public long AnnouncedBytes => _chunks.AnnouncedBytes;
    /// <summary>The errno of the last <see cref="RequestBodyOutcome.UpstreamWriteFailed"/>.</summary>
    public int Errno { get; private set; }
    /// <summary>The call that failed with <see cref="Errno"/>: "writev() failed" or "send() failed".</summary>
    public string FailedCall { get; private set; } = "";
    /// <summary>The head's gather list (the connection builds it; the relay sends it).</summary>
    public ref IovecList HeadIov => ref _headIov;
    /// <summary>Bytes written upstream on the current try, head included.</summary>
    public long SentBytes => _sentBytes;
    /// <summary>Body bytes received from the client so far.</summary>
    public long ReceivedBodyBytes => _receivedBody;

    /// <summary>Every byte of the request is out, whether or not the pump has come round to noting
    /// it (a response can be read in the same turn as the last body bytes went).</summary>
    public bool FullySent => _requestSent || _headSent && _complete
        && (_mode == RequestBodyMode.Buffered ? _bufferedSent == _bufferedLength : _pos == _scan);

    /// <summary>A new exchange whose body starts at <paramref name="bodyStart"/> in the client buffer.</summary>
    public void Reset(int bodyStart)
    {
        _start = _pos = _scan = bodyStart;
        _headSent = _requestSent = _complete = false;
        _headBodyBytes = 0;
        _receivedBody = 0;
        _buffered = null;
        _bufferedLength = _bufferedSent = 0;
    }

    /// <summary>Sets up the body's framing and scans what is already buffered (up to <paramref name="end"/>).
    /// Waiting, or the malformed body's step.</summary>
    public RequestBodyOutcome Start(RequestHead req, long maxBodySize, byte* buffer, int end)
    {
        _limit = maxBodySize;
        _chunks = ChunkedDecoder.ForRequest();
        if (req.Chunked)
        {
            _mode = RequestBodyMode.ChunkedPassthrough;
            _unscanned = 0;
        }
        else if (req.ContentLength > 0)
        {
            _mode = RequestBodyMode.Length;
            _unscanned = req.ContentLength;
        }
        else
        {
            _mode = RequestBodyMode.None;
            _complete = true;
            return RequestBodyOutcome.Waiting;
        }
        return ScanBody(buffer, end);
    }

    /// <summary>A chunked body for an HTTP/1.0 upstream: de-chunked from the start (the pass-through scan is forgotten).</summary>
    public void SwitchToBuffered()
    {
        _mode = RequestBodyMode.Buffered;
        _chunks = ChunkedDecoder.ForRequest();
        _scan = _pos;
        _complete = false;
    }

    /// <summary>The request was answered here (an unparseable head): it has no body, and what was
    /// received up to <paramref name="end"/> is consumed.</summary>
    public void Consume(int end)
    {
        _mode = RequestBodyMode.None;
        _complete = true;
        _pos = _scan = end;
        _receivedBody = 0;
    }

    /// <summary>A local response: nothing of the request counts as sent.</summary>
    public void ForgetSent() => _requestSent = false;

    /// <summary>After a local response, a body already fully buffered is skipped so the connection can be kept.</summary>
    public bool SkipUnsent()
    {
        if (!_complete) return false;
        _pos = _scan;
        return true;
    }

    /// <summary>The head's gather list is about to be built: the body bytes already buffered go with it.</summary>
    public int TakeHeadBody() =>
        _headBodyBytes = _mode is RequestBodyMode.Length or RequestBodyMode.ChunkedPassthrough ? _scan - _pos : 0;

    /// <summary>The head's gather list is built: nothing of this try is sent yet.</summary>
    public void HeadQueued()
    {
        _headSent = _requestSent = false;
        _sentBytes = 0;
    }

    /// <summary>A replay (stale connection or next peer): the body goes again from its start.</summary>
    public void Rewind()
    {
        _pos = _start;
        _bufferedSent = 0;   // a de-chunked body is all in memory: it goes again whole
    }

    /// <summary>Marks newly received bytes as body up to the body's end.</summary>
    private RequestBodyOutcome ScanBody(byte* buffer, int end)
    {
        if (_complete) return RequestBodyOutcome.Waiting;
        if (_mode == RequestBodyMode.Length)
        {
            int take = (int)Math.Min(end - _scan, _unscanned);
            _scan += take;
            _receivedBody += take;
            _unscanned -= take;
            _complete = _unscanned == 0;
            return RequestBodyOutcome.Waiting;
        }
        var status = _chunks.Skip(new ReadOnlySpan<byte>(buffer + _scan, end - _scan), out int consumed);
        _scan += consumed;
        _receivedBody += consumed;
        if (status == ChunkStatus.Done) _complete = true;
        if (status == ChunkStatus.Error) return RequestBodyOutcome.InvalidChunked;
        if (_limit > 0 && _chunks.AnnouncedBytes > _limit) return RequestBodyOutcome.TooLarge;
        return RequestBodyOutcome.Waiting;
    }

    /// <summary>nginx answers "Expect: 100-continue" from an HTTP/1.1 client before reading the body.</summary>
    public void ExpectContinue(RequestHead req, SocketStream client, ref bool clientWriteReady)
    {
        _continueSent = -1;
        if (!req.ExpectContinue || req.VersionMinor != 1 || _complete || _scan > _pos) return;
        _continueSent = 0;
        FlushContinue(client, ref clientWriteReady);
    }

    /// <summary>Sends what is owed of "100 Continue"; true when nothing is.</summary>
    public bool FlushContinue(SocketStream client, ref bool clientWriteReady)
    {
        if (_continueSent < 0 || _continueSent == Continue100.Length) return true;
        var r = client.Send(PinnedBytes.Address(Continue100) + _continueSent, Continue100.Length - _continueSent);
        if (r.Value > 0) _continueSent += (int)r.Value;
        else if (r.IsAgain) clientWriteReady = false;
        return _continueSent == Continue100.Length;
    }

    /// <summary>Sends the head, then streams the body; reads more body from the client (into the
    /// client buffer at <paramref name="buffer"/> of <paramref name="size"/> bytes, filled to
    /// <paramref name="end"/>) once everything buffered was forwarded.</summary>
    public RequestBodyOutcome Pump(UpstreamConnection up, byte* buffer, int size, ref int end, SocketStream client, ref bool clientReadReady)
    {
        if (!_headSent)
        {
            if (!up.WriteReady) return RequestBodyOutcome.Waiting;
            if (!Written(up.Stream.SendVector(_headIov.Current, _headIov.Remaining), up, "writev() failed", out long n, out var failed)) return failed;
            _headIov.Advance(n);
            if (!_headIov.IsEmpty) return RequestBodyOutcome.Moved;
            _headSent = true;
            _pos += _headBodyBytes;
            if (_mode == RequestBodyMode.None) _requestSent = true;
            return RequestBodyOutcome.Moved;
        }
        if (_mode == RequestBodyMode.Buffered) return SendBuffered(up);
        if (_pos < _scan)
        {
            if (!up.WriteReady) return RequestBodyOutcome.Waiting;
            if (!Written(up.Stream.Send(buffer + _pos, _scan - _pos), up, "send() failed", out long n, out var failed)) return failed;
            _pos += (int)n;
            return RequestBodyOutcome.Moved;
        }
        if (_complete)
        {
            _requestSent = true;
            return RequestBodyOutcome.Moved;
        }
        return Read(buffer, size, ref end, client, ref clientReadReady);
    }

    private RequestBodyOutcome SendBuffered(UpstreamConnection up)
    {
        if (_bufferedSent == _bufferedLength)
        {
            _requestSent = true;
            return RequestBodyOutcome.Moved;
        }
        if (!up.WriteReady) return RequestBodyOutcome.Waiting;
        PosixResult r;
        fixed (byte* p = _buffered) r = up.Stream.Send(p + _bufferedSent, _bufferedLength - _bufferedSent);
        if (!Written(r, up, "send() failed", out long n, out var failed)) return failed;
        _bufferedSent += (int)n;
        return RequestBodyOutcome.Moved;
    }

    /// <summary>The outcome of a write upstream: true with the bytes written; false when the socket
    /// is full (write readiness cleared, Waiting) or the write failed (UpstreamWriteFailed).</summary>
    private bool Written(PosixResult r, UpstreamConnection up, string call, out long written, out RequestBodyOutcome failed)
    {
        written = r.Value;
        failed = RequestBodyOutcome.Waiting;
        if (!r.IsError)
        {
            _sentBytes += written;
            return true;
        }
        if (r.IsAgain) up.WriteReady = false;
        else
        {
            Errno = r.Errno;
            FailedCall = call;
            failed = RequestBodyOutcome.UpstreamWriteFailed;
        }
        return false;
    }

    /// <summary>More request body from the client into the buffer. Once everything buffered was
    /// forwarded the buffer starts over, which also means the head can no longer be replayed.</summary>
    private RequestBodyOutcome Read(byte* buffer, int size, ref int end, SocketStream client, ref bool clientReadReady)
    {
        if (!clientReadReady) return RequestBodyOutcome.Waiting;
        var dropped = RequestBodyOutcome.Waiting;
        if (_headSent && _pos == _scan && (_pos == end || end == size))
        {
            int restart = size - _start >= MinBodyRoom ? _start : 0;
            int held = end - _pos;   // the start of a trailer line the decoder holds back, usually none
            Buffer.MemoryCopy(buffer + _pos, buffer + restart, held, held);
            _pos = _scan = restart;
            end = restart + held;
            dropped = restart == 0 ? RequestBodyOutcome.BodyRestarted | RequestBodyOutcome.HeadDropped : RequestBodyOutcome.BodyRestarted;
        }
        if (end == size) return dropped;
        var r = client.Receive(buffer + end, size - end);
        if (r.Value > 0)
        {
            end += (int)r.Value;
            var scanned = ScanBody(buffer, end);   // a malformed body is reported; either way the state moved
            return dropped | (scanned == RequestBodyOutcome.Waiting ? RequestBodyOutcome.Moved : scanned);
        }
        if (r.IsAgain)
        {
            clientReadReady = false;
            return dropped;
        }
        return dropped | RequestBodyOutcome.ClientClosed;
    }

    /// <summary>A chunked body for an HTTP/1.0 upstream is read whole and de-chunked first, bounded by
    /// client_max_body_size; the head stays in the buffer before the body (the request is built from it).
    /// Buffered when whole; ClientClosed when the client went away.</summary>
    public RequestBodyOutcome BufferChunked(byte* buffer, int size, ref int end, SocketStream client, ref bool clientReadReady)
    {
        while (true)
        {
            while (_pos < end && !_chunks.IsDone)
            {
                var status = _chunks.Decode(new ReadOnlySpan<byte>(buffer + _pos, end - _pos), out int consumed, out int ds, out int dl);
                if (status == ChunkStatus.Error) return RequestBodyOutcome.InvalidChunked;
                if (status == ChunkStatus.Data)
                {
                    if (_limit > 0 && _bufferedLength + dl > _limit) return RequestBodyOutcome.TooLarge;
                    if (_buffered is null || _bufferedLength + dl > _buffered.Length)
                        Array.Resize(ref _buffered, Math.Max(_bufferedLength + dl, 2 * (_buffered?.Length ?? 8 * 1024)));
                    new ReadOnlySpan<byte>(buffer + _pos + ds, dl).CopyTo(_buffered.AsSpan(_bufferedLength));
                    _bufferedLength += dl;
                }
                _pos += consumed;
                _receivedBody += consumed;
                if (status == ChunkStatus.NeedMore) break;   // it may hold back the start of a trailer line
            }
            if (_chunks.IsDone)
            {
                _scan = _pos;
                _complete = true;
                return RequestBodyOutcome.Buffered;
            }
            if (!clientReadReady) return RequestBodyOutcome.Waiting;
            // The head stays (the request is built from it once the body is whole); decoded bytes go.
            if (_pos == end || end == size)
            {
                int held = end - _pos;   // as in Read
                Buffer.MemoryCopy(buffer + _pos, buffer + _start, held, held);
                _pos = _scan = _start;
                end = _start + held;
            }
            var r = client.Receive(buffer + end, size - end);
            if (r.Value > 0) end += (int)r.Value;
            else if (r.IsAgain)
            {
                clientReadReady = false;
                return RequestBodyOutcome.Waiting;
            }
            else return RequestBodyOutcome.ClientClosed;
        }
    }
}
