using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RawKeepalive.Tests.Support;

/// <summary>A syslog server for tests: a UDP socket bound to an ephemeral loopback port, read one
/// datagram at a time with a timeout (a datagram that never comes fails the test, it is not waited for
/// forever).</summary>
public sealed class SyslogListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly byte[] _buffer = new byte[65536];

    public SyslogListener()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.ReceiveTimeout = 10_000;
        _socket.ReceiveBufferSize = 1 << 20;
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary>The next datagram as ASCII text; throws SocketException (a timeout) when none comes.</summary>
    public string Next() => Encoding.ASCII.GetString(_buffer, 0, _socket.Receive(_buffer));

    public void Dispose() => _socket.Dispose();
}
