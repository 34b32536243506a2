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
            if (f[3] == state && int.Parse(f[2].AsSpan(f[2].IndexOf(':') + 1), NumberStyles.HexNumber) == port) count++;
        }
        return count;
    }
}
