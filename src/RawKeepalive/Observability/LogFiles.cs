using RawKeepalive.Config;

namespace RawKeepalive.Observability;

/// <summary>What nginx does before it serves: open every log file, so a path that cannot be written stops
/// the start instead of losing lines later. Workers open their own files afterwards (they are separate
/// processes, started by re-executing the binary).</summary>
public static class LogFiles
{
    /// <summary>Opens (creating them) every access log file named without variables and every http, server
    /// and location error_log file; nginx's error for the first that cannot be opened, or null.</summary>
    public static string? CheckAtStart(HttpConfig http)
    {
        var accessLogs = http.AccessLogLists.SelectMany(l => l.Logs).Select(l => l.Path);
        var errorLogs = http.Servers
            .SelectMany(s => s.Locations.Select(l => l.ErrorLogs).Prepend(s.ErrorLogs))
            .SelectMany(list => list ?? [])
            .Where(e => e.Syslog is null && e.Path != "stderr")
            .Select(e => e.Path);
        foreach (string path in accessLogs.Concat(errorLogs).OfType<string>().Distinct())
        {
            int fd = FileLogWriter.TryOpen(path, out string? error);
            if (fd < 0) return error;
            Native.LogInterop.Close(fd);
        }
        return null;
    }
}
