using RawKeepalive.Native;

namespace RawKeepalive.Routing;

/// <summary>A listening socket and the server blocks that share its address.</summary>
public sealed class Listener(int fd, SockAddr address, ServerRuntime[] servers, ServerRuntime defaultServer)
{
    public int Fd { get; } = fd;
    public SockAddr Address { get; } = address;
    public ServerRuntime[] Servers { get; } = servers;
    public ServerRuntime DefaultServer { get; } = defaultServer;
    public ServerNameMatcher Names { get; } = new(servers);
    public byte[] PortBytes { get; } = System.Text.Encoding.ASCII.GetBytes(address.EndPoint.Port.ToString());
    public byte[] AddressBytes { get; } = System.Text.Encoding.ASCII.GetBytes(address.EndPoint.Address.ToString());

    /// <summary>nginx's server selection: the server whose server_name matches the host (exact,
    /// wildcard, regex: see <see cref="ServerNameMatcher"/>), else the default server of this address.</summary>
    public ServerRuntime Select(ReadOnlySpan<byte> host) => Names.Find(host) ?? DefaultServer;
}
