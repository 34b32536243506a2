namespace RawKeepalive.Config;

/// <summary>Reads a config file (and its includes) into the typed model. Throws ConfigException
/// with nginx's wording for every error.</summary>
public static class ConfigLoader
{
    /// <param name="path">The -c file, relative to the current directory or absolute.</param>
    /// <param name="prefix">The -p prefix: relative pid/error_log paths are under it.</param>
    public static ProxyConfig Load(string path, string prefix, LoadOptions? options = null)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(ConfigError.OpenFailed(path, e));
        }
        return LoadText(text, path, prefix, options);
    }

    /// <summary>Parses config text; <paramref name="fileName"/> is what errors name, and relative include
    /// patterns are under its directory. Without <paramref name="options"/> no environment is read (tests).</summary>
    public static ProxyConfig LoadText(string text, string fileName, string prefix, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        string fullPrefix = Path.GetFullPath(prefix);
        string includeBase = Path.GetDirectoryName(fileName) ?? "";
        var sources = new List<ConfigSource>();
        var tree = ConfigParser.Parse(text, fileName, includeBase, options.CommandLineDirectives, sources);
        tree = EnvironmentLayer.Apply(tree, options.Environment);
        return ConfigBuilder.Build(tree, Path.GetFullPath(fileName), fullPrefix, options.DefaultErrorLog, sources);
    }
}
