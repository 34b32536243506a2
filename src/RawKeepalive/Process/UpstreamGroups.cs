using RawKeepalive.Config;
using RawKeepalive.Upstream;

namespace RawKeepalive.Process;

/// <summary>One <see cref="UpstreamGroup"/> per upstream block a worker may use, the implicit
/// ones of <c>proxy_pass http://host:port</c> included.</summary>
public static class UpstreamGroups
{
    public static Dictionary<UpstreamConfig, UpstreamGroup> For(ProxyConfig config)
    {
        var groups = new Dictionary<UpstreamConfig, UpstreamGroup>();
        foreach (var u in config.Http.Upstreams) groups[u] = new UpstreamGroup(u, config.WorkerConnections);
        foreach (var s in config.Http.Servers)
            foreach (var l in s.Locations)
                if (l.ProxyPass is { } p && !groups.ContainsKey(p.Upstream))
                    groups[p.Upstream] = new UpstreamGroup(p.Upstream, config.WorkerConnections);
        return groups;
    }
}
