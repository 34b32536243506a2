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
    /// <summary>max_conns: at most this many connections (active and idle) from this worker; 0: unlimited.</summary>
    public int MaxConns { get; } = maxConns;
    /// <summary>Open connections (connecting, active or idle) from this worker: counted by UpstreamConnections.</summary>
    public int Connections { get; internal set; }
    /// <summary>At max_conns: no new connection may be opened to it now.</summary>
    public bool AtLimit => MaxConns > 0 && Connections >= MaxConns;
}
