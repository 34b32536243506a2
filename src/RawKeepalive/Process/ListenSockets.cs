using RawKeepalive.Config;
using RawKeepalive.Native;
using RawKeepalive.Proxy;
using RawKeepalive.Upstream;
using RawKeepalive.Routing;

namespace RawKeepalive.Process;

/// <summary>The distinct listen addresses of a config, in config order, with the server blocks that
/// share each; and the sockets behind them. Single-process mode binds one SO_REUSEADDR socket per
/// address; in master mode the master binds one SO_REUSEPORT socket per address per worker slot
/// (<see cref="ReusePortSockets"/>) and a worker attaches its slot's descriptors.</summary>
public static class ListenSockets
{
    /// <summary>The address keys in order, each with its listen() backlog: what the master binds and
    /// what a worker's descriptors follow.</summary>
    public static List<(string Key, SockAddr Address, int Backlog)> Addresses(ProxyConfig config)
    {
        var list = new List<(string Key, SockAddr Address, int Backlog)>();
        foreach (var server in config.Http.Servers)
            foreach (var listen in server.Listens)
            {
                string key = listen.EndPoint.ToString();
                int at = list.FindIndex(a => a.Key == key);
                if (at < 0) list.Add((key, new SockAddr(listen.EndPoint), listen.Backlog ?? ConfigDefaults.ListenBacklog));
                else if (listen.Backlog is int backlog) list[at] = list[at] with { Backlog = backlog };
            }
        return list;
    }

    /// <summary>Single-process mode: binds each address once.</summary>
    public static Listener[] Open(ProxyConfig config, Dictionary<UpstreamConfig, UpstreamGroup> groups)
    {
        var addresses = Addresses(config);
        return Attach(config, groups, key =>
        {
            var (_, address, backlog) = addresses.First(a => a.Key == key);
            return Bind(address, backlog, reusePort: false);
        });
    }

    /// <summary>Builds the listeners of <paramref name="config"/> on descriptors from <paramref name="fdFor"/> (by address key).</summary>
    public static Listener[] Attach(ProxyConfig config, Dictionary<UpstreamConfig, UpstreamGroup> groups, Func<string, int> fdFor)
    {
        var byAddress = new Dictionary<string, (SockAddr Addr, List<ServerRuntime> Servers, ServerRuntime? Default)>();
        var order = new List<string>();
        foreach (var server in config.Http.Servers)
        {
            var runtime = new ServerRuntime(server, groups);
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
            listeners.Add(new Listener(fdFor(key), addr, servers.ToArray(), def ?? servers[0]));
        }
        return listeners.ToArray();
    }

    /// <summary>A listening socket on <paramref name="addr"/>; with <paramref name="reusePort"/> one of
    /// a group the kernel spreads connections over, each queue its own.</summary>
    public static int Bind(SockAddr addr, int backlog, bool reusePort)
    {
        var s = SocketInterop.OpenStream(addr.Family);
        if (s.IsError) throw new ListenException($"socket() {addr} failed ({s})");
        int fd = (int)s.Value;
        SocketInterop.SetReuseAddress(fd);
        if (reusePort) ProcessInterop.SetReusePort(fd);
        var b = SocketInterop.Bind(fd, addr);
        if (b.IsError)
        {
            SocketInterop.Close(fd);
            throw new ListenException($"bind() to {addr} failed ({b})");
        }
        var l = SocketInterop.Listen(fd, backlog);
        if (l.IsError)
        {
            SocketInterop.Close(fd);
            throw new ListenException($"listen() to {addr}, backlog {backlog} failed ({l})");
        }
        return fd;
    }
}

/// <summary>A listen socket could not be opened (nginx logs these as [emerg] and exits 1).</summary>
public sealed class ListenException(string message) : Exception(message);
