using RawKeepalive.Config;

namespace RawKeepalive.Process;

/// <summary>A config as the master validated it: the directive tree (what workers are handed) and
/// the typed result built from it.</summary>
public sealed record ConfigSnapshot(IReadOnlyList<ConfigDirective> Tree, ProxyConfig Config)
{
    /// <summary>Reads, parses and validates; throws ConfigException with FILE:LINE.</summary>
    public static ConfigSnapshot Load(string file, string prefix)
    {
        string text;
        try { text = File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(ConfigError.OpenFailed(file, e));
        }
        var tree = ConfigParser.Parse(text, file, Path.GetDirectoryName(file) ?? "");
        return new ConfigSnapshot(tree, ConfigBuilder.Build(tree, Path.GetFullPath(file), Path.GetFullPath(prefix)));
    }

    /// <summary>A worker's rebuild of what the master handed it.</summary>
    public static ProxyConfig Build(WorkerHandoff h) => ConfigBuilder.Build(h.Tree, h.ConfigFile, h.Prefix);
}
