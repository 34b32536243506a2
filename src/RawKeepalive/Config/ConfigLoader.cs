namespace RawKeepalive.Config;

/// <summary>Reads a config file (and its includes) into the typed model. Throws ConfigException
/// with nginx's wording for every error.</summary>
public static class ConfigLoader
{
    /// <param name="path">The -c file, relative to the current directory or absolute.</param>
    /// <param name="prefix">The -p prefix: relative pid/error_log paths are under it.</param>
    public static ProxyConfig Load(string path, string prefix) => throw new NotImplementedException();

    /// <summary>Parses config text, for tests; <paramref name="fileName"/> is what errors name.</summary>
    public static ProxyConfig LoadText(string text, string fileName, string prefix) => throw new NotImplementedException();
}
