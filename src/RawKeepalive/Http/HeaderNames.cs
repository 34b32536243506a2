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

    private static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lower) => Ascii.EqualsIgnoreCase(name, lower);
}
