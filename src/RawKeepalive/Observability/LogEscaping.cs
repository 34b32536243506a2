using RawKeepalive.Config;

namespace RawKeepalive.Observability;

/// <summary>nginx's escapes for a variable's value in a log line, applied in place: the value is written
/// raw first, then widened from its end backwards, so no second buffer is needed.
/// Default (ngx_http_log_escape): '"', '\', bytes below 0x20 and from 0x7f become "\xXX" (upper-case hex).
/// JSON (ngx_escape_json): '"' and '\' get a backslash; \n \r \t \b \f their letters; other bytes below
/// 0x20 "\u00XX"; everything else, UTF-8 included, stays.</summary>
public static class LogEscaping
{
    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    /// <summary>Escapes the <paramref name="length"/> bytes at the start of <paramref name="area"/> (which
    /// has room after them); the escaped length, or -1 when it does not fit the area.</summary>
    public static int Apply(Span<byte> area, int length, LogEscape escape)
    {
        if (escape == LogEscape.None) return length;
        var value = area[..length];
        int extra = 0;
        foreach (byte b in value) extra += Extra(b, escape);
        if (extra == 0) return length;
        int total = length + extra;
        if (total > area.Length) return -1;
        int to = total;
        for (int from = length - 1; from >= 0; from--)
        {
            byte b = area[from];
            int grow = Extra(b, escape);
            if (grow == 0)
            {
                area[--to] = b;
                continue;
            }
            to -= grow + 1;
            Write(area.Slice(to, grow + 1), b, escape);
        }
        return total;
    }

    /// <summary>How many bytes escaping <paramref name="b"/> adds.</summary>
    private static int Extra(byte b, LogEscape escape)
    {
        if (escape == LogEscape.Default) return b < 0x20 || b >= 0x7f || b is (byte)'"' or (byte)'\\' ? 3 : 0;
        if (b is (byte)'"' or (byte)'\\') return 1;
        if (b >= 0x20) return 0;
        return b is (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'\b' or (byte)'\f' ? 1 : 5;
    }

    private static void Write(Span<byte> to, byte b, LogEscape escape)
    {
        to[0] = (byte)'\\';
        if (escape == LogEscape.Default)
        {
            to[1] = (byte)'x';
            to[2] = Hex[b >> 4];
            to[3] = Hex[b & 0xF];
            return;
        }
        switch (b)
        {
            case (byte)'"' or (byte)'\\': to[1] = b; return;
            case (byte)'\n': to[1] = (byte)'n'; return;
            case (byte)'\r': to[1] = (byte)'r'; return;
            case (byte)'\t': to[1] = (byte)'t'; return;
            case (byte)'\b': to[1] = (byte)'b'; return;
            case (byte)'\f': to[1] = (byte)'f'; return;
        }
        "u00"u8.CopyTo(to[1..]);
        to[4] = Hex[b >> 4];
        to[5] = Hex[b & 0xF];
    }
}
