using System.Text;
using RawKeepalive.Config;

namespace RawKeepalive.Proxy;

/// <summary>Evaluates a map's variable for a request (ngx_http_map_variable): the source template is
/// written into a stack buffer, then looked up in nginx's order (exact string, case-insensitive; the
/// longest "*.x" then "x.*" mask with <c>hostnames</c>; the first matching regex; default). Nothing is
/// cached, so <c>volatile</c> is what every map already is.</summary>
internal static class MapRuntime
{
    /// <summary>Source values longer than this are cut (nginx has no limit; real sources are hosts, URIs, headers).</summary>
    private const int MaxSource = 2048;

    public static int Write(MapConfig map, ClientConnection c, Span<byte> dest, int depth)
    {
        Span<byte> source = stackalloc byte[MaxSource];
        int n = VariableWriter.Write(map.Source, c, source, depth + 1);
        var value = Find(map, source[..n]);
        return VariableWriter.Write(value, c, dest, depth + 1);
    }

    /// <summary>The value template <paramref name="source"/> selects (may lower-case it in place).</summary>
    public static ValueTemplate Find(MapConfig map, Span<byte> source)
    {
        if (map.Hostnames)
        {
            if (!source.IsEmpty && source[^1] == (byte)'.') source = source[..^1];
            Ascii.ToLowerInPlace(source, out _);
        }
        Span<char> chars = stackalloc char[source.Length];
        Latin1.Widen(source, chars);
        if (map.Exact.TryGetValue(chars, out var value)) return value;
        foreach (var (mask, v) in map.Leading)
            if (ServerNameMatcher.MatchesMask(mask, source)) return v;
        foreach (var (mask, v) in map.Trailing)
            if (ServerNameMatcher.MatchesMask(mask, source)) return v;
        foreach (var (regex, v) in map.Regexes)
            if (regex.IsMatch(chars)) return v;
        return map.Default;
    }
}
