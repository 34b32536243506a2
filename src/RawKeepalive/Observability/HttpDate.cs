namespace RawKeepalive.Observability;

/// <summary>The current time as an HTTP date (RFC 9110 5.6.7), re-formatted at most once a second
/// into a fixed buffer: the Date header costs a copy, not a format.</summary>
public sealed class HttpDate
{
    public const int Length = 29;   // "Wed, 25 Nov 2026 01:33:40 GMT"
    private readonly byte[] _bytes = new byte[Length];
    private long _second = -1;

    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Called once per loop iteration.</summary>
    public void Refresh(long nowMs)
    {
        long second = nowMs / 1000;
        if (second == _second) return;
        _second = second;
        DateTime.UtcNow.TryFormat(_bytes, out _, "R");
    }
}
