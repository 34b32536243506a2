using System.Globalization;

namespace RawKeepalive.Tests.Support;

/// <summary>The kernel's IPv4 TCP socket table (/proc/net/tcp), as `ss -tan` reads it.</summary>
public static class TcpTable
{
    public const string TimeWait = "06";

    /// <summary>Sockets in <paramref name="state"/> whose remote port is <paramref name="port"/>: the client
    /// side of connections to a listener on that port (the listener's side has it as its local port).</summary>
    public static int CountTo(int port, string state)
    {
        int count = 0;
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f[3] == state && Port(f[2]) == port) count++;
        }
        return count;
    }

    /// <summary>Sockets whose remote port is <paramref name="remotePort"/> and local port
    /// <paramref name="localPort"/> with bytes waiting in their receive queue: data a process has
    /// not read yet. A send over loopback is queued at its receiver only once the kernel's softirq has run,
    /// which under load can be after send() returned.</summary>
    public static int WithUnreadData(int remotePort, int localPort)
    {
        int count = 0;
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (Port(f[2]) != remotePort || Port(f[1]) != localPort) continue;
            if (long.Parse(f[4].AsSpan(f[4].IndexOf(':') + 1), NumberStyles.HexNumber) > 0) count++;
        }
        return count;
    }

    private static int Port(string address) => int.Parse(address.AsSpan(address.IndexOf(':') + 1), NumberStyles.HexNumber);
}
