using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 15 "Hand-off before eviction": a connection released clean while another request of the
/// worker waits on a connect to the same peer goes straight to that request. The backend here is the test's
/// own listener with a full accept queue, so the second request's connect stays in progress (its SYN is
/// dropped) for as long as the test wants; the backend's connection 1 then carries both requests.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class HandOffTests : ProxyTestBase
{
    private static bool ConnectInProgressTo(int port) => TcpTable.CountTo(port, TcpTable.SynSent) > 0;

    private static string ReadHead(Socket s)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (s.Receive(one) == 0) throw new EndOfStreamException($"closed after \"{head}\"");
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    [Test]
    public void AReleasedConnection_GoesToTheRequestWaitingOnAConnect()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = LoopbackListener.PortOf(listener);
        var proxy = StartProxy(Configs.With(upstreamExtra: "keepalive 4;"), port);

        var a = Connect(proxy);
        a.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        using var first = listener.Accept();
        first.ReceiveTimeout = 10_000;
        Assert.That(ReadHead(first), Does.StartWith("GET /a "));

        // Fill the accept queue (backlog 1 holds two): the next SYN to the backend is dropped.
        var fillers = new List<Socket>();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                var f = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(f);
                f.Connect(IPAddress.Loopback, port);
            }
            var b = Connect(proxy);
            b.Send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(Wait.Until(() => ConnectInProgressTo(port), TimeSpan.FromSeconds(10)), Is.True, "the proxy's connect for /b is in progress");

            first.Send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"u8);
            Assert.That(a.ReadResponse().Status, Is.EqualTo(200));
            // Released clean, connection 1 goes to /b at once, not to the pool while /b's connect waits.
            Assert.That(ReadHead(first), Does.StartWith("GET /b "), "the request waiting on a connect got the released connection 1");
            first.Send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"u8);
            Assert.That(b.ReadResponse().Status, Is.EqualTo(200));
            Assert.That(Wait.Until(() => !ConnectInProgressTo(port), TimeSpan.FromSeconds(10)), Is.True, "the abandoned connect was closed");
        }
        finally
        {
            foreach (var f in fillers) f.Dispose();
        }
    }
}
