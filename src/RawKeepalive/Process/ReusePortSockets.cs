using RawKeepalive.Config;
using RawKeepalive.Native;

namespace RawKeepalive.Process;

/// <summary>The master's listen sockets: per address, one SO_REUSEPORT socket per worker slot,
/// held for the master's whole life so that every generation of workers inherits the same
/// sockets and no queued connection is dropped on reload or respawn (a closed reuseport socket
/// drops its queue). Close-on-exec is cleared only while a worker is being started.</summary>
public sealed class ReusePortSockets
{
    private readonly Dictionary<string, List<int>> _fds = new(StringComparer.Ordinal);

    /// <summary>Opens what <paramref name="config"/> needs with <paramref name="slots"/> workers and steers
    /// new connections to those; returns the descriptors no longer needed (the caller closes them once
    /// old workers are told to go, and an old worker takes its queue before closing its copy).
    /// On failure nothing opened by this call stays open.</summary>
    public List<int> Ensure(ProxyConfig config, int slots)
    {
        var addresses = ListenSockets.Addresses(config);
        var opened = new List<(string Key, int Fd)>();
        try
        {
            foreach (var (key, addr, backlog) in addresses)
            {
                int have = 0;
                if (_fds.TryGetValue(key, out var list))
                {
                    // A socket kept across a reload takes the new backlog as nginx's does: listen() again.
                    foreach (int fd in list) SocketInterop.Listen(fd, backlog);
                    have = list.Count;
                }
                for (int i = have; i < slots; i++) opened.Add((key, ListenSockets.Bind(addr, backlog, reusePort: true)));
            }
        }
        catch (ListenException)
        {
            foreach (var (_, fd) in opened) SocketInterop.Close(fd);
            throw;
        }
        foreach (var (key, fd) in opened)
        {
            if (!_fds.TryGetValue(key, out var list)) _fds[key] = list = [];
            list.Add(fd);
        }
        var wanted = addresses.Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        var surplus = new List<int>();
        foreach (var key in _fds.Keys.ToList())
        {
            var list = _fds[key];
            int keep = wanted.Contains(key) ? slots : 0;
            if (list.Count > keep)
            {
                surplus.AddRange(list.Skip(keep));
                list.RemoveRange(keep, list.Count - keep);
            }
            if (list.Count == 0) _fds.Remove(key);
            // From now on new connections go only to the kept slots' sockets, so the surplus ones
            // (the last to have started listening) receive none while their old workers take what is
            // queued. A kernel without reuseport BPF keeps hashing over all of them, as before.
            else ReusePortSteering.ToFirst(list[0], list.Count);
        }
        return surplus;
    }

    /// <summary>Slot <paramref name="slot"/>'s descriptor for each address key.</summary>
    public Dictionary<string, int> ForSlot(int slot) => _fds.ToDictionary(e => e.Key, e => e.Value[slot], StringComparer.Ordinal);

    public IEnumerable<int> All => _fds.Values.SelectMany(l => l);

    public void SetInheritable(bool inheritable)
    {
        foreach (int fd in All) ProcessInterop.SetInheritable(fd, inheritable);
    }
}
