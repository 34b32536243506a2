using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using RawKeepalive.Config;
using RawKeepalive.Native;
using RawKeepalive.Observability;

namespace RawKeepalive.Process;

/// <summary>The master process: owns the listen sockets, the counters segment and the pid file,
/// starts one worker per slot by re-executing this binary, and supervises them. Signals, as nginx:
/// HUP reloads (validate, start a new generation, drain the old one), QUIT drains and exits, TERM
/// and INT stop at once, USR1 reopens the logs (and is passed on). A worker that dies unasked is restarted in its slot.
/// Everything runs on the main thread from a queue that signal handlers and exit events feed; the
/// master is never on a request's path, so it may lock and allocate.</summary>
public sealed class Master
{
    /// <summary>A worker that dies sooner than this after starting is restarted only after this much
    /// time, so a worker that cannot start does not spin the master.</summary>
    private const int RespawnBackoffMs = 1000;
    /// <summary>How long TERM/INT waits for workers before killing them.</summary>
    private const int FastStopKillMs = 5000;

    private readonly ErrorLog _log;
    private ConfigSnapshot _current;
    private readonly ReusePortSockets _sockets = new();
    private readonly SharedCounters _counters = SharedCounters.Create();
    private readonly List<WorkerChild> _workers = [];
    private readonly ConcurrentQueue<Action> _events = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ulong _allowedCpus = ProcessInterop.GetThreadAffinity();
    private int _generation;
    private bool _quitting, _terminating;
    private long _killAtMs = long.MaxValue;

    public Master(ConfigSnapshot config, ErrorLog log)
    {
        _current = config;
        _log = log;
    }

    private ProxyConfig Config => _current.Config;

    public int Run()
    {
        try
        {
            _sockets.Ensure(Config, Config.WorkerProcesses);
        }
        catch (ListenException e)
        {
            _log.Write(LogLevel.Emerg, 0, e.Message);
            Console.Error.WriteLine($"rawkeepalive: [emerg] {e.Message}");
            return 1;
        }
        PidFile.Write(Config.PidPath);
        ProcessInterop.ResetControlSignals();
        using var hup = Handle(PosixSignal.SIGHUP, "1 (SIGHUP)", Reload);
        using var quit = Handle(PosixSignal.SIGQUIT, "3 (SIGQUIT)", Quit);
        using var term = Handle(PosixSignal.SIGTERM, "15 (SIGTERM)", Terminate);
        using var intr = Handle(PosixSignal.SIGINT, "2 (SIGINT)", Terminate);
        using var usr1 = Handle((PosixSignal)ProcessInterop.SIGUSR1, "10 (SIGUSR1)", ReopenLogs);
        _log.Write(LogLevel.Notice, 0, $"rawkeepalive/{Program.Version} master process started, {Config.WorkerProcesses} worker process(es)");
        StartGeneration();

        while (!((_quitting || _terminating) && _workers.Count == 0))
        {
            long now = Environment.TickCount64;
            if (now >= _killAtMs)
            {
                foreach (var w in _workers) ProcessInterop.Kill(w.Pid, ProcessInterop.SIGKILL);
                _killAtMs = long.MaxValue;
            }
            int timeout = _killAtMs == long.MaxValue ? Timeout.Infinite : (int)Math.Max(0, _killAtMs - now);
            _wake.Wait(timeout);
            while (_events.TryDequeue(out var e)) e();
        }
        PidFile.Remove(Config.PidPath);
        _log.Write(LogLevel.Notice, 0, "exit");
        return 0;
    }

    private PosixSignalRegistration Handle(PosixSignal signal, string name, Action action) =>
        PosixSignalRegistration.Create(signal, ctx =>
        {
            ctx.Cancel = true;
            Post(() =>
            {
                _log.Write(LogLevel.Notice, 0, $"signal {name} received");
                action();
            });
        });

    private void Post(Action a)
    {
        _events.Enqueue(a);
        _wake.Release();
    }

    private void StartGeneration()
    {
        _generation++;
        for (int slot = 0; slot < Config.WorkerProcesses; slot++) Spawn(slot);
    }

    /// <summary>Starts the worker of <paramref name="slot"/>: its listen sockets and the counters
    /// segment lose close-on-exec and this thread takes the worker's CPU mask just for the
    /// Process.Start, so the child (every thread of it) starts pinned and inherits only those descriptors.</summary>
    private void Spawn(int slot)
    {
        if (_quitting || _terminating) return;
        int counterSlot = _counters.Allocate(workerNumber: slot);
        if (counterSlot < 0)
        {
            _log.Write(LogLevel.Alert, 0, "no free counter slot for a new worker process");
            return;
        }
        var fds = _sockets.ForSlot(slot);
        var handoff = new WorkerHandoff(Config.ConfigFile, Config.Prefix, _current.Options.DefaultErrorLog ?? "", _current.Tree,
            slot, _generation, counterSlot, _counters.Fd, fds);
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardInput = true };
        start.ArgumentList.Add(WorkerProcess.Argument);
        start.ArgumentList.Add(slot.ToString());

