namespace RawKeepalive.Http;

/// <summary>request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 3), with exactly one
/// SP between parts. The version is judged before the target so that "PRI * HTTP/2.0" and other
/// well-formed foreign versions get 505, whatever their target looks like.</summary>
internal static class RequestLine
{
    /// <summary>Fills method, target and version from the line at <paramref name="pos"/> and moves
    /// <paramref name="pos"/> past its CRLF. Returns 0, or the status to answer with.</summary>
    public static int Parse(ReadOnlySpan<byte> buffer, ref int pos, RequestHead head)
    {
        int start = pos;
        int m = buffer.Slice(start).IndexOfAnyExcept(HttpChars.Token);
        if (m <= 0 || buffer[start + m] != HttpChars.SP) return 400;
        head.MethodToken = new Slice(start, m);
        head.Method = HttpMethodNames.Classify(buffer.Slice(start, m));

        int targetStart = start + m + 1;
        int t = buffer.Slice(targetStart).IndexOfAny(HttpChars.NotTarget);
        // t == 0: empty target or a second SP; a CR here is an HTTP/0.9-style line with no version.
        if (t <= 0 || buffer[targetStart + t] != HttpChars.SP) return 400;
        head.Target = new Slice(targetStart, t);

        int versionStart = targetStart + t + 1;
        int v = buffer.Slice(versionStart).IndexOfAny(HttpChars.NotTarget);
        int cr = versionStart + v;
        if (v < 0 || buffer[cr] != HttpChars.CR || cr + 1 >= buffer.Length || buffer[cr + 1] != HttpChars.LF) return 400;
        int status = ParseVersion(buffer.Slice(versionStart, v), head);
        if (status != 0) return status;

        pos = cr + 2;
        return 0;
    }

    /// <summary>HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. Only 1.0 and 1.1 are served.</summary>
    private static int ParseVersion(ReadOnlySpan<byte> v, RequestHead head)
    {
        if (v.Length != 8 || !v.StartsWith("HTTP/"u8) || !char.IsAsciiDigit((char)v[5]) || v[6] != (byte)'.' || !char.IsAsciiDigit((char)v[7]))
            return 400;
        if (v[5] != (byte)'1' || v[7] > (byte)'1') return 505;
        head.VersionMinor = v[7] - '0';
        return 0;
    }
}
