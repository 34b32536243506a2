namespace RawKeepalive.Config;

/// <summary>Reads <c>map</c> blocks as ngx_http_map_block does. The body is data, not directives: each line
/// is "key value;", or one of the parameters "default value;", "hostnames;", "volatile;". A key starting
/// with "~" is a regex ("~*" caseless); "\" escapes a key that would otherwise be a parameter or regex.
/// Shells for every map are made first (<see cref="Declare"/>) so a template may use a map defined later
/// in the file, as nginx allows.</summary>
internal static class MapBlockReader
{
    public static MapConfig Declare(ConfigDirective d, IReadOnlyCollection<MapConfig> already)
    {
        string target = d.Args[1];
        if (target.Length < 2 || target[0] != '$') throw ConfigError.At($"invalid variable name \"{target}\"", d);
        string name = target[1..].ToLowerInvariant();
        if (TemplateCompiler.IsBuiltIn(name) || already.Any(m => m.Name == name))
            throw ConfigError.At($"the duplicate \"{name}\" variable", d);
        return new MapConfig(name, d);
    }

    /// <summary>Fills the shell once every map name is known (templates may refer to any of them).</summary>
    public static void Read(MapConfig map, ConfigDirective d)
    {
        map.Source = TemplateCompiler.Compile(d.Args[0], d);
        var leading = new List<(ServerNamePattern, ValueTemplate)>();
        var trailing = new List<(ServerNamePattern, ValueTemplate)>();
        var regexes = new List<(System.Text.RegularExpressions.Regex, ValueTemplate)>();
        bool hasDefault = false;
        foreach (var line in d.Block!)
        {
            string key = line.Name;
            if (line.Args.Count == 0 && key is "hostnames" or "volatile")
            {
                if (key == "hostnames") map.Hostnames = true;
                continue;   // volatile: nothing is cached per request anyway
            }
            if (line.Args.Count != 1) throw ConfigError.At("invalid number of the map parameters", line);
            var value = TemplateCompiler.Compile(line.Args[0], line);
            if (key == "default")
            {
                if (hasDefault) throw ConfigError.At("duplicate default map parameter", line);
                hasDefault = true;
                map.Default = value;
                continue;
            }
            if (key.Length > 1 && key[0] == '~')
            {
                bool caseless = key.Length > 2 && key[1] == '*';
                string pattern = key[(caseless ? 2 : 1)..];
                regexes.Add((RegexPattern.Compile(pattern, caseless, line), value));
                continue;
            }
            if (key.Length > 0 && key[0] == '\\') key = key[1..];
            if (map.Hostnames && (key.Contains('*') || key.StartsWith('.')))
            {
                var mask = ServerNamePattern.TryParse(key, line, out string? error) ?? throw ConfigError.At(error!, line);
                if (mask.Kind == ServerNameKind.LeadingWildcard) leading.Add((mask, value));
                else trailing.Add((mask, value));
                continue;
            }
            if (map.Hostnames && key.EndsWith('.')) key = key[..^1];
            if (!map.ExactKeys.TryAdd(key, value))
                throw ConfigError.At($"conflicting parameter \"{key}\"", line);
        }
        map.Leading = [.. leading.OrderByDescending(e => e.Item1.Bytes.Length)];
        map.Trailing = [.. trailing.OrderByDescending(e => e.Item1.Bytes.Length)];
        map.Regexes = [.. regexes];
    }
}
