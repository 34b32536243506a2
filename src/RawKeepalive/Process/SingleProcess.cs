using System.Runtime.InteropServices;
using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Proxy;
using RawKeepalive.Upstream;

namespace RawKeepalive.Process;

/// <summary>Runs the whole server as one foreground process with one worker loop on the main
/// thread (the master/worker split comes with the processes work). TERM, INT and QUIT stop it.</summary>
public static class SingleProcess
{
    public static int Run(ProxyConfig config, ErrorLog log)
    {
        var groups = new Dictionary<UpstreamConfig, UpstreamGroup>();
        foreach (var u in config.Http.Upstreams) groups[u] = new UpstreamGroup(u, config.WorkerConnections);
        foreach (var s in config.Http.Servers)
            foreach (var l in s.Locations)
                if (l.ProxyPass is { } p && !groups.ContainsKey(p.Upstream))
                    groups[p.Upstream] = new UpstreamGroup(p.Upstream, config.WorkerConnections);

        Listener[] listeners;
        try
        {
            listeners = ListenSockets.Open(config, groups);
        }
        catch (ListenException e)
        {
            log.Write(LogLevel.Emerg, 0, e.Message);
            Console.Error.WriteLine($"rawkeepalive: [emerg] {e.Message}");
            return 1;
        }

        using var worker = new Worker(config, log, listeners);
        WritePid(config.PidPath);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);
        log.Write(LogLevel.Notice, 0, $"rawkeepalive started, {listeners.Length} listen socket(s)");
        worker.Run();
        log.Write(LogLevel.Notice, 0, "exiting");
        try { File.Delete(config.PidPath); } catch (IOException) { }
        return 0;

        void Stop(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            worker.RequestStop();
        }
    }

    private static void WritePid(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Environment.ProcessId + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"rawkeepalive: [alert] could not write pid file \"{path}\": {e.Message}");
        }
    }
}
