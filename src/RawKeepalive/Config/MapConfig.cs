using System.Text.RegularExpressions;

namespace RawKeepalive.Config;

/// <summary>A <c>map $source $name { ... }</c> block, compiled: the source and every value are templates,
/// string keys sit in a case-insensitive dictionary searched by span (no string per lookup), and regexes
/// are compiled once. Matching order is nginx's: exact string, longest "*.x" mask, longest "x.*" mask
/// (both only with <c>hostnames</c>), first matching regex in file order, then default.</summary>
public sealed class MapConfig(string name, ConfigDirective where)
{
    /// <summary>The variable this map defines, without "$", lower-case.</summary>
    public string Name { get; } = name;
    public ConfigDirective Where { get; } = where;
    public ValueTemplate Source { get; internal set; } = Empty;
    public ValueTemplate Default { get; internal set; } = Empty;
    public bool Hostnames { get; internal set; }

    internal Dictionary<string, ValueTemplate> ExactKeys { get; } = new(StringComparer.OrdinalIgnoreCase);
    public Dictionary<string, ValueTemplate>.AlternateLookup<ReadOnlySpan<char>> Exact => ExactKeys.GetAlternateLookup<ReadOnlySpan<char>>();
    /// <summary>hostnames masks, longest first, so the first hit is the longest match.</summary>
    public (ServerNamePattern Mask, ValueTemplate Value)[] Leading { get; internal set; } = [];
    public (ServerNamePattern Mask, ValueTemplate Value)[] Trailing { get; internal set; } = [];
    public (Regex Regex, ValueTemplate Value)[] Regexes { get; internal set; } = [];

    public static readonly ValueTemplate Empty = new([], "");
}
