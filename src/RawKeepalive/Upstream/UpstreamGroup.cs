using RawKeepalive.Native;
using RawKeepalive.Config;


namespace RawKeepalive.Upstream;

/// <summary>An upstream block as one worker runs it: its peers, round-robin position and (unless
/// the pool is per location) its idle connection pool.</summary>
public sealed class UpstreamGroup
{
    private int _next;

    public UpstreamConfig Config { get; }
    public UpstreamPeer[] Peers { get; }
    /// <summary>The group-wide pool, or null when keepalive is off or the pool is per location.</summary>
    public KeepalivePool? SharedPool { get; }
    /// <summary>Opened, reused, stale retries and closes by reason over all its peers, in this worker.</summary>
    public UpstreamStats Stats { get; } = new();

    public UpstreamGroup(UpstreamConfig config, int maxConnections)
    {
        Config = config;
        var peers = new List<UpstreamPeer>();
        foreach (var server in config.Servers)
            foreach (var ep in server.Addresses)
                peers.Add(new UpstreamPeer(peers.Count, new SockAddr(ep)));
        Peers = peers.ToArray();
        if (config.Keepalive > 0 && !config.KeepaliveLocal)
            SharedPool = NewPool(maxConnections);
    }

    public KeepalivePool NewPool(int maxConnections) => new(Config.Keepalive, Config.KeepaliveTimeoutMs, maxConnections);

    /// <summary>Round robin: the peer after the one the previous request started with.</summary>
    public int NextPeer()
    {
        int p = _next;
        _next = p + 1 == Peers.Length ? 0 : p + 1;
        return p;
    }
}
