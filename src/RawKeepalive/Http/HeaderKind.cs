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
    /// <summary>A request field name with an '_' (a valid token) that is none of the above with '_'
    /// read as '-' (those are refused by the parser). Set only by the request parser: dropped on the
    /// way upstream unless underscores_in_headers is on, as nginx drops them by default.</summary>
    Underscored,
}

public static class HeaderKinds
{
    /// <summary>Headers about one connection, not the message, that neither rewriter forwards:
    /// Connection, TE and Upgrade (RFC 9110 7.6.1), Trailer (RFC 2616's hop-by-hop list), and the
    /// legacy Keep-Alive and Proxy-Connection. Transfer-Encoding is connection-specific too, but
    /// each direction has its own rule for it, so it is not here.</summary>
    public static bool IsHopByHop(this HeaderKind kind) => kind is HeaderKind.Connection or HeaderKind.KeepAlive
        or HeaderKind.ProxyConnection or HeaderKind.Te or HeaderKind.Trailer or HeaderKind.Upgrade;
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
