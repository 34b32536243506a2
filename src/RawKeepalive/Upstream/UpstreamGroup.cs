using RawKeepalive.Native;
using RawKeepalive.Config;


namespace RawKeepalive.Upstream;

/// <summary>An upstream block as one worker runs it: its peers, round-robin position and its one
/// idle connection cache, which every location proxying to it draws from (<see cref="LocationPool"/>).</summary>
public sealed class UpstreamGroup
{
    private int _next;
    private int _locations;

    public UpstreamConfig Config { get; }
    /// <summary>The block's name, what $upstream_addr says when no peer could be tried (nginx's "no live upstreams").</summary>
    public byte[] NameBytes { get; }
    public UpstreamPeer[] Peers { get; }
    /// <summary>The idle connection cache (keepalive N: at most N entries for all locations together), or
    /// null when keepalive is off.</summary>
    public KeepalivePool? Pool { get; }
    /// <summary>Opened, reused, stale retries and closes by reason over all its peers, in this worker.</summary>
    public UpstreamStats Stats { get; } = new();
    /// <summary>queue N: the requests waiting for a connection when every peer is at max_conns, or null without queue.</summary>
    public ConnectionQueue? Queue { get; }

    public UpstreamGroup(UpstreamConfig config, int maxConnections)
    {
        Config = config;
        NameBytes = System.Text.Encoding.ASCII.GetBytes(config.Name);
        var peers = new List<UpstreamPeer>();
        foreach (var server in config.Servers)
            foreach (var ep in server.Addresses)
                peers.Add(new UpstreamPeer(peers.Count, new SockAddr(ep), server.MaxConns));
        Peers = peers.ToArray();
        if (config.Keepalive > 0)
            Pool = new KeepalivePool(config.Keepalive, config.KeepaliveTimeoutMs, maxConnections);
        if (config.Queue > 0)
            Queue = new ConnectionQueue(config.Queue, config.QueueTimeoutMs, maxConnections);
    }

    /// <summary>The cache as one more location proxying to this group sees it: under keepalive N local
    /// with a tag of its own, else with the tag all locations share. Null when keepalive is off.</summary>
    public LocationPool? PoolForLocation() => Pool is null ? null : new LocationPool(Pool, Config.KeepaliveLocal ? ++_locations : 0);

    /// <summary>Round robin: the peer after the one the previous request started with.</summary>
    public int NextPeer()
    {
        int p = _next;
        _next = p + 1 == Peers.Length ? 0 : p + 1;
        return p;
    }
}
