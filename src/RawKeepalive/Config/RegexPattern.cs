using System.Text.RegularExpressions;

namespace RawKeepalive.Config;

/// <summary>Compiles the PCRE patterns of server_name, location and map into .NET regexes at load, so
/// the hot path only runs IsMatch over a span. PCRE's "(?P&lt;name&gt;" is spelled "(?&lt;name&gt;" in .NET;
/// the rest of the common syntax is shared.</summary>
internal static class RegexPattern
{
    public static Regex Compile(string pattern, bool caseless, ConfigDirective where)
    {
        string dotnet = pattern.Replace("(?P<", "(?<", StringComparison.Ordinal);
        var options = RegexOptions.CultureInvariant | (caseless ? RegexOptions.IgnoreCase : RegexOptions.None);
        try
        {
            return new Regex(dotnet, options);
        }
        catch (RegexParseException e)
        {
            // nginx: pcre2_compile() failed: missing closing parenthesis in "(foo" at ""
            throw ConfigError.At($"pcre2_compile() failed: {Describe(e.Error)} in \"{pattern}\" at \"{Rest(pattern, e.Offset)}\"", where);
        }
    }

    private static string Rest(string pattern, int offset) => offset >= 0 && offset <= pattern.Length ? pattern[offset..] : "";

    /// <summary>"InsufficientClosingParentheses" → "insufficient closing parentheses".</summary>
    private static string Describe(RegexParseError error)
    {
        string name = error.ToString();
        var text = new System.Text.StringBuilder(name.Length + 8);
        foreach (char c in name)
        {
            if (char.IsUpper(c) && text.Length > 0) text.Append(' ');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}
