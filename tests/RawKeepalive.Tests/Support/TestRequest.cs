using System.Net;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Process;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;

namespace RawKeepalive.Tests.Support;

/// <summary>A request as the variables see it, without a connection: config text (an http block's
/// contents, its first server serving) loaded and routed as the worker does, a request head parsed in
/// place, a client address, and a request record the test fills as the exchange would. Lets the log
/// formats and variables be checked byte for byte.</summary>
public sealed class TestRequest : IRequestVariables
{
    private readonly byte[] _head;
    private readonly byte[] _peer = new byte[128];

    public TestRequest(string httpBody, string request, string client = "192.0.2.7:51234")
    {
        Config = ConfigLoader.LoadText("events {}\nhttp {\n" + httpBody + "\n}\n", "t.conf", Path.GetTempPath());
        var server = new ServerRuntime(Config.Http.Servers[0], UpstreamGroups.For(Config));
        Server = server;
        Listener = new Listener(-1, new SockAddr(new IPEndPoint(IPAddress.Loopback, 8080)), [server], server);
        _head = Encoding.Latin1.GetBytes(request);
        Request = new RequestHead();
        Assert.That(RequestParser.Parse(_head, Request), Is.EqualTo(ParseResult.Complete), request);
        Location = server.Match(Request.Path.Of(_head));
        new SockAddr(IPEndPoint.Parse(client)).Bytes.CopyTo(_peer, 0);
        Record = new RequestRecord(Config.Http.Captures);
    }

    /// <summary>A request served by one plain server, with <paramref name="formats"/> (log_format lines) in its http block.</summary>
    public static TestRequest With(string formats, string request) =>
        new(formats + "\nserver { listen 127.0.0.1:8080; server_name example.com; location / { return 200; } }", request);

    public ProxyConfig Config { get; }
    public RequestHead Request { get; }
    public ReadOnlySpan<byte> RequestHeadBytes => _head.AsSpan(0, Request.HeadLength);
    public ReadOnlySpan<byte> PeerAddress => _peer;
    public Listener Listener { get; }
    public ServerRuntime Server { get; }
    public LocationRuntime? Location { get; }
    public long ConnectionNumber { get; set; } = 5;
    public int ConnectionRequests { get; set; } = 1;
    public ReadOnlySpan<byte> RequestId => "0123456789abcdef0123456789abcdef"u8;
    public RequestRecord Record { get; }

    /// <summary>The log format named <paramref name="name"/> ("combined" is nginx's).</summary>
    public LogFormat Format(string name) => name == "combined"
        ? Config.Http.Servers[0].AccessLogs.Logs.Single(l => l.Format.Name == "combined").Format
        : Config.Http.LogFormats.Single(f => f.Name == name);

    /// <summary>The value of the log_format named <paramref name="format"/> (defined in the http block, so
    /// its $sent_http_/$upstream_http_ names have their slots), unescaped, as text.</summary>
    public string Evaluate(string format)
    {
        Span<byte> room = stackalloc byte[4096];
        var w = new HeadWriter(room);
        Assert.That(VariableWriter.TryWrite(Format(format).Template, this, ref w), Is.True);
        return Encoding.Latin1.GetString(room[..w.Length]);
    }

    /// <summary>One line of <paramref name="format"/> for this request, without its newline.</summary>
    public string Line(LogFormat format)
    {
        var room = new byte[64 * 1024];
        int n = AccessLogLine.TryFormat(format, this, room);
        Assert.That(n, Is.GreaterThan(0), "the line fits");
        Assert.That(room[n - 1], Is.EqualTo((byte)'\n'));
        return Encoding.Latin1.GetString(room, 0, n - 1);
    }
}
