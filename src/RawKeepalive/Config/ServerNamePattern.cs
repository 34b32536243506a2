using System.Text;
using System.Text.RegularExpressions;

namespace RawKeepalive.Config;

public enum ServerNameKind : byte
{
    Exact,
    /// <summary>"*.example.com" (Text ".example.com"), or ".example.com", which also matches "example.com".</summary>
    LeadingWildcard,
    /// <summary>"www.example.*" (Text "www.example.").</summary>
    TrailingWildcard,
    Regex,
}

/// <summary>One server_name (or map hostnames key) classified as nginx's ngx_http_server_names does.
/// <see cref="Bytes"/> is the fixed part, lower-cased: the whole name, the suffix ".example.com" or the
/// prefix "www.example."; for a regex, the source without "~".</summary>
public sealed class ServerNamePattern
{
    public required ServerNameKind Kind { get; init; }
    public required string Text { get; init; }
    public required byte[] Bytes { get; init; }
    /// <summary>".example.com" form: the bare domain matches as well as its subdomains.</summary>
    public bool AlsoExact { get; init; }
    public Regex? Regex { get; init; }

    /// <summary>Classifies <paramref name="name"/>; null with <paramref name="error"/> set when nginx rejects it.</summary>
    public static ServerNamePattern? TryParse(string name, ConfigDirective where, out string? error)
    {
        error = null;
        if (name.StartsWith('~'))
        {
            string source = name[1..];
            return new ServerNamePattern
            {
                Kind = ServerNameKind.Regex, Text = source, Bytes = [],
                Regex = RegexPattern.Compile(source, caseless: true, where),
            };
        }
        string lower = name.ToLowerInvariant();
        int star = lower.IndexOf('*');
        if (star < 0 && !lower.StartsWith('.'))
            return new ServerNamePattern { Kind = ServerNameKind.Exact, Text = lower, Bytes = Encoding.ASCII.GetBytes(lower) };

        // Valid wildcards (ngx_hash_add_key): "*.rest", ".rest", "rest.*", with a single "*" and a non-empty rest.
        if (lower.StartsWith("*.", StringComparison.Ordinal) && lower.Length > 2 && lower.IndexOf('*', 1) < 0)
            return Leading(lower[1..], alsoExact: false);
        if (star < 0 && lower.Length > 1)
            return Leading(lower, alsoExact: true);
        if (lower.EndsWith(".*", StringComparison.Ordinal) && lower.Length > 2 && star == lower.Length - 1)
        {
            string prefix = lower[..^1];
            return new ServerNamePattern { Kind = ServerNameKind.TrailingWildcard, Text = prefix, Bytes = Encoding.ASCII.GetBytes(prefix) };
        }
        error = $"invalid server name or wildcard \"{name}\"";
        return null;
    }

    private static ServerNamePattern Leading(string suffix, bool alsoExact) => new()
    {
        Kind = ServerNameKind.LeadingWildcard, Text = suffix, Bytes = Encoding.ASCII.GetBytes(suffix), AlsoExact = alsoExact,
    };
}
