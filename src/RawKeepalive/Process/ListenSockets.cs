using RawKeepalive.Config;
using RawKeepalive.Native;
using RawKeepalive.Proxy;
using RawKeepalive.Upstream;

namespace RawKeepalive.Process;

/// <summary>Opens one listening socket per distinct listen address (SO_REUSEADDR, nginx's backlog
/// of 511) and groups the server blocks that share it.</summary>
public static class ListenSockets
{
    public const int Backlog = 511;

    public static Listener[] Open(ProxyConfig config, Dictionary<UpstreamConfig, UpstreamGroup> groups)
    {
        var byAddress = new Dictionary<string, (SockAddr Addr, List<ServerRuntime> Servers, ServerRuntime? Default)>();
        var order = new List<string>();
        foreach (var server in config.Http.Servers)
        {
            var runtime = new ServerRuntime(server, groups, config.WorkerConnections);
            foreach (var listen in server.Listens)
            {
                string key = listen.EndPoint.ToString();
                if (!byAddress.TryGetValue(key, out var entry))
                {
                    entry = (new SockAddr(listen.EndPoint), new List<ServerRuntime>(), null);
                    order.Add(key);
                }
                entry.Servers.Add(runtime);
                if (listen.DefaultServer)
                {
                    if (entry.Default is not null)
                        throw new ConfigException($"a duplicate default server for {key} in {listen.File}:{listen.Line}");
                    entry.Default = runtime;
                }
                byAddress[key] = entry;
            }
        }
        var listeners = new List<Listener>();
        foreach (var key in order)
        {
            var (addr, servers, def) = byAddress[key];
            listeners.Add(new Listener(Bind(addr), addr, servers.ToArray(), def ?? servers[0]));
        }
        return listeners.ToArray();
    }

    private static int Bind(SockAddr addr)
    {
        var s = SocketInterop.OpenStream(addr.Family);
        if (s.IsError) throw new ListenException($"socket() {addr} failed ({s})");
        int fd = (int)s.Value;
        SocketInterop.SetReuseAddress(fd);
        var b = SocketInterop.Bind(fd, addr);
        if (b.IsError)
        {
            SocketInterop.Close(fd);
            throw new ListenException($"bind() to {addr} failed ({b})");
        }
        var l = SocketInterop.Listen(fd, Backlog);
        if (l.IsError)
        {
            SocketInterop.Close(fd);
            throw new ListenException($"listen() to {addr}, backlog {Backlog} failed ({l})");
        }
        return fd;
    }
}

/// <summary>A listen socket could not be opened (nginx logs these as [emerg] and exits 1).</summary>
public sealed class ListenException(string message) : Exception(message);
