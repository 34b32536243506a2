using System.Text;
using RawKeepalive.Native;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>The context nginx appends to an exchange's error log lines.</summary>
public static class LogContext
{
    /// <summary>", client: …, server: …, request: "…", upstream: "…", host: "…"" (the request, upstream
    /// and host parts only while the head is still buffered).</summary>
    public static string Format(Exchange x, UpstreamPeer? peer, string? upstreamName = null)
    {
        var req = x.Request;
        var head = x.HeadAvailable ? x.HeadBytes : default;
        Span<byte> addr = stackalloc byte[64];
        int n = SockAddr.FormatAddress(x.Client.PeerAddress, addr);
        string requestLine = !head.IsEmpty ? Encoding.ASCII.GetString(head[..req.Target.End]) + (req.VersionMinor == 1 ? " HTTP/1.1" : " HTTP/1.0") : "";
        string s = $", client: {Encoding.ASCII.GetString(addr[..n])}, server: {Encoding.ASCII.GetString(x.Server?.FirstName ?? [])}, request: \"{requestLine}\"";
        string? upstream = peer?.Name ?? upstreamName;
        if (upstream is not null && !head.IsEmpty) s += $", upstream: \"http://{upstream}{Encoding.ASCII.GetString(head[req.Path.Start..req.Target.End])}\"";
        if (req.HasHost && !head.IsEmpty) s += $", host: \"{Encoding.ASCII.GetString(req.Host.Of(head))}\"";
        return s;
    }
}
