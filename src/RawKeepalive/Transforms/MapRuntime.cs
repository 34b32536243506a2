using System.Buffers;
using System.Text;
using RawKeepalive.Http;
using RawKeepalive.Config;
using RawKeepalive.Routing;

namespace RawKeepalive.Transforms;

/// <summary>Evaluates a map's variable for a request (ngx_http_map_variable): the source template is
/// written into a buffer of its exact length, then looked up in nginx's order (exact string,
/// case-insensitive; the longest "*.x" then "x.*" mask with <c>hostnames</c>; the first matching
/// regex; default). Nothing is cached, so <c>volatile</c> is what every map already is.</summary>
internal static class MapRuntime
{
    /// <summary>Sources up to this long are evaluated on the stack; longer ones in a pooled array.</summary>
    private const int StackSource = 1024;

    public static bool TryWrite(MapConfig map, IRequestVariables c, ref HeadWriter w, int depth)
    {
        // The usual source (a host, a header) fits the stack buffer and is evaluated once; only one
        // that does not is measured, then evaluated again into a pooled array of its exact length.
        Span<byte> stack = stackalloc byte[StackSource];
        var sourceWriter = new HeadWriter(stack);
        if (VariableWriter.TryWrite(map.Source, c, ref sourceWriter, depth + 1))
            return TryWriteValue(map, stack[..sourceWriter.Length], c, ref w, depth);

        int length = VariableWriter.Measure(map.Source, c, out _, depth + 1);
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        sourceWriter = new HeadWriter(rented.AsSpan(0, length));
        bool ok = VariableWriter.TryWrite(map.Source, c, ref sourceWriter, depth + 1)
            && TryWriteValue(map, rented.AsSpan(0, sourceWriter.Length), c, ref w, depth);
        ArrayPool<byte>.Shared.Return(rented);
        return ok;
    }

    /// <summary>The value <paramref name="source"/> selects. The source is a key, not output: only the
    /// chosen value's own client bytes count.</summary>
    private static bool TryWriteValue(MapConfig map, scoped Span<byte> source, IRequestVariables c, ref HeadWriter w, int depth) =>
        VariableWriter.TryWrite(Find(map, source), c, ref w, depth + 1);

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
