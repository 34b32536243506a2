using System.Text;
using RawKeepalive.Native;

namespace RawKeepalive.Upstream;

/// <summary>One address of an upstream group: what a connection is opened to and pooled for.</summary>
public sealed class UpstreamPeer(int index, SockAddr address, int maxConns = 0)
{
    public int Index { get; } = index;
    public SockAddr Address { get; } = address;
    /// <summary>As nginx prints it in log lines: "127.0.0.1:8081".</summary>
    public string Name { get; } = address.EndPoint.ToString();
    public byte[] NameBytes { get; } = Encoding.ASCII.GetBytes(address.EndPoint.ToString());
    /// <summary>Opened, reused, stale retries and closes by reason for this peer, in this worker.</summary>
    public UpstreamStats Stats { get; } = new();
    /// <summary>max_conns: at most this many connections (connecting, active and idle) from this worker, or
    /// with the group's zone from every worker together; 0: unlimited.</summary>
    public int MaxConns { get; } = maxConns;
    /// <summary>Open connections (connecting, active or idle) from this worker: counted by <see cref="TryReserve"/>
    /// and <see cref="Unreserve"/>.</summary>
    public int Connections { get; private set; }
    /// <summary>Its count over every worker, when its group has a zone and it has max_conns (bound at start); else null.</summary>
    public ZonePeer? Zone { get; private set; }

    public void BindZone(ZonePeer zone) => Zone = zone;

    /// <summary>At max_conns: no new connection may be opened to it now.</summary>
    public bool AtLimit => MaxConns > 0 && (Zone is { } zone ? zone.Connections >= MaxConns : Connections >= MaxConns);

    /// <summary>No new connection may be opened to it for a request waiting since <paramref name="sinceMs"/>: it is
    /// at max_conns, or (zone) a request of another worker has waited longer for it.</summary>
    public bool Blocked(long sinceMs) => AtLimit || Zone is { } zone && zone.OlderWaiterElsewhere(sinceMs);

    /// <summary>Counts a connection about to be opened to it; false (nothing counted) when <see cref="Blocked"/>
    /// for a request waiting since <paramref name="sinceMs"/>. With a zone the count is taken in shared memory
    /// first, so two workers can never both take the last place.</summary>
    public bool TryReserve(long sinceMs)
    {
        if (Zone is { } zone ? !zone.TryAdd(MaxConns, sinceMs) : MaxConns > 0 && Connections >= MaxConns) return false;
        Connections++;
        return true;
    }

    /// <summary>A connection counted by <see cref="TryReserve"/> was closed, or never opened.</summary>
    public void Unreserve()
    {
        Connections--;
        Zone?.Remove();
    }
}
