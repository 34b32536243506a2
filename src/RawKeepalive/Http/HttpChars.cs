using System.Buffers;

namespace RawKeepalive.Http;

/// <summary>Byte classes of RFC 9110/9112 as vectorizable SearchValues, built once at startup so the
/// parsers search whole runs instead of testing byte by byte.</summary>
internal static class HttpChars
{
    /// <summary>tchar (RFC 9110 5.6.2): method, field names, codings, Connection options.</summary>
    public static readonly SearchValues<byte> Token = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>Bytes that may not appear in a field value: every CTL except HTAB. The CR that ends
    /// the line is among them, so one search finds both the end of a value and any bad byte in it.</summary>
    public static readonly SearchValues<byte> NotFieldValue = SearchValues.Create(
        "\0\x01\x02\x03\x04\x05\x06\x07\x08\x0A\x0B\x0C\x0D\x0E\x0F\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1A\x1B\x1C\x1D\x1E\x1F\x7F"u8);

    /// <summary>Bytes that end a request-target or version in the request line: SP and every CTL.</summary>
    public static readonly SearchValues<byte> NotTarget = SearchValues.Create(
        " \0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1A\x1B\x1C\x1D\x1E\x1F\x7F"u8);

    /// <summary>The bytes RFC 3986 allows in a path and query (RFC 9112 3.2: origin-form, and absolute-form
    /// after its authority): unreserved, sub-delims, ':', '@', '/', '?', and '%' (which must start a
    /// pct-encoded triplet, see <see cref="IsPercentEncodingValid"/>). Everything else is refused: bytes
    /// 0x80 and up, '#', '[', ']', '"', '&lt;', '&gt;', '\', '^', '`', '{', '|', '}', SP and CTLs.</summary>
    public static readonly SearchValues<byte> Target = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"u8);

    /// <summary>reg-name and IPv4address (RFC 3986 3.2.2): unreserved, sub-delims and pct-encoded. No ':'
    /// (it starts the port), no '@' (no userinfo), no '/', '?', '#', so a Host value cannot smuggle a path
    /// or a second authority into routing.</summary>
    private static readonly SearchValues<byte> RegName = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%"u8);

    /// <summary>Inside an IP-literal's brackets: IPv6 (hex digits, ':', '.'), a zone ID (RFC 6874: '%25'
    /// and unreserved) and IPvFuture ("v" HEXDIG "." unreserved / sub-delims / ":").</summary>
    private static readonly SearchValues<byte> IpLiteral = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%:"u8);

    public const byte CR = (byte)'\r', LF = (byte)'\n', SP = (byte)' ', HTAB = (byte)'\t';

    /// <summary>The longest port <see cref="IsAuthority"/> accepts: 1 to 5 digits.</summary>
    public const int MaxPortDigits = 5;

    public static bool IsOws(byte b) => b is SP or HTAB;

    public static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && !s.ContainsAnyExcept(Token);

    /// <summary>uri-host [ ":" port ] as a Host value or an absolute-form authority (RFC 9110 7.2, RFC 3986
    /// 3.2.2-3.2.3), stricter than the grammar where a lenient reading could route differently: the host is
    /// never empty (an empty Host is refused, as nginx does), a port is 1 to 5 digits (an empty port after
    /// ':' is refused), and every '%' is a whole pct-encoded triplet.</summary>
    public static bool IsAuthority(ReadOnlySpan<byte> s)
    {
        int hostEnd;
        if (s.IsEmpty) return false;
        if (s[0] == (byte)'[')
        {
            int close = s.IndexOf((byte)']');
            if (close < 2 || s.Slice(1, close - 1).ContainsAnyExcept(IpLiteral)) return false;
            hostEnd = close + 1;
        }
        else
        {
            hostEnd = s.IndexOf((byte)':');
            if (hostEnd < 0) hostEnd = s.Length;
            if (hostEnd == 0 || s.Slice(0, hostEnd).ContainsAnyExcept(RegName)) return false;
        }
        if (!IsPercentEncodingValid(s.Slice(0, hostEnd))) return false;
        if (hostEnd == s.Length) return true;
        if (s[hostEnd] != (byte)':') return false;
        var port = s.Slice(hostEnd + 1);
        return port.Length is >= 1 and <= MaxPortDigits && !port.ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }

    /// <summary>True when every '%' in <paramref name="s"/> is followed by two hex digits (RFC 3986 2.1
    /// pct-encoded). "%zz", "%4" and a lone trailing '%' are not URI syntax.</summary>
    public static bool IsPercentEncodingValid(ReadOnlySpan<byte> s)
    {
        int i = s.IndexOf((byte)'%');
        while (i >= 0)
        {
            if (i + 2 >= s.Length || !char.IsAsciiHexDigit((char)s[i + 1]) || !char.IsAsciiHexDigit((char)s[i + 2])) return false;
            s = s.Slice(i + 3);
            i = s.IndexOf((byte)'%');
        }
        return true;
    }

    /// <summary>Removes optional whitespace (SP/HTAB) from both ends, returning the offsets kept.</summary>
    public static void TrimOws(ReadOnlySpan<byte> buffer, ref int start, ref int end)
    {
        while (start < end && IsOws(buffer[start])) start++;
        while (end > start && IsOws(buffer[end - 1])) end--;
    }

    public static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> s)
    {
        int start = 0, end = s.Length;
        TrimOws(s, ref start, ref end);
        return s.Slice(start, end - start);
    }

    /// <summary>1*DIGIT with at most 18 digits, so the value always fits a long without overflow checks.</summary>
    public static bool TryParseDecimal(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > 18) return false;
        foreach (byte b in s)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return false;
            value = value * 10 + d;
        }
        return true;
    }
}
