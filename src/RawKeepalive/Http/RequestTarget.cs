using System.Text;

namespace RawKeepalive.Http;

/// <summary>Splits a request-target (RFC 9112 3.2) into Path and Query, checks its bytes against RFC 3986,
/// and checks that its form fits the method: asterisk only for OPTIONS; authority-form never reaches
/// here (CONNECT is refused in the request line).</summary>
internal static class RequestTarget
{
    /// <summary>Returns 0 or 400. <paramref name="authority"/> is the authority of an absolute-form target
    /// (empty otherwise); the caller lets it override the Host header once the headers are read.</summary>
    /// <remarks>A byte outside <see cref="HttpChars.Target"/> (non-ASCII, '#', '"', '{', ...) or a '%' that
    /// does not start a pct-encoded triplet is a 400: such a target is not a URI, and an upstream that
    /// decodes or normalises it its own way could route it differently than we did.</remarks>
    public static int Parse(ReadOnlySpan<byte> buffer, RequestHead head, out Slice authority)
    {
        authority = default;
        Slice t = head.Target;
        var target = t.Of(buffer);

        if (target[0] == (byte)'/')
        {
            if (!IsPathAndQuery(target)) return 400;
            SplitPathQuery(buffer, t.Start, t.End, head);
            return 0;
        }
        if (target.Length == 1 && target[0] == (byte)'*')
        {
            if (head.Method != HttpMethod.Options) return 400;
            head.Path = t; // "*" stands for the server itself
            head.IsAsteriskOptions = true;
            return 0;
        }

        int scheme = target.Length >= 7 && Ascii.EqualsIgnoreCase(target.Slice(0, 7), "http://"u8) ? 7
            : target.Length >= 8 && Ascii.EqualsIgnoreCase(target.Slice(0, 8), "https://"u8) ? 8
            : 0;
        if (scheme == 0) return 400;
        int authStart = t.Start + scheme;
        int stop = buffer.Slice(authStart, t.End - authStart).IndexOfAny((byte)'/', (byte)'?');
        int authEnd = stop < 0 ? t.End : authStart + stop;
        // '@' (userinfo) is outside the authority we accept: RFC 9110 4.2.4 forbids it for http(s) URIs.
        // The port is checked as in a Host header (1 to 5 digits).
        if (!HttpChars.IsAuthority(buffer.Slice(authStart, authEnd - authStart))) return 400;
        if (!IsPathAndQuery(buffer.Slice(authEnd, t.End - authEnd))) return 400;
        authority = new Slice(authStart, authEnd - authStart);
        // No path after the authority: Path stays empty and "/" is implied (RequestHead.Path).
        SplitPathQuery(buffer, authEnd, t.End, head);
        return 0;
    }

    /// <summary>path-abempty [ "?" query ] bytes (RFC 3986 3.3, 3.4): '#' is outside the set, so a
    /// fragment, which is never part of a request-target, is refused with the rest.</summary>
    private static bool IsPathAndQuery(ReadOnlySpan<byte> s) => !s.ContainsAnyExcept(HttpChars.Target) && HttpChars.IsPercentEncodingValid(s);

    private static void SplitPathQuery(ReadOnlySpan<byte> buffer, int from, int to, RequestHead head)
    {
        int q = buffer.Slice(from, to - from).IndexOf((byte)'?');
        if (q < 0)
        {
            head.Path = new Slice(from, to - from);
            return;
        }
        head.Path = new Slice(from, q);
        head.Query = new Slice(from + q + 1, to - from - q - 1);
        head.HasQuery = true;
    }
}
