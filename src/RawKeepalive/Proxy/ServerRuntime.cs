using RawKeepalive.Upstream;
using System.Text;
using RawKeepalive.Config;

namespace RawKeepalive.Proxy;

/// <summary>A server block as the worker uses it: names pre-encoded, locations in match order.</summary>
public sealed class ServerRuntime
{
    public ServerConfig Config { get; }
    public byte[][] Names { get; }
    public byte[] FirstName { get; }
    public LocationRuntime[] Locations { get; }

    public ServerRuntime(ServerConfig config, Dictionary<UpstreamConfig, UpstreamGroup> groups, int maxConnections)
    {
        Config = config;
        Names = new byte[config.ServerNames.Count][];
        for (int i = 0; i < Names.Length; i++) Names[i] = Encoding.ASCII.GetBytes(config.ServerNames[i]);
        FirstName = Names.Length > 0 ? Names[0] : [];
        var list = new List<LocationRuntime>();
        foreach (var l in config.Locations) list.Add(new LocationRuntime(l, groups, maxConnections));
        Locations = list.ToArray();
    }

    /// <summary>nginx's precedence for the prefix forms: an exact match wins, else the longest prefix.</summary>
    public LocationRuntime? Match(ReadOnlySpan<byte> path)
    {
        LocationRuntime? best = null;
        foreach (var l in Locations)
        {
            if (l.Config.Match == LocationMatch.Exact)
            {
                if (path.SequenceEqual(l.PathBytes)) return l;
                continue;
            }
            if (path.StartsWith(l.PathBytes) && (best is null || l.PathBytes.Length > best.PathBytes.Length))
                best = l;
        }
        return best;
    }

    public bool HasName(ReadOnlySpan<byte> host)
    {
        foreach (var n in Names)
            if (host.SequenceEqual(n)) return true;
        return false;
    }
}
