using System.Globalization;

namespace RawKeepalive.Tests.Integration;

/// <summary>What /proc says about a master's workers: which one holds a client connection, and the
/// CPU mask of every thread.</summary>
internal static class ProcessesProbe
{
    /// <summary>The pid among <paramref name="pids"/> holding the server side of the loopback
    /// connection from <paramref name="clientPort"/> to <paramref name="proxyPort"/>; 0 when none.</summary>
    public static int OwnerOf(int[] pids, int proxyPort, int clientPort)
    {
        string local = $"0100007F:{proxyPort:X4}", remote = $"0100007F:{clientPort:X4}";
        string? inode = null;
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 9 && f[1] == local && f[2] == remote)
            {
                inode = f[9];
                break;
            }
        }
        if (inode is null)
            return 0;
        string target = $"socket:[{inode}]";
        foreach (int pid in pids)
        {
            try
            {
                foreach (string fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget == target)
                        return pid;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process or descriptor went away
            }
        }
        return 0;
    }

    /// <summary>Whether <paramref name="pid"/> holds a socket listening on <paramref name="port"/> (a draining
    /// worker closes its listening sockets first thing).</summary>
    public static bool Listens(int pid, int port)
    {
        string local = $"0100007F:{port:X4}";
        var targets = new HashSet<string>();
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 9 && f[1] == local && f[3] == "0A")   // TCP_LISTEN
                targets.Add($"socket:[{f[9]}]");
        }
        try
        {
            return Directory.EnumerateFiles($"/proc/{pid}/fd").Any(fd => targets.Contains(new FileInfo(fd).LinkTarget ?? ""));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;   // the process went away
        }
    }

    /// <summary>Cpus_allowed of every thread of <paramref name="pid"/>.</summary>
    public static ulong[] ThreadMasks(int pid)
    {
        var masks = new List<ulong>();
        foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                string? line = File.ReadLines(Path.Combine(task, "status")).FirstOrDefault(l => l.StartsWith("Cpus_allowed:", StringComparison.Ordinal));
                if (line is null)
                    continue;
                string hex = line["Cpus_allowed:".Length..].Trim().Replace(",", "", StringComparison.Ordinal);
                masks.Add(ulong.Parse(hex.Length > 16 ? hex[^16..] : hex, NumberStyles.HexNumber));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a thread that ended meanwhile
            }
        }
        return [.. masks];
    }
}
