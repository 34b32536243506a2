namespace RawKeepalive.Config;

/// <summary>Reads a config file (and its includes) into the typed model. Throws ConfigException
/// with nginx's wording for every error.</summary>
public static class ConfigLoader
{
    /// <param name="path">The -c file, relative to the current directory or absolute.</param>
    /// <param name="prefix">The -p prefix: relative pid/error_log paths are under it.</param>
    public static ProxyConfig Load(string path, string prefix, LoadOptions? options = null) => LoadTree(path, prefix, options).Config;

    /// <summary>Load, keeping the directive tree it was built from: the file with includes spliced in,
    /// -g directives and environment overrides applied. What a master hands its workers.</summary>
    public static (IReadOnlyList<ConfigDirective> Tree, ProxyConfig Config) LoadTree(string path, string prefix, LoadOptions? options = null)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(ConfigError.OpenFailed(path, e));
        }
        return LoadTextTree(text, path, prefix, options);
    }

    /// <summary>Parses config text; <paramref name="fileName"/> is what errors name, and relative include
    /// patterns are under its directory. Without <paramref name="options"/> no environment is read (tests).</summary>
    public static ProxyConfig LoadText(string text, string fileName, string prefix, LoadOptions? options = null) =>
        LoadTextTree(text, fileName, prefix, options).Config;

    private static (IReadOnlyList<ConfigDirective> Tree, ProxyConfig Config) LoadTextTree(string text, string fileName, string prefix, LoadOptions? options)
    {
        options ??= new LoadOptions();
        string fullPrefix = Path.GetFullPath(prefix);
        string includeBase = Path.GetDirectoryName(fileName) ?? "";
        var sources = new List<ConfigSource>();
        var tree = ConfigParser.Parse(text, fileName, includeBase, options.CommandLineDirectives, sources);
        tree = EnvironmentLayer.Apply(tree, options.Environment);
        return (tree, ConfigBuilder.Build(tree, Path.GetFullPath(fileName), fullPrefix, options.DefaultErrorLog, sources));
    }
}
