using RawKeepalive.Native;

namespace RawKeepalive.Proxy;

/// <summary>A listening socket and the server blocks that share its address.</summary>
public sealed class Listener(int fd, SockAddr address, ServerRuntime[] servers, ServerRuntime defaultServer)
{
    public int Fd { get; } = fd;
    public SockAddr Address { get; } = address;
    public ServerRuntime[] Servers { get; } = servers;
    public ServerRuntime DefaultServer { get; } = defaultServer;
    public byte[] PortBytes { get; } = System.Text.Encoding.ASCII.GetBytes(address.EndPoint.Port.ToString());
    public byte[] AddressBytes { get; } = System.Text.Encoding.ASCII.GetBytes(address.EndPoint.Address.ToString());

    /// <summary>nginx's server selection for the prefix forms: the server whose name equals the
    /// host, else the default server of this address.</summary>
    public ServerRuntime Select(ReadOnlySpan<byte> host)
    {
        if (!host.IsEmpty)
            foreach (var s in Servers)
                if (s.HasName(host)) return s;
        return DefaultServer;
    }
}
