namespace RawKeepalive.Http;

/// <summary>How the response body reaches the client.</summary>
public enum ResponseBodyMode : byte
{
    None,
    Length,
    /// <summary>Chunked from the upstream, forwarded unchanged to an HTTP/1.1 client.</summary>
    ChunkedPassthrough,
    /// <summary>Chunked from the upstream to an HTTP/1.0 client: data only, then close.</summary>
    Dechunk,
    /// <summary>No framing: the body ends when the upstream closes, and so does the client connection.</summary>
    UntilClose,
}
