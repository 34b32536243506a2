using System.Net;
using System.Net.Sockets;

namespace RawKeepalive.Tests.Support;

/// <summary>The accept side of the tests' raw backends: a listening socket on an ephemeral loopback
/// port, and a thread that hands each accepted connection, numbered from 1, to its own thread
/// running <c>serve</c>. Disposing the listener ends the accept thread.</summary>
public static class LoopbackListener
{
    public static Socket Start(string name, Action<Socket, int> serve, int backlog = 64)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(backlog);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        new Thread(() => AcceptLoop(listener, serve, $"{name}-{port}")) { IsBackground = true, Name = $"{name}-{port}" }.Start();
        return listener;
    }

    public static int PortOf(Socket listener) => ((IPEndPoint)listener.LocalEndPoint!).Port;

    private static void AcceptLoop(Socket listener, Action<Socket, int> serve, string name)
    {
        for (int number = 1; ; number++)
        {
            Socket socket;
            try
            {
                socket = listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            int n = number;
            new Thread(() => serve(socket, n)) { IsBackground = true, Name = $"{name}-{n}" }.Start();
        }
    }
}
