namespace RawKeepalive.Http;

/// <summary>Headers the proxy treats specially, classified once by the parser so the
/// rewriter never compares names again.</summary>
public enum HeaderKind : byte
{
    Other,
    Host,
    Connection,
    KeepAlive,
    ProxyConnection,
    TransferEncoding,
    ContentLength,
    Te,
    Trailer,
    Upgrade,
    Expect,
    Date,
    Server,
    XForwardedFor,
}

public struct HeaderField
{
    public Slice Name;
    /// <summary>The value without leading and trailing whitespace.</summary>
    public Slice Value;
    public HeaderKind Kind;

    /// <summary>Length of the whole field line in <paramref name="head"/>, from the name through its
    /// CRLF: what a rewriter forwards unchanged.</summary>
    public readonly int LineLength(ReadOnlySpan<byte> head) => head[Value.End..].IndexOf((byte)'\n') + 1 + Value.End - Name.Start;
}
