using System.Runtime.InteropServices;
using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Proxy;
using RawKeepalive.Routing;

namespace RawKeepalive.Process;

/// <summary><c>master_process off</c>: the whole server as one foreground process with one worker
/// loop on the main thread (what most tests run). TERM and INT stop it at once; QUIT drains it.</summary>
public static class SingleProcess
{
    public static int Run(ProxyConfig config, ErrorLog log)
    {
        var groups = UpstreamGroups.For(config);
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
        PidFile.Write(config.PidPath);
        Native.ProcessInterop.ResetControlSignals();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Drain);
        using var usr1 = PosixSignalRegistration.Create((PosixSignal)Native.ProcessInterop.SIGUSR1, Reopen);
        log.Write(LogLevel.Notice, 0, $"rawkeepalive started, {listeners.Length} listen socket(s)");
        worker.Run();
        log.Write(LogLevel.Notice, 0, "exiting");
        PidFile.Remove(config.PidPath);
        return 0;

        void Stop(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            worker.RequestStop();
        }

        void Drain(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            worker.RequestDrain();
        }

        void Reopen(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            worker.RequestReopen();
        }
    }
}
