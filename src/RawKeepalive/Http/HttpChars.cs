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

    /// <summary>uri-host [":" port] (RFC 3986 reg-name, IP-literal, IPv4): unreserved, sub-delims,
    /// pct-encoded, ':' and brackets. Excludes '/', '?', '#', '@' (no userinfo), spaces, CTLs and
    /// non-ASCII, so a Host value cannot smuggle a path or a second authority into routing.</summary>
    public static readonly SearchValues<byte> Host = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%:[]"u8);

    public const byte CR = (byte)'\r', LF = (byte)'\n', SP = (byte)' ', HTAB = (byte)'\t';

    public static bool IsOws(byte b) => b is SP or HTAB;

    public static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && !s.ContainsAnyExcept(Token);

    public static bool IsHost(ReadOnlySpan<byte> s) => !s.ContainsAnyExcept(Host);

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
