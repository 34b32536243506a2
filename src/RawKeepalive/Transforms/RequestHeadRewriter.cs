using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Routing;

namespace RawKeepalive.Transforms;

/// <summary>The part of the upstream request head that comes from the client: the request line
/// (path under the location's proxy_pass URI, query kept, the upstream's HTTP version) and the
/// client header lines that survive, as iovecs over the client's receive buffer. Nothing is
/// copied; generated headers, framing and body bytes are the connection's to add after.</summary>
public static unsafe class RequestHeadRewriter
{
    /// <summary>Appends the request line and the kept header lines of <paramref name="req"/>, whose
    /// offsets are into the bytes at <paramref name="head"/>. Runs of adjacent kept lines share one
    /// iovec, so a head with few dropped headers costs a handful of entries, not one per line.
    /// False when the gather list is full (the head must then not be sent at all).</summary>
    public static bool TryAppend(ref IovecList iov, RequestHead req, byte* head, LocationRuntime location)
    {
        if (!iov.Add(head + req.MethodToken.Start, req.MethodToken.Length + 1)) return false;   // "GET "
        var path = req.Path;
        bool ok;
        if (location.ProxyUri is { } uri)
        {
            // nginx replaces the part of the path the location matched with the proxy_pass URI.
            int matched = Math.Min(location.PathBytes.Length, path.Length);
            ok = iov.Add(PinnedBytes.Address(uri), uri.Length) && iov.Add(head + path.Start + matched, path.Length - matched);
        }
        else if (path.IsEmpty) ok = iov.Add(PinnedBytes.Address(HeaderBytes.Slash), 1);   // absolute-form target without a path
        else ok = iov.Add(head + path.Start, path.Length);
        if (req.HasQuery) ok = ok && iov.Add(head + req.Query.Start - 1, req.Query.Length + 1);   // with its '?'
        var version = location.UpstreamHttp10 ? HeaderBytes.RequestVersion10 : HeaderBytes.RequestVersion11;
        if (!ok || !iov.Add(PinnedBytes.Address(version), version.Length)) return false;

        var bytes = new ReadOnlySpan<byte>(head, req.HeadLength);
        for (int i = 0; i < req.HeaderCount; i++)
        {
            ref var h = ref req.Headers[i];
            if (!Drops(ref h, req, bytes, location) && !iov.AddAdjacent(head + h.Name.Start, h.LineLength(bytes))) return false;
        }
        return true;
    }

    /// <summary>Hop-by-hop headers, framing we regenerate, Host and every header a proxy_set_header
    /// replaces, whatever the client's Connection header names, and names with '_' unless
    /// underscores_in_headers is on.</summary>
    private static bool Drops(ref HeaderField h, RequestHead req, ReadOnlySpan<byte> head, LocationRuntime location)
    {
        // Host comes from proxy_set_header (Host $proxy_host by default), Expect is answered here,
        // and the framing headers are regenerated for the body as it is sent.
        if (h.Kind.IsHopByHop() || h.Kind is HeaderKind.Host or HeaderKind.Expect or HeaderKind.TransferEncoding or HeaderKind.ContentLength)
            return true;
        // The parser classified names with '_' (and refused those that would read as framing or Host).
        if (h.Kind == HeaderKind.Underscored && !location.Config.UnderscoresInHeaders) return true;
        var name = h.Name.Of(head);
        if (location.SetsHeader(name)) return true;
        return req.ConnectionNamesOthers && ConnectionTokens.ConnectionNames(req.ConnectionValue.Of(head), name);
    }
}
