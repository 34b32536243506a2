namespace RawKeepalive.Http;

/// <summary>A parsed upstream response head: offsets into the upstream receive buffer.</summary>
public sealed class ResponseHead
{
    public const int MaxHeaders = 100;

    public int VersionMinor;
    public int Status;
    /// <summary>The reason phrase (may be empty).</summary>
    public Slice Reason;

    public readonly HeaderField[] Headers = new HeaderField[MaxHeaders];
    public int HeaderCount;
    /// <summary>Bytes from the start of the buffer through the blank line that ends the head.</summary>
    public int HeadLength;

    /// <summary>-1 when the response has no Content-Length.</summary>
    public long ContentLength = -1;
    public bool Chunked;
    /// <summary>Chunked after other codings (gzip, chunked): the Transfer-Encoding line is forwarded
    /// as it is, since the client needs to know the content is still gzip-coded.</summary>
    public bool ChunkedWithOtherCodings;
    public bool ConnectionClose, ConnectionKeepAlive;
    /// <summary>The Connection header has the "upgrade" option (e.g. a 101 Switching Protocols).</summary>
    public bool ConnectionUpgrade;
    /// <summary>Transfer-Encoding and Content-Length were both present: Transfer-Encoding won, but the
    /// upstream connection must not be reused (RFC 9112 6.3).</summary>
    public bool FramingConflict;
    public bool ConnectionNamesOthers;
    public Slice ConnectionValue;

    public void Reset()
    {
        VersionMinor = 0;
        Status = 0;
        Reason = ConnectionValue = default;
        HeaderCount = 0;
        HeadLength = 0;
        ContentLength = -1;
        Chunked = ChunkedWithOtherCodings = ConnectionClose = ConnectionKeepAlive = ConnectionUpgrade = ConnectionNamesOthers = FramingConflict = false;
    }
}
