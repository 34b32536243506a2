using System.Text;

namespace RawKeepalive.Http;

/// <summary>The Connection header's option list (RFC 9110 7.6.1).</summary>
public static class ConnectionTokens
{
    /// <summary>True when the comma-separated token list <paramref name="connectionValue"/> names
    /// <paramref name="headerName"/> (case-insensitive): the rewriter drops such hop-by-hop headers.</summary>
    public static bool ConnectionNames(ReadOnlySpan<byte> connectionValue, ReadOnlySpan<byte> headerName)
    {
        var list = new ListElements(connectionValue);
        while (list.MoveNext(out var option))
            if (!option.IsEmpty && Ascii.EqualsIgnoreCase(option, headerName)) return true;
        return false;
    }

    /// <summary>Folds one Connection header's options into the flags; false when an option is not a
    /// token (a malformed header). Flags accumulate over several Connection headers.</summary>
    internal static bool Accumulate(ReadOnlySpan<byte> value, ref bool close, ref bool keepAlive, ref bool upgrade, ref bool others)
    {
        var list = new ListElements(value);
        while (list.MoveNext(out var option))
        {
            if (option.IsEmpty) continue;
            if (!HttpChars.IsToken(option)) return false;
            if (Ascii.EqualsIgnoreCase(option, "close"u8)) close = true;
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8)) keepAlive = true;
            else if (Ascii.EqualsIgnoreCase(option, "upgrade"u8)) upgrade = true;
            else others = true;
        }
        return true;
    }
}
