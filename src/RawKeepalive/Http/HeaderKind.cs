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
}
