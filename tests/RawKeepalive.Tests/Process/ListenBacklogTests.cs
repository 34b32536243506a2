using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Process;
using RawKeepalive.Tests.Support;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Process;

/// <summary>
/// <c>listen ... backlog=N reuseport</c> loads (configs written for nginx carry them) and the backlog
/// reaches listen(): with nobody accepting, the kernel completes backlog + 1 handshakes and leaves
/// the other connects waiting. Real sockets on loopback, in single-process and master mode.
/// </summary>
[TestFixture, CancelAfter(60_000), NonParallelizable]
public sealed class ListenBacklogTests
{
    private const int Backlog = 2;
    private const int Clients = 8;

    [Test]
    public void SingleProcessSocketTakesTheConfiguredBacklog()
    {
        var (config, port) = Load();
        var listeners = ListenSockets.Open(config, new Dictionary<UpstreamConfig, UpstreamGroup>());
        try
        {
            AssertQueueHolds(port, Backlog + 1);
        }
        finally
        {
            foreach (var l in listeners) Tmds.Linux.LibC.close(l.Fd);
        }
    }

    [Test]
    public void MasterSocketsTakeTheConfiguredBacklog()
    {
        var (config, port) = Load();
        var sockets = new ReusePortSockets();
        sockets.Ensure(config, slots: 1);
        try
        {
            AssertQueueHolds(port, Backlog + 1);
        }
        finally
        {
            foreach (int fd in sockets.All) Tmds.Linux.LibC.close(fd);
        }
    }

    private static (ProxyConfig Config, int Port) Load()
    {
        int port = FreePort.Probe();
        var config = ConfigLoader.LoadText(
            $"http {{ server {{ listen 127.0.0.1:{port} backlog={Backlog} reuseport; return 200; }} }}", "backlog.conf", Path.GetTempPath());
        Assert.That(config.Http.Servers.Single().Listens.Single().Backlog, Is.EqualTo(Backlog));
        return (config, port);
    }

    private static void AssertQueueHolds(int port, int expected)
    {
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try { s.Connect(new IPEndPoint(IPAddress.Loopback, port)); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock) { }
                clients.Add(s);
            }
            int Connected() => clients.Count(c => c.Poll(0, SelectMode.SelectWrite));
            Assert.That(Wait.Until(() => Connected() >= expected, TimeSpan.FromSeconds(20)), Is.True, $"{Connected()} connected");
            // The rest stay in SYN_SENT while the queue is full (the kernel drops their SYNs).
            Assert.That(Wait.HoldsFor(() => Connected() == expected, TimeSpan.FromSeconds(1.5)), Is.True,
                $"{Connected()} of {Clients} connected with backlog {Backlog}");
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }
}
