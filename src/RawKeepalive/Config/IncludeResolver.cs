using System.IO.Enumeration;

namespace RawKeepalive.Config;

/// <summary>Turns an <c>include</c> argument into the files it names, as nginx does with glob(3): a
/// relative pattern is under the main config file's directory; "*" and "?" may appear in any path
/// component; matches are sorted and hidden files are skipped; a pattern with wildcards may match
/// nothing, a plain path must exist.</summary>
internal static class IncludeResolver
{
    public static IReadOnlyList<string> Resolve(string pattern, string baseDirectory, ConfigDirective where)
    {
        string path = Path.IsPathRooted(pattern) ? pattern : Path.Combine(baseDirectory, pattern);
        if (!HasWildcard(path))
        {
            if (!File.Exists(path))
                throw ConfigError.At($"open() \"{path}\" failed (2: No such file or directory)", where);
            return [path];
        }

        var matches = new List<string> { "" };
        string[] parts = path.Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            bool last = i == parts.Length - 1;
            var next = new List<string>();
            foreach (string prefix in matches)
            {
                string joined = i == 0 ? part : prefix + "/" + part;
                if (!HasWildcard(part))
                {
                    if (last ? File.Exists(joined) : i == 0 || Directory.Exists(joined)) next.Add(joined);
                    continue;
                }
                string dir = i == 0 ? "." : prefix.Length == 0 ? "/" : prefix;
                if (!Directory.Exists(dir)) continue;
                var entries = last ? Directory.EnumerateFiles(dir) : Directory.EnumerateDirectories(dir);
                foreach (string entry in entries)
                {
                    string name = Path.GetFileName(entry);
                    if (name.StartsWith('.') && !part.StartsWith('.')) continue;
                    if (FileSystemName.MatchesSimpleExpression(part, name, ignoreCase: false))
                        next.Add(i == 0 ? name : prefix + "/" + name);
                }
            }
            matches = next;
        }
        matches.Sort(StringComparer.Ordinal);
        return matches;
    }

    private static bool HasWildcard(string s) => s.AsSpan().IndexOfAny('*', '?') >= 0;
}
