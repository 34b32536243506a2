using RawKeepalive.Config;
using RawKeepalive.Observability;

namespace RawKeepalive.Process;

/// <summary>Picks the role this process plays: a worker started by a master (hidden
/// <c>--worker SLOT</c>, config on stdin), the single foreground process (<c>master_process
/// off</c>), or the master (after detaching first when <c>daemon on</c>).</summary>
public static class ProcessRunner
{
    public static bool IsWorker(string[] args) => args.Length == 2 && args[0] == WorkerProcess.Argument;

    public static int RunWorker() => WorkerProcess.Run();

    /// <param name="options">How the config was loaded (-g, -e, the environment): a reload loads the same way.</param>
    public static int Run(ProxyConfig config, ErrorLog log, string[] args, LoadOptions options)
    {
        if (!config.MasterProcess) return SingleProcess.Run(config, log);
        if (config.Daemon)
        {
            if (!Daemon.IsDaemonized) return Daemon.Start(args);
            Daemon.Detach();
        }
        // The master hands workers the directive tree, so it reads the file once more here; what it
        // validates now is what every worker of this generation runs.
        ConfigSnapshot snapshot;
        try
        {
            snapshot = ConfigSnapshot.Load(config.ConfigFile, config.Prefix, options);
        }
        catch (ConfigException e)
        {
            log.Write(LogLevel.Emerg, 0, e.Message);
            Console.Error.WriteLine($"rawkeepalive: [emerg] {e.Message}");
            return 1;
        }
        return new Master(snapshot, log).Run();
    }
}
