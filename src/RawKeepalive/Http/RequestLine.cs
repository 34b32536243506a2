namespace RawKeepalive.Http;

/// <summary>request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 3), with exactly one
/// SP between parts. The version is judged before the target so that "PRI * HTTP/2.0" and other
/// well-formed foreign versions get 505, whatever their target looks like.</summary>
internal static class RequestLine
{
    /// <summary>The longest method served (RFC 9112 3: a server that receives a method longer than any
    /// it implements SHOULD respond with 501). nginx's longest known method has 9 bytes; unknown
    /// methods up to this length are forwarded.</summary>
    public const int MaxMethodLength = 32;

    /// <summary>Fills method, target and version from the line at <paramref name="pos"/> and moves
    /// <paramref name="pos"/> past its CRLF. Returns 0, or the status to answer with.</summary>
    public static int Parse(ReadOnlySpan<byte> buffer, ref int pos, RequestHead head)
    {
        int start = pos;
        int m = buffer.Slice(start).IndexOfAnyExcept(HttpChars.Token);
        if (IsMethodTooLong(buffer.Slice(start), m)) return 501;
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
        // A proxy that tunnels nothing: CONNECT is refused whatever its target (as nginx since 1.21.1).
        if (head.Method == HttpMethod.Connect) return 405;

        pos = cr + 2;
        return 0;
    }

    /// <summary>True when the line starting <paramref name="line"/> has more than <see cref="MaxMethodLength"/>
    /// token bytes before anything else (<paramref name="tokenRun"/>: its IndexOfAnyExcept(Token), -1 when
    /// the line so far is all token bytes). Judged on a partial line too, so the verdict never waits for
    /// the end of a line that may be kilobytes long.</summary>
    public static bool IsMethodTooLong(ReadOnlySpan<byte> line, int tokenRun) =>
        (tokenRun < 0 ? line.Length : tokenRun) > MaxMethodLength;

    /// <summary>HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. HTTP/1.0 is served as such; any
    /// other HTTP/1.x is served as HTTP/1.1, the highest minor version we implement (RFC 9110 2.5: a
    /// recipient of a higher minor version processes the message as its own highest one). Other major
    /// versions, and HTTP/0.x, get 505.</summary>
    private static int ParseVersion(ReadOnlySpan<byte> v, RequestHead head)
    {
        if (v.Length != 8 || !v.StartsWith("HTTP/"u8) || !char.IsAsciiDigit((char)v[5]) || v[6] != (byte)'.' || !char.IsAsciiDigit((char)v[7]))
            return 400;
        if (v[5] != (byte)'1') return 505;
        head.VersionMinor = v[7] == (byte)'0' ? 0 : 1;
        return 0;
    }
}
