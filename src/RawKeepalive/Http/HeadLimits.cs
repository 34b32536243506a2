namespace RawKeepalive.Http;

/// <summary>large_client_header_buffers' per-line limit: a request line longer than one large
/// buffer is 414, a header line longer than one is 431 (nginx answers 400 there; RFC 6585's 431
/// says what happened).</summary>
public static class HeadLimits
{
    /// <summary>414, 431, or 0 when every line of <paramref name="head"/> (a whole head or the start
    /// of one; the unfinished last line counts as it stands) is at most <paramref name="maxLine"/>
    /// bytes without its line ending.</summary>
    public static int OversizedLine(ReadOnlySpan<byte> head, int maxLine)
    {
        bool requestLine = true;
        while (!head.IsEmpty)
        {
            int nl = head.IndexOf((byte)'\n');
            int length = nl < 0 ? head.Length : nl > 0 && head[nl - 1] == (byte)'\r' ? nl - 1 : nl;
            if (length > maxLine) return requestLine ? 414 : 431;
            if (nl < 0) return 0;
            if (length > 0) requestLine = false;   // empty lines before the request line do not count
            head = head[(nl + 1)..];
        }
        return 0;
    }
}
