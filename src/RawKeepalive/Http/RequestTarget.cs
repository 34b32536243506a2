using System.Text;

namespace RawKeepalive.Http;

/// <summary>Splits a request-target (RFC 9112 3.2) into Path and Query, and checks that its form fits
/// the method: asterisk only for OPTIONS, authority-form only (and always) for CONNECT.</summary>
internal static class RequestTarget
{
    /// <summary>Returns 0 or 400. <paramref name="authority"/> is the authority of an absolute-form target
    /// (empty otherwise); the caller lets it override the Host header once the headers are read.</summary>
    public static int Parse(ReadOnlySpan<byte> buffer, RequestHead head, out Slice authority)
    {
        authority = default;
        Slice t = head.Target;
        var target = t.Of(buffer);
        // A fragment is never part of a request-target; a client that sends one is broken, and an
        // upstream might route on it differently than we do.
        if (target.Contains((byte)'#')) return 400;

        if (target[0] == (byte)'/')
        {
            if (head.Method == HttpMethod.Connect) return 400;
            SplitPathQuery(buffer, t.Start, t.End, head);
            return 0;
        }
        if (target.Length == 1 && target[0] == (byte)'*')
        {
            if (head.Method != HttpMethod.Options) return 400;
            head.Path = t; // "*" stands for the server itself: the rewriter forwards it as the path.
            return 0;
        }
        if (head.Method == HttpMethod.Connect)
            return IsAuthorityForm(target) ? 0 : 400;

        int scheme = target.Length >= 7 && Ascii.EqualsIgnoreCase(target.Slice(0, 7), "http://"u8) ? 7
            : target.Length >= 8 && Ascii.EqualsIgnoreCase(target.Slice(0, 8), "https://"u8) ? 8
            : 0;
        if (scheme == 0) return 400;
        int authStart = t.Start + scheme;
        int stop = buffer.Slice(authStart, t.End - authStart).IndexOfAny((byte)'/', (byte)'?');
        int authEnd = stop < 0 ? t.End : authStart + stop;
        var auth = buffer.Slice(authStart, authEnd - authStart);
        // '@' (userinfo) is outside the Host class: RFC 9110 4.2.4 forbids it for http(s) URIs.
        if (auth.IsEmpty || !HttpChars.IsHost(auth)) return 400;
        authority = new Slice(authStart, authEnd - authStart);
        // No path after the authority: Path stays empty and "/" is implied (RequestHead.Path).
        SplitPathQuery(buffer, authEnd, t.End, head);
        return 0;
    }

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

    /// <summary>authority-form = uri-host ":" port, the port being required.</summary>
    private static bool IsAuthorityForm(ReadOnlySpan<byte> target)
    {
        int colon = target.LastIndexOf((byte)':');
        if (colon <= 0 || colon == target.Length - 1) return false;
        return HttpChars.IsHost(target.Slice(0, colon)) && !target.Slice(colon + 1).ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }
}
