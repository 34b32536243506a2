using RawKeepalive.Config;
using RawKeepalive.Http;

namespace RawKeepalive.Observability;

/// <summary>What the log variables need to know about a request that the request head cannot tell:
/// its status, sizes and times, its tries upstream, and the response header values a template reads.
/// One per connection record, made once and reused for every request on it (nothing is allocated per
/// request). The exchange fills it: <see cref="ConnectionOpened"/> at accept, <see cref="Begin"/> at
/// the request's first byte, a try at a time through <see cref="BeginTry"/> and <see cref="Current"/>,
/// the heads at response-head time, then the totals before the log phase reads it.</summary>
public sealed class RequestRecord
{
    /// <summary>Tries kept per request. Past it the last entry is reused, so the try that answered is
    /// always the last one listed; <see cref="DroppedTries"/> counts the ones that were overwritten.</summary>
    public const int MaxTries = 8;

    private readonly UpstreamTry[] _tries = new UpstreamTry[MaxTries];

    public RequestRecord(HeaderCaptures captures) => Headers = new ResponseHeaderCapture(captures);

    /// <summary>Monotonic ms when the connection was accepted ($connection_time).</summary>
    public long ConnectionStartMs { get; private set; }

    /// <summary>Monotonic ms of the request's first byte ($request_time).</summary>
    public long StartMs { get; private set; }

    /// <summary>The status sent to the client ($status; 0 before there is one, printed "000"; 499 for a
    /// client that closed before the answer, as nginx).</summary>
    public int Status;
    /// <summary>Bytes sent to the client for this request, head and body ($bytes_sent).</summary>
    public long BytesSent;
    /// <summary>Of <see cref="BytesSent"/>, the response head's ($body_bytes_sent is the rest, at least 0).</summary>
    public long HeaderBytesSent;
    /// <summary>Bytes received from the client for this request: request line, header and body ($request_length).</summary>
    public long RequestLength;

    /// <summary>$sent_http_NAME and $upstream_http_NAME values, captured at response-head time.</summary>
    public ResponseHeaderCapture Headers { get; }

    public int TryCount { get; private set; }
    public int DroppedTries { get; private set; }

    public ReadOnlySpan<UpstreamTry> Tries => _tries.AsSpan(0, TryCount);

    /// <summary>The try in progress (the last one begun).</summary>
    public ref UpstreamTry Current => ref _tries[TryCount - 1];

    public long BodyBytesSent => Math.Max(BytesSent - HeaderBytesSent, 0);

    /// <summary>At accept.</summary>
    public void ConnectionOpened(long nowMs) => ConnectionStartMs = nowMs;

    /// <summary>At the request's first byte: forgets the previous request on the connection.</summary>
    public void Begin(long nowMs)
    {
        StartMs = nowMs;
        Status = 0;
        BytesSent = HeaderBytesSent = RequestLength = 0;
        TryCount = DroppedTries = 0;
        Headers.Clear();
    }

    /// <summary>A try starts: a connect begins, or a pooled connection is taken.</summary>
    /// <param name="peer">UpstreamPeer.NameBytes ("ip:port").</param>
    /// <param name="connectionRequests">Requests the connection will have carried with this one.</param>
    public ref UpstreamTry BeginTry(byte[] peer, bool reused, int connectionRequests, long nowMs)
    {
        if (TryCount == MaxTries) DroppedTries++;
        else TryCount++;
        ref var t = ref _tries[TryCount - 1];
        t = default;
        t.Peer = peer;
        t.Reused = reused;
        t.ConnectionRequests = connectionRequests;
        t.StartMs = nowMs;
        t.ConnectMs = t.HeaderMs = t.ResponseMs = -1;
        return ref t;
    }

    /// <summary>The connection is usable (connect finished; at once for a pooled one), as nginx sets
    /// connect_time when it first sends the request.</summary>
    public void Connected(long nowMs)
    {
        ref var t = ref Current;
        if (t.ConnectMs < 0) t.ConnectMs = nowMs - t.StartMs;
    }

    /// <summary>The upstream's response head was parsed: its status, $upstream_header_time, and the
    /// $upstream_http_NAME values (<paramref name="bytes"/> is the buffer the head's offsets are into).</summary>
    public void HeaderReceived(ResponseHead head, ReadOnlySpan<byte> bytes, long nowMs)
    {
        ref var t = ref Current;
        t.Status = head.Status;
        t.HeaderMs = nowMs - t.StartMs;
        Headers.CaptureUpstream(head, bytes);
    }

    /// <summary>The try is over (response complete, or it failed): $upstream_response_time. A failed try
    /// with no status gets <paramref name="failedStatus"/>, as nginx records 502 (error) or 504 (timeout).</summary>
    public void TryEnded(long nowMs, int failedStatus = 0)
    {
        if (TryCount == 0) return;
        ref var t = ref Current;
        if (t.ResponseMs < 0) t.ResponseMs = nowMs - t.StartMs;
        if (t.Status == 0) t.Status = failedStatus;
    }
}
