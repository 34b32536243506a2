using RawKeepalive.Config;

namespace RawKeepalive.Process;

/// <summary>A config as the master validated it: the directive tree (what workers are handed, with
/// -g directives and environment overrides already in it), the typed result built from it, and the
/// command-line options a reload loads with again.</summary>
public sealed record ConfigSnapshot(IReadOnlyList<ConfigDirective> Tree, ProxyConfig Config, LoadOptions Options)
{
    /// <summary>Reads, parses and validates; throws ConfigException with FILE:LINE.</summary>
    public static ConfigSnapshot Load(string file, string prefix, LoadOptions options)
    {
        var (tree, config) = ConfigLoader.LoadTree(file, prefix, options);
        return new ConfigSnapshot(tree, config, options);
    }

    /// <summary>A worker's rebuild of what the master handed it.</summary>
    public static ProxyConfig Build(WorkerHandoff h) =>
        ConfigBuilder.Build(h.Tree, h.ConfigFile, h.Prefix, h.DefaultErrorLog.Length == 0 ? null : h.DefaultErrorLog);
}
