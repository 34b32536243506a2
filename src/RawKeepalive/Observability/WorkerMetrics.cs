using RawKeepalive.Config;
using RawKeepalive.Upstream;

namespace RawKeepalive.Observability;

/// <summary>A worker's figures: the shared counters segment, its own slot there (every upstream peer's
/// figures bound to an entry of it, and every zoned peer's connection count to its zone entry), the metrics
/// page that sums the segment, and the keepalive doctor that reads the worker's own upstream figures once
/// per interval.</summary>
public sealed class WorkerMetrics
{
    /// <param name="segment">The master's segment; null in single-process mode (a private one).</param>
    /// <param name="slot">This worker's slot of <paramref name="segment"/>.</param>
    public WorkerMetrics(SharedCounters? segment, int slot, ProxyConfig config, IReadOnlyList<UpstreamGroup> groups, ErrorLog log, long nowMs)
    {
        if (segment is null)
        {
            // Single process: a segment of its own, whose one slot is marked in use like a worker's (sums read only those).
            segment = SharedCounters.Private();
            slot = segment.Allocate(workerNumber: 0);
        }
        Segment = segment;
        Counters = new CounterSlot(segment, slot);
        Counters.Register(groups, log);
        segment.Zones.Bind(groups, slot, log);
        int peers = 0;
        foreach (var g in groups) peers += g.Peers.Length;
        Page = new MetricsPage(peers);
        Doctor = new KeepaliveDoctor(config, groups, log, nowMs);
    }

    /// <summary>The server-wide counters stub_status and the metrics page read.</summary>
    public SharedCounters Segment { get; }
    public CounterSlot Counters { get; }
    public MetricsPage Page { get; }
    public KeepaliveDoctor Doctor { get; }
}