        ulong mask = CpuAffinity.MaskFor(Config.WorkerCpuAffinity, slot, _allowedCpus);
        System.Diagnostics.Process? process = null;
        foreach (int fd in fds.Values) ProcessInterop.SetInheritable(fd, true);
        ProcessInterop.SetInheritable(_counters.Fd, true);
        if (mask != 0 && ProcessInterop.SetThreadAffinity(mask) is { IsError: true } r)
            _log.Write(LogLevel.Alert, 0, $"sched_setaffinity(0x{mask:x}) failed ({r})");
        try
        {
            process = System.Diagnostics.Process.Start(start);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            _log.Write(LogLevel.Alert, 0, $"could not start worker process: {e.Message}");
        }
        finally
        {
            if (mask != 0) ProcessInterop.SetThreadAffinity(_allowedCpus);
            foreach (int fd in fds.Values) ProcessInterop.SetInheritable(fd, false);
            ProcessInterop.SetInheritable(_counters.Fd, false);
        }
        if (process is null)
        {
            Reaped(counterSlot);
            return;
        }
        var pipe = process.StandardInput.BaseStream;
        var child = new WorkerChild(process, slot, _generation, counterSlot, pipe);
        _workers.Add(child);
        try
        {
            pipe.Write(handoff.Serialize());
            pipe.Flush();
        }
        catch (IOException e)
        {
            _log.Write(LogLevel.Alert, 0, $"could not hand the configuration to worker process {child.Pid}: {e.Message}");
        }
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Post(() => Reap(child));
        _log.Write(LogLevel.Notice, 0, $"start worker process {child.Pid}");
    }

    private void Reap(WorkerChild child)
    {
        if (!_workers.Remove(child)) return;
        Reaped(child.CounterSlot);
        int code = child.Process.ExitCode;
        try { child.Pipe.Dispose(); } catch (IOException) { }
        child.Process.Dispose();
        string how = code > 128 ? $"on signal {code - 128}" : $"with code {code}";
        if (child.Retiring || _quitting || _terminating)
        {
            _log.Write(LogLevel.Notice, 0, $"worker process {child.Pid} exited {how}");
            return;
        }
        _log.Write(LogLevel.Alert, 0, $"worker process {child.Pid} exited {how}, restarting it");
        if (child.Generation != _generation) return;   // its slot already has a newer worker
        _counters.CountRestart();
        long lived = Environment.TickCount64 - child.StartedMs;
        if (lived >= RespawnBackoffMs) Spawn(child.Slot);
        else _ = Task.Delay(RespawnBackoffMs).ContinueWith(_ => Post(() => Spawn(child.Slot)), TaskScheduler.Default);
    }

    /// <summary>A worker's counter slot, once it has exited: its totals are kept in the folded slot of its number.</summary>
    private void Reaped(int counterSlot)
    {
        int lost = _counters.Reaped(counterSlot);
        if (lost > 0) _log.Write(LogLevel.Alert, 0, $"the totals of {lost} upstream peer(s) of an exited worker found no room in the counters, and are lost");
    }

    /// <summary>HUP: a new config only once it validates and its sockets open; then a new generation
    /// starts on it and the old one drains. On any error the old workers go on untouched.</summary>
    private void Reload()
    {
        if (_quitting || _terminating) return;
        ConfigSnapshot next;
        List<int> surplus;
        try
        {
            next = ConfigSnapshot.Load(Config.ConfigFile, Config.Prefix, _current.Options);
            surplus = _sockets.Ensure(next.Config, next.Config.WorkerProcesses);
        }
        catch (Exception e) when (e is ConfigException or ListenException)
        {
            _log.Write(LogLevel.Emerg, 0, e.Message);
            _log.Write(LogLevel.Notice, 0, "reload failed, keeping the current configuration");
            return;
        }
        _log.Write(LogLevel.Notice, 0, "reconfiguring");
        _counters.CountReload();
        var old = _workers.ToList();
        _current = next;
        StartGeneration();
        foreach (var w in old)
        {
            w.Retiring = true;
            ProcessInterop.Kill(w.Pid, ProcessInterop.SIGQUIT);
        }
        foreach (int fd in surplus) SocketInterop.Close(fd);
    }

    private void Quit()
    {
        _quitting = true;
        _log.Write(LogLevel.Notice, 0, "gracefully shutting down");
        foreach (var w in _workers)
        {
            w.Retiring = true;
            ProcessInterop.Kill(w.Pid, ProcessInterop.SIGQUIT);
        }
    }

    private void Terminate()
    {
        _terminating = true;
        _killAtMs = Math.Min(_killAtMs, Environment.TickCount64 + FastStopKillMs);
        foreach (var w in _workers)
        {
            w.Retiring = true;
            ProcessInterop.Kill(w.Pid, ProcessInterop.SIGTERM);
        }
    }

    /// <summary>USR1: reopen the error log here, and have every worker reopen its own.</summary>
    private void ReopenLogs()
    {
        _log.Reopen();
        foreach (var w in _workers) ProcessInterop.Kill(w.Pid, ProcessInterop.SIGUSR1);
    }
}
