using System.Text;

namespace RawKeepalive.Http;

/// <summary>Maps a field name to its HeaderKind once, at parse time. The switch on length rules out
/// almost every name before a single byte is compared.</summary>
internal static class HeaderNames
{
    public static HeaderKind Classify(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => Is(name, "te"u8) ? HeaderKind.Te : HeaderKind.Other,
        4 => Is(name, "host"u8) ? HeaderKind.Host : Is(name, "date"u8) ? HeaderKind.Date : HeaderKind.Other,
        6 => Is(name, "server"u8) ? HeaderKind.Server : Is(name, "expect"u8) ? HeaderKind.Expect : HeaderKind.Other,
        7 => Is(name, "trailer"u8) ? HeaderKind.Trailer : Is(name, "upgrade"u8) ? HeaderKind.Upgrade : HeaderKind.Other,
        10 => Is(name, "connection"u8) ? HeaderKind.Connection : Is(name, "keep-alive"u8) ? HeaderKind.KeepAlive : HeaderKind.Other,
        14 => Is(name, "content-length"u8) ? HeaderKind.ContentLength : HeaderKind.Other,
        15 => Is(name, "x-forwarded-for"u8) ? HeaderKind.XForwardedFor : HeaderKind.Other,
        16 => Is(name, "proxy-connection"u8) ? HeaderKind.ProxyConnection : HeaderKind.Other,
        17 => Is(name, "transfer-encoding"u8) ? HeaderKind.TransferEncoding : HeaderKind.Other,
        _ => HeaderKind.Other,
    };

    /// <summary>The longest name <see cref="Classify"/> knows ("transfer-encoding").</summary>
    private const int LongestKnown = 17;

    /// <summary>The kind of a request field name that contains '_': <see cref="HeaderKind.Underscored"/>,
    /// unless the name read with every '_' as '-' is framing, hop-by-hop, Host or Expect (Transfer_Encoding,
    /// Content_Length, Keep_Alive, Proxy_Connection): then that kind, which the parser refuses. Such a name
    /// is framing or hop-by-hop to any upstream that folds '_' into '-' (CGI, WSGI, Rack and PHP map both
    /// spellings to one variable), so it must never reach one.</summary>
    public static HeaderKind ClassifyUnderscored(ReadOnlySpan<byte> name)
    {
        if (name.Length > LongestKnown) return HeaderKind.Underscored;
        Span<byte> folded = stackalloc byte[LongestKnown];
        folded = folded.Slice(0, name.Length);
        name.CopyTo(folded);
        folded.Replace((byte)'_', (byte)'-');
        var kind = Classify(folded);
        return kind.IsHopByHop() || kind is HeaderKind.Host or HeaderKind.ContentLength or HeaderKind.TransferEncoding or HeaderKind.Expect
            ? kind : HeaderKind.Underscored;
    }

    private static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lower) => Ascii.EqualsIgnoreCase(name, lower);
}
