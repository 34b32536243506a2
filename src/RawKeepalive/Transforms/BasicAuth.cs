using RawKeepalive.Http;

namespace RawKeepalive.Transforms;

/// <summary>$remote_user as ngx_http_auth_basic_user finds it: "Basic " (any case), spaces, then base64
/// (nginx's decoder: standard alphabet, '=' ends it, padding optional, any other byte refuses the
/// whole value) of "user:password"; the user is what precedes the first ':'. Decoded straight into the
/// writer, twice over the encoded text (once to check it, once to write), so nothing is buffered.</summary>
internal static class BasicAuth
{
    /// <summary>The user's length, or -1 when there is none (no Basic credentials, bad base64, no ':', empty user).</summary>
    public static int UserLength(ReadOnlySpan<byte> authorization)
    {
        var encoded = Encoded(authorization);
        if (encoded.IsEmpty) return -1;
        int len = 0;
        while (len < encoded.Length && encoded[len] != (byte)'=')
        {
            if (Value(encoded[len]) < 0) return -1;
            len++;
        }
        if (len % 4 == 1) return -1;
        int decoded = 0;
        Span<byte> group = stackalloc byte[3];
        for (int at = 0; at < len; at += 4)
        {
            int n = Decode(encoded.Slice(at, Math.Min(4, len - at)), group);
            int colon = group[..n].IndexOf((byte)':');
            if (colon >= 0) return decoded + colon > 0 ? decoded + colon : -1;
            decoded += n;
        }
        return -1;
    }

    /// <summary>Writes the first <paramref name="userLength"/> decoded bytes (from <see cref="UserLength"/>).</summary>
    public static bool TryWriteUser(ReadOnlySpan<byte> authorization, int userLength, ref HeadWriter w)
    {
        var encoded = Encoded(authorization);
        Span<byte> group = stackalloc byte[3];
        for (int at = 0; userLength > 0; at += 4)
        {
            int n = Decode(encoded.Slice(at, Math.Min(4, encoded.Length - at)), group);
            int take = Math.Min(n, userLength);
            if (!w.TryAppendClient(group[..take])) return false;
            userLength -= take;
        }
        return true;
    }

    private static ReadOnlySpan<byte> Encoded(ReadOnlySpan<byte> value)
    {
        if (value.Length < 6 || !System.Text.Ascii.EqualsIgnoreCase(value[..6], "Basic "u8)) return default;
        return value[6..].TrimStart((byte)' ');
    }

    /// <summary>Up to four base64 characters to up to three bytes (a '=' ends the group early).</summary>
    private static int Decode(ReadOnlySpan<byte> chars, Span<byte> into)
    {
        int count = 0;
        while (count < chars.Length && chars[count] != (byte)'=') count++;
        int a = count > 0 ? Value(chars[0]) : 0, b = count > 1 ? Value(chars[1]) : 0;
        int c = count > 2 ? Value(chars[2]) : 0, d = count > 3 ? Value(chars[3]) : 0;
        into[0] = (byte)(a << 2 | b >> 4);
        into[1] = (byte)(b << 4 | c >> 2);
        into[2] = (byte)(c << 6 | d);
        return count switch { 4 => 3, 3 => 2, 2 => 1, _ => 0 };
    }

    private static int Value(byte ch) => ch switch
    {
        >= (byte)'A' and <= (byte)'Z' => ch - 'A',
        >= (byte)'a' and <= (byte)'z' => ch - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => ch - '0' + 52,
        (byte)'+' => 62,
        (byte)'/' => 63,
        _ => -1,
    };
}
