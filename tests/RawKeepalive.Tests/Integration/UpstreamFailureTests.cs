using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 2, "Must show" 4 and deliverable 8: a server down, nothing listening (502), no answer (504).</summary>
[TestFixture, Category("Integration"), CancelAfter(90_000)]
public sealed class UpstreamFailureTests : ProxyTestBase
{
    [Test]
    public void TwoServers_OneDown_EveryRequestSucceeds()
    {
        var backend = StartBackend();
        int down = FreePort.ProbeOther(backend.Port);
        var proxy = StartProxy(Configs.Keepalive(servers: "server 127.0.0.1:{BACKEND};\nserver 127.0.0.1:{BACKEND2};"), backend.Port, down);
        var result = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 2,
            RequestsPerClient = 100,
            Request = i => LoadRequest.Get($"/?size={i}", TestBackend.Body(i)),
            Deadline = TimeSpan.FromSeconds(60),
        }.Run(Cancellation);
        Assert.That(result.Succeeded, Is.EqualTo(200), result.ToString());
    }

    [Test]
    public void NothingListening_502_AndTheErrorLogSaysWhy()
    {
        int down = FreePort.Probe();
        var proxy = StartProxy(Configs.Keepalive(), down);
        var response = Connect(proxy).Get("/");
        Assert.That(response.Status, Is.EqualTo(502));
        Assert.That(proxy.WaitForErrorLog("refused"), Is.True, "the error log should name the connect failure:\n" + proxy.ErrorLog);
    }

    [Test]
    public void BackendNeverAnswers_ProxyReadTimeout1s_504()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(16); // the kernel completes handshakes; nobody ever reads or answers
        int port = ((IPEndPoint)silent.LocalEndPoint!).Port;
        var proxy = StartProxy(Configs.Keepalive(locationExtra: "proxy_read_timeout 1s;"), port);

        var response = Connect(proxy, TimeSpan.FromSeconds(20)).Get("/");
        Assert.That(response.Status, Is.EqualTo(504));
        Assert.That(proxy.WaitForErrorLog("timed out"), Is.True, "the error log should name the timeout:\n" + proxy.ErrorLog);
    }

    [Test]
    public void BackendAcceptsButHangs_ProxyReadTimeout1s_504()
    {
        var backend = StartBackend();
        var proxy = StartProxy(Configs.Keepalive(locationExtra: "proxy_read_timeout 1s;"), backend);
        var client = Connect(proxy, TimeSpan.FromSeconds(20));
        Assert.That(client.Get("/?hang=1").Status, Is.EqualTo(504));
        Assert.That(client.Get("/?size=5").Body, Is.EqualTo(TestBackend.Body(5)), "the client connection goes on after a 504");
    }
}
