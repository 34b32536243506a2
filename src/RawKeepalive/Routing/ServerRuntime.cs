using RawKeepalive.Upstream;
using System.Text;
using RawKeepalive.Config;

namespace RawKeepalive.Routing;

/// <summary>A server block as the worker uses it: names pre-encoded, locations as a tree of levels.</summary>
public sealed class ServerRuntime
{
    /// <summary>URIs up to this length are widened for regexes on the stack; longer ones use <see cref="_uriChars"/>.</summary>
    private const int StackUriChars = 1024;

    public ServerConfig Config { get; }
    public byte[][] Names { get; }
    public byte[] FirstName { get; }
    /// <summary>Every location, nested ones included, in config order.</summary>
    public LocationRuntime[] Locations { get; }
    public LocationLevel Top { get; }
    private readonly bool _hasRegex;
    /// <summary>Grown once for a long URI, then reused: one worker thread owns this object.</summary>
    private char[] _uriChars = [];

    public ServerRuntime(ServerConfig config, Dictionary<UpstreamConfig, UpstreamGroup> groups)
    {
        Config = config;
        Names = new byte[config.ServerNames.Count][];
        for (int i = 0; i < Names.Length; i++) Names[i] = Encoding.ASCII.GetBytes(config.ServerNames[i]);
        FirstName = Names.Length > 0 ? Names[0] : [];
        var byConfig = new Dictionary<LocationConfig, LocationRuntime>();
        var list = new List<LocationRuntime>();
        foreach (var l in config.Locations)
        {
            var runtime = new LocationRuntime(l, groups);
            byConfig[l] = runtime;
            list.Add(runtime);
        }
        Locations = list.ToArray();
        Top = LevelOf(config.Locations.Where(l => l.Parent is null), byConfig);
        foreach (var l in Locations)
        {
            var children = config.Locations.Where(c => c.Parent == l.Config).ToList();
            if (children.Count > 0) l.Nested = LevelOf(children, byConfig);
        }
        _hasRegex = config.Locations.Any(l => l.IsRegex);
    }

    private static LocationLevel LevelOf(IEnumerable<LocationConfig> locations, Dictionary<LocationConfig, LocationRuntime> byConfig)
    {
        var all = locations.Select(l => byConfig[l]).ToList();
        return new LocationLevel([.. all.Where(l => !l.Config.IsRegex)], [.. all.Where(l => l.Config.IsRegex)]);
    }

    /// <summary>nginx's location precedence: see <see cref="LocationMatcher"/>.</summary>
    public LocationRuntime? Match(ReadOnlySpan<byte> path)
    {
        if (!_hasRegex) return LocationMatcher.Find(Top, path, default);
        if (path.Length <= StackUriChars)
        {
            Span<char> chars = stackalloc char[path.Length];
            Latin1.Widen(path, chars);
            return LocationMatcher.Find(Top, path, chars);
        }
        if (_uriChars.Length < path.Length) _uriChars = new char[path.Length];
        var span = _uriChars.AsSpan(0, path.Length);
        Latin1.Widen(path, span);
        return LocationMatcher.Find(Top, path, span);
    }

    public bool HasName(ReadOnlySpan<byte> host)
    {
        foreach (var n in Names)
            if (host.SequenceEqual(n)) return true;
        return false;
    }
}
