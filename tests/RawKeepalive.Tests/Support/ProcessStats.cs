namespace RawKeepalive.Tests.Support;

/// <summary>What Linux says about a running process: open descriptors and resident memory.</summary>
public static class ProcessStats
{
    /// <summary>Entries in /proc/PID/fd.</summary>
    public static int Descriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    /// <summary>VmRSS from /proc/PID/status, in KiB.</summary>
    public static long ResidentKiB(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]);
        }
        throw new InvalidDataException($"no VmRSS in /proc/{pid}/status");
    }
}
