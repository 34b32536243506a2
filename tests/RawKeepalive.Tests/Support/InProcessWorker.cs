using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Process;
using RawKeepalive.Proxy;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// A real worker loop run in this process on its own thread, listening on a free loopback port, so a
/// test can read the worker's own state (its loop thread's allocation counter, its splice pipes)
/// while real clients talk to it over real sockets. Config text: PORT and BACKEND are replaced.
/// </summary>
public sealed class InProcessWorker : IDisposable
{
    private readonly string _prefix = Directory.CreateTempSubdirectory("rawkeepalive-worker-").FullName;
    private readonly Listener[] _listeners;
    private readonly ErrorLog _log;
    private readonly Thread _loop;

    public Worker Worker { get; }
    public int Port { get; } = FreePort.Probe();

    public InProcessWorker(string template, int backendPort)
    {
        var config = ConfigLoader.LoadText(template.Replace("BACKEND", backendPort.ToString()).Replace("PORT", Port.ToString()), "worker.conf", _prefix);
        var groups = new Dictionary<UpstreamConfig, UpstreamGroup>();
        foreach (var u in config.Http.Upstreams) groups[u] = new UpstreamGroup(u, config.WorkerConnections);
        _listeners = ListenSockets.Open(config, groups);
        _log = new ErrorLog(Path.Combine(_prefix, "error.log"), LogLevel.Error);
        Worker = new Worker(config, _log, _listeners);
        _loop = new Thread(Worker.Run) { IsBackground = true, Name = "worker loop" };
        _loop.Start();
    }

    public void Dispose()
    {
        Worker.RequestStop();
        _loop.Join(TimeSpan.FromSeconds(10));
        Worker.Dispose();
        foreach (var l in _listeners) Tmds.Linux.LibC.close(l.Fd);
        _log.Dispose();
        Directory.Delete(_prefix, recursive: true);
    }
}
