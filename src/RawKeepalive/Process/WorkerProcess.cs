using System.Runtime.InteropServices;
using RawKeepalive.Config;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Proxy;

namespace RawKeepalive.Process;

/// <summary>The worker role: <c>rawkeepalive --worker SLOT</c>, started by the master with the
/// hand-off on stdin. Builds the config the master validated, attaches its slot's inherited listen
/// sockets and counter slot, and runs one event loop on the main thread until told to go (QUIT:
/// drain; TERM/INT: at once) or until the master is gone (stdin's end of file).</summary>
public static class WorkerProcess
{
    public const string Argument = "--worker";
    private const int HandoffFd = 0;

    public static int Run()
    {
        WorkerHandoff h;
        ProxyConfig config;
        try
        {
            h = WorkerHandoff.Read(HandoffFd);
            config = ConfigSnapshot.Build(h);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ConfigException)
        {
            Console.Error.WriteLine($"rawkeepalive: [emerg] worker process could not start: {e.Message}");
            return 2;
        }
        using var log = ErrorLog.For(config);
        if (config.WorkerRlimitNofile > 0 && ProcessInterop.SetNofileLimit((ulong)config.WorkerRlimitNofile) is { IsError: true } rl)
            log.Write(LogLevel.Alert, 0, $"setrlimit(RLIMIT_NOFILE, {config.WorkerRlimitNofile}) failed ({rl})");
        if (!DropPrivileges(config, log)) return 2;

        var segment = SharedCounters.Map(h.CounterFd);
        var listeners = ListenSockets.Attach(config, UpstreamGroups.For(config), key => h.ListenFds[key]);
        using var worker = new Worker(config, log, listeners, segment, h.CounterSlot);
        worker.WatchParent(HandoffFd);
        ProcessInterop.ResetControlSignals();
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, ctx => { ctx.Cancel = true; worker.RequestDrain(); });
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; worker.RequestStop(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; worker.RequestStop(); });
        // The master's business: a worker must not die of it.
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx => ctx.Cancel = true);
        using var usr1 = PosixSignalRegistration.Create((PosixSignal)ProcessInterop.SIGUSR1, ctx => { ctx.Cancel = true; worker.RequestReopen(); });
        worker.Run();
        log.Write(LogLevel.Notice, 0, "exiting");
        return 0;
    }

    /// <summary><c>user</c>: only a master running as root has anyone to drop to.</summary>
    private static bool DropPrivileges(ProxyConfig config, ErrorLog log)
    {
        if (config.User is null || !ProcessInterop.IsRoot) return true;
        var user = ProcessInterop.LookupUser(config.User);
        if (user is null)
        {
            log.Write(LogLevel.Emerg, 0, $"getpwnam(\"{config.User}\") failed");
            return false;
        }
        uint gid = user.Value.Gid;
        if (config.Group is not null)
        {
            if (ProcessInterop.LookupGroup(config.Group) is not { } g)
            {
                log.Write(LogLevel.Emerg, 0, $"getgrnam(\"{config.Group}\") failed");
                return false;
            }
            gid = g;
        }
        var r = ProcessInterop.DropTo(user.Value.Uid, gid);
        if (r.IsError) log.Write(LogLevel.Emerg, 0, $"setuid({user.Value.Uid}) failed ({r})");
        return !r.IsError;
    }
}
