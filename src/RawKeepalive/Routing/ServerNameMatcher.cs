using System.Text;
using RawKeepalive.Config;

namespace RawKeepalive.Routing;

/// <summary>nginx's virtual server selection for one listen address (ngx_http_find_virtual_server):
/// an exact name, else the longest "*.example.com" mask, else the longest "www.example.*" mask, else the
/// first matching regex in config order; no match means the address's default server. The host is
/// normalised first as $host is: lower-cased, port and trailing dot removed. Nothing here allocates.</summary>
public sealed class ServerNameMatcher
{
    /// <summary>Hosts longer than a DNS name may be go to the default server rather than to a larger buffer.</summary>
    public const int MaxHost = 255;

    private readonly Dictionary<string, ServerRuntime>.AlternateLookup<ReadOnlySpan<char>> _exact;
    private readonly (ServerNamePattern Mask, ServerRuntime Server)[] _leading;
    private readonly (ServerNamePattern Mask, ServerRuntime Server)[] _trailing;
    private readonly (ServerNamePattern Pattern, ServerRuntime Server)[] _regexes;

    public ServerNameMatcher(IReadOnlyList<ServerRuntime> servers)
    {
        var exact = new Dictionary<string, ServerRuntime>(StringComparer.Ordinal);
        var leading = new List<(ServerNamePattern, ServerRuntime)>();
        var trailing = new List<(ServerNamePattern, ServerRuntime)>();
        var regexes = new List<(ServerNamePattern, ServerRuntime)>();
        foreach (var server in servers)
        {
            foreach (var p in server.Config.NamePatterns)
            {
                switch (p.Kind)
                {
                    // The first server to claim a name keeps it (nginx warns "conflicting server name" and ignores later ones).
                    case ServerNameKind.Exact: exact.TryAdd(p.Text, server); break;
                    case ServerNameKind.LeadingWildcard: leading.Add((p, server)); break;
                    case ServerNameKind.TrailingWildcard: trailing.Add((p, server)); break;
                    case ServerNameKind.Regex: regexes.Add((p, server)); break;
                }
            }
        }
        _exact = exact.GetAlternateLookup<ReadOnlySpan<char>>();
        // Longest first, so the first hit is the most specific mask. OrderBy is stable: ties keep config order.
        _leading = [.. leading.OrderByDescending(e => e.Item1.Bytes.Length)];
        _trailing = [.. trailing.OrderByDescending(e => e.Item1.Bytes.Length)];
        _regexes = [.. regexes];
    }

    /// <summary>The server whose name matches <paramref name="host"/> (as sent: any case, maybe a port
    /// or a trailing dot), or null.</summary>
    public ServerRuntime? Find(ReadOnlySpan<byte> host)
    {
        host = Normalise(host);
        if (host.IsEmpty || host.Length > MaxHost) return null;
        Span<byte> lower = stackalloc byte[host.Length];
        Ascii.ToLower(host, lower, out _);
        Span<char> chars = stackalloc char[lower.Length];
        Latin1.Widen(lower, chars);

        if (_exact.TryGetValue(chars, out var server)) return server;
        foreach (var (mask, s) in _leading)
            if (MatchesMask(mask, lower)) return s;
        foreach (var (mask, s) in _trailing)
            if (MatchesMask(mask, lower)) return s;
        foreach (var (pattern, s) in _regexes)
            if (pattern.Regex!.IsMatch(chars)) return s;
        return null;
    }

    /// <summary>$host's rules: the port removed (not from an IPv6 literal's brackets), one trailing dot removed.</summary>
    public static ReadOnlySpan<byte> Normalise(ReadOnlySpan<byte> host)
    {
        if (host.IsEmpty) return host;
        if (host[0] == (byte)'[')
        {
            int close = host.IndexOf((byte)']');
            return close < 0 ? host : host[..(close + 1)];
        }
        int colon = host.LastIndexOf((byte)':');
        if (colon >= 0) host = host[..colon];
        if (!host.IsEmpty && host[^1] == (byte)'.') host = host[..^1];
        return host;
    }

    /// <summary>A wildcard mask against a lower-case host: "*.x" needs at least one character before ".x";
    /// ".x" also matches "x" itself; "x.*" needs at least one character after "x.".</summary>
    public static bool MatchesMask(ServerNamePattern mask, ReadOnlySpan<byte> lowerHost)
    {
        var fixedPart = mask.Bytes;
        if (mask.Kind == ServerNameKind.LeadingWildcard)
        {
            if (lowerHost.Length > fixedPart.Length && lowerHost.EndsWith(fixedPart)) return true;
            return mask.AlsoExact && lowerHost.SequenceEqual(fixedPart.AsSpan(1));
        }
        return mask.Kind == ServerNameKind.TrailingWildcard && lowerHost.Length > fixedPart.Length && lowerHost.StartsWith(fixedPart);
    }
}

/// <summary>Bytes to chars one for one, for regexes run over request bytes (nginx's PCRE sees bytes too).</summary>
internal static class Latin1
{
    public static void Widen(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        for (int i = 0; i < bytes.Length; i++) chars[i] = (char)bytes[i];
    }
}
