using System.Net;
using System.Net.Sockets;

namespace RawKeepalive.Tests.Support;

/// <summary>Free loopback TCP ports, probed by binding port 0 and closing again. No test uses a fixed port.</summary>
public static class FreePort
{
    public static int Probe()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A port distinct from every port in <paramref name="taken"/>.</summary>
    public static int ProbeOther(params int[] taken)
    {
        while (true)
        {
            int port = Probe();
            if (Array.IndexOf(taken, port) < 0)
                return port;
        }
    }
}
