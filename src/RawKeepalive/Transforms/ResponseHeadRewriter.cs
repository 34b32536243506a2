using RawKeepalive.Http;
using RawKeepalive.Loop;

namespace RawKeepalive.Transforms;

/// <summary>The part of the client's response head that comes from the upstream: the status line
/// (always sent as HTTP/1.1) and the upstream header lines that survive, as iovecs over the
/// upstream receive buffer. Server, Date, framing and Connection are the connection's to add.</summary>
public static unsafe class ResponseHeadRewriter
{
    /// <summary>Our version, then the upstream's "200 OK\r\n" as received (its own "HTTP/1.x " is
    /// skipped: the client talks to us, not to the upstream).</summary>
    public static bool TryAppendStatusLine(ref IovecList iov, ResponseHead resp, byte* head)
    {
        int statusLineEnd = new ReadOnlySpan<byte>(head, resp.HeadLength).IndexOf((byte)'\n') + 1;
        return iov.Add(PinnedBytes.Address(HeaderBytes.ResponseVersion), HeaderBytes.ResponseVersion.Length)
            && iov.Add(head + 9, statusLineEnd - 9);
    }

    /// <summary>Appends the kept header lines, runs of adjacent ones as one iovec; false when the list is full.</summary>
    public static bool TryAppendKeptHeaders(ref IovecList iov, ResponseHead resp, byte* head)
    {
        var bytes = new ReadOnlySpan<byte>(head, resp.HeadLength);
        for (int i = 0; i < resp.HeaderCount; i++)
        {
            ref var h = ref resp.Headers[i];
            if (IsForwarded(resp, i, bytes) && !iov.AddAdjacent(head + h.Name.Start, h.LineLength(bytes))) return false;
        }
        return true;
    }

    /// <summary>Whether header line <paramref name="index"/> goes to the client (what $sent_http_NAME sees of the upstream's head).</summary>
    public static bool IsForwarded(ResponseHead resp, int index, ReadOnlySpan<byte> head) =>
        !Drops(ref resp.Headers[index], resp, head) && !resp.IsIgnored(index);

    /// <summary>Hop-by-hop headers, Transfer-Encoding (the connection writes its own framing), Date and
    /// Server (we send our own), and whatever the upstream's Connection header names.</summary>
    private static bool Drops(ref HeaderField h, ResponseHead resp, ReadOnlySpan<byte> head)
    {
        if (h.Kind.IsHopByHop() || h.Kind is HeaderKind.TransferEncoding or HeaderKind.Date or HeaderKind.Server) return true;
        return resp.ConnectionNamesOthers && ConnectionTokens.ConnectionNames(resp.ConnectionValue.Of(head), h.Name.Of(head));
    }
}
