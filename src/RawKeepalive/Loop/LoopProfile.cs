using System.Diagnostics;
using System.Text;

namespace RawKeepalive.Loop;

/// <summary>Where a worker's loop spends its time under load, for the perf suite's tail analysis
/// (perf/tail.py): epoll batch sizes and how long a batch takes, how long a ready client waits in its
/// batch before its turn, connect() and close() cost and how often they happen, and accepts per
/// listener event. Off unless the environment names a file in RAWKEEPALIVE_LOOP_PROFILE; then each
/// worker writes its figures to FILE.PID when its loop ends. Every record is an array increment and,
/// for timings, a vDSO clock read: nothing allocates, so a profiled run measures the real loop.</summary>
public sealed class LoopProfile
{
    public const string Variable = "RAWKEEPALIVE_LOOP_PROFILE";

    private readonly string _path;

    private LoopProfile(string path) => _path = path;

    /// <summary>The profile when RAWKEEPALIVE_LOOP_PROFILE is set, else null (the loop checks for null).</summary>
    public static LoopProfile? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? new LoopProfile(path) : null;

    /// <summary>Events per epoll_wait that returned any.</summary>
    public Log2Histogram BatchEvents { get; } = new("events per batch", "");
    /// <summary>From epoll_wait's return to the end of the batch's periodic work.</summary>
    public Log2Histogram BatchMicros { get; } = new("batch duration", "us");
    /// <summary>Client events: from epoll_wait's return to the event's dispatch.</summary>
    public Log2Histogram ClientTurnMicros { get; } = new("client wait before its turn", "us");
    /// <summary>Upstream events: the same (they go first in each batch).</summary>
    public Log2Histogram UpstreamTurnMicros { get; } = new("upstream wait before its turn", "us");
    /// <summary>socket() + connect() of a new upstream connection, done when it returned.</summary>
    public Log2Histogram ConnectCallMicros { get; } = new("socket()+connect(), done at once", "us");
    /// <summary>The same, still in progress when it returned.</summary>
    public Log2Histogram ConnectPendingCallMicros { get; } = new("socket()+connect(), in progress", "us");
    /// <summary>From connect() to the event that reports it done (EINPROGRESS only).</summary>
    public Log2Histogram ConnectDoneMicros { get; } = new("connect() in progress until done", "us");
    /// <summary>close() of an upstream connection, abortive (SO_LINGER 0) or graceful.</summary>
    public Log2Histogram AbortiveCloseMicros { get; } = new("upstream close(), abortive", "us");
    public Log2Histogram GracefulCloseMicros { get; } = new("upstream close(), graceful", "us");
    /// <summary>Connections accepted per listener event.</summary>
    public Log2Histogram AcceptsPerEvent { get; } = new("accepts per listener event", "");

    /// <summary>Connections opened in EINPROGRESS, by slot: when connect() was called.</summary>
    public long[] ConnectStarted { get; private set; } = [];

    public void Size(int slots) => ConnectStarted = new long[slots];

    public static long Now => Stopwatch.GetTimestamp();

    public static long MicrosSince(long start) => (Stopwatch.GetTimestamp() - start) * 1_000_000 / Stopwatch.Frequency;

    /// <summary>Writes the figures to FILE.PID (the loop ended).</summary>
    public void Write()
    {
        var s = new StringBuilder();
        foreach (var h in new[] { BatchEvents, BatchMicros, ClientTurnMicros, UpstreamTurnMicros, ConnectCallMicros, ConnectPendingCallMicros,
                     ConnectDoneMicros, AbortiveCloseMicros, GracefulCloseMicros, AcceptsPerEvent })
            h.Describe(s);
        File.WriteAllText($"{_path}.{Environment.ProcessId}", s.ToString());
    }
}
