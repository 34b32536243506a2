using System.Text.RegularExpressions;
using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Process;
using RawKeepalive.Proxy;
using RawKeepalive.Upstream;
using RawKeepalive.Routing;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// A real worker loop run in this process on its own thread, listening on a free loopback port, so a
/// test can read the worker's own state (its loop thread's allocation counter, its splice pipes)
/// while real clients talk to it over real sockets. Config text: PORT and BACKEND are replaced.
/// Dispose checks the worker's error log as <see cref="ProxyProcess"/> does (<see cref="ErrorLogCheck"/>);
/// track it (<see cref="ProxyTestBase"/>) so the check runs once the test's own outcome is known.
/// </summary>
public sealed class InProcessWorker : IDisposable
{
    private readonly string _prefix = Directory.CreateTempSubdirectory("rawkeepalive-worker-").FullName;
    private readonly Listener[] _listeners;
    private readonly ErrorLog _log;
    private readonly Thread _loop;
    private readonly List<Regex> _expectedLog = [];
    private int _disposed;

    public Worker Worker { get; }
    public int Port { get; } = FreePort.Probe();

    /// <summary>The worker's upstream groups, in config order (their Stats are the worker's own figures).</summary>
    public UpstreamGroup[] Groups { get; }

    public InProcessWorker(string template, int backendPort)
    {
        var config = ConfigLoader.LoadText(template.Replace("BACKEND", backendPort.ToString()).Replace("PORT", Port.ToString()), "worker.conf", _prefix);
        var groups = new Dictionary<UpstreamConfig, UpstreamGroup>();
        foreach (var u in config.Http.Upstreams) groups[u] = new UpstreamGroup(u, config.WorkerConnections);
        Groups = groups.Values.ToArray();
        _listeners = ListenSockets.Open(config, groups);
        _log = new ErrorLog(Path.Combine(_prefix, "error.log"), LogLevel.Error);
        Worker = new Worker(config, _log, _listeners);
        _loop = new Thread(Worker.Run) { IsBackground = true, Name = "worker loop" };
        _loop.Start();
    }

    /// <summary>Declares an <c>[alert]</c>/<c>[crit]</c>/<c>[emerg]</c> or internal-error line the test provokes (see <see cref="ProxyProcess.ExpectLog(string)"/>).</summary>
    public InProcessWorker ExpectLog(string text)
    {
        _expectedLog.Add(ErrorLogCheck.Containing(text));
        return this;
    }

    public void Dispose() => Dispose(ErrorLogCheck.Mode.Fail);

    public void Dispose(ErrorLogCheck.Mode mode)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        string? unexpected;
        try
        {
            Worker.RequestStop();
            _loop.Join(TimeSpan.FromSeconds(10));
            Worker.Dispose();
            foreach (var l in _listeners) Tmds.Linux.LibC.close(l.Fd);
            _log.Dispose();
        }
        finally
        {
            unexpected = mode == ErrorLogCheck.Mode.Skip ? null
                : ErrorLogCheck.Describe("in-process worker", ErrorLogCheck.Find(_prefix, "", _expectedLog));
            Directory.Delete(_prefix, recursive: true);
        }
        ErrorLogCheck.Report(unexpected, mode);
    }
}
