using RawKeepalive.Config;
using RawKeepalive.Upstream;

namespace RawKeepalive.Observability;

/// <summary>The runtime half of the keepalive linter: every <c>keepalive_doctor_interval</c> the worker
/// looks at what each upstream's connections did in that interval (its own figures,
/// <see cref="UpstreamStats"/>). When fewer than <see cref="PoorReusePercent"/>% of at least
/// <see cref="MinRequests"/> requests reused a connection, and closes explain it, one [warn] line names
/// the upstream and the figure, the dominant close reason as a cause, and the fix in the words of the
/// article's mistakes (<see cref="KeepaliveDiagnosis"/>). Openings with no close behind them (a pool
/// growing to the traffic) are no fault. Otherwise the figure goes to an [info] line. Runs from the
/// loop's periodic work; allocates only when it writes a line.</summary>
public sealed class KeepaliveDoctor
{
    public const int PoorReusePercent = 99;
    public const int MinRequests = 5;

    private readonly ErrorLog _log;
    private readonly long _intervalMs;
    private readonly Watched[] _watched;

    /// <summary>One upstream group, what its locations send, and its figures at the last look.</summary>
    private sealed class Watched(UpstreamGroup group, KeepaliveDiagnosis.Facts facts)
    {
        public UpstreamGroup Group { get; } = group;
        public KeepaliveDiagnosis.Facts Facts { get; } = facts;
        public long Opened, Reused;
        public long[] Closed { get; } = new long[UpstreamStats.ReasonCount];
    }

    public KeepaliveDoctor(ProxyConfig config, IReadOnlyList<UpstreamGroup> groups, ErrorLog log, long nowMs)
    {
        _log = log;
        _intervalMs = config.Http.KeepaliveDoctorIntervalMs;
        _watched = new Watched[config.Http.KeepaliveDoctor ? groups.Count : 0];
        for (int i = 0; i < _watched.Length; i++) _watched[i] = new Watched(groups[i], KeepaliveDiagnosis.FactsOf(config, groups[i].Config));
        DueMs = _watched.Length > 0 ? nowMs + _intervalMs : long.MaxValue;
    }

    /// <summary>When the next look is due (monotonic ms), or long.MaxValue when the doctor is off.</summary>
    public long DueMs { get; private set; }

    /// <summary>Looks at the interval that ended now, if it is due.</summary>
    public void Tick(long nowMs)
    {
        if (nowMs < DueMs) return;
        DueMs = nowMs + _intervalMs;
        foreach (var w in _watched) Examine(w);
    }

    private void Examine(Watched w)
    {
        var stats = w.Group.Stats;
        long opened = stats.Opened - w.Opened, reused = stats.Reused - w.Reused;
        w.Opened += opened;
        w.Reused += reused;
        int dominant = -1;
        long dominantCount = 0, closes = 0;
        for (int r = 0; r < w.Closed.Length; r++)
        {
            long now = stats.Closed((UpstreamCloseReason)r), count = now - w.Closed[r];
            w.Closed[r] = now;
            if ((UpstreamCloseReason)r == UpstreamCloseReason.Shutdown) continue;
            closes += count;
            if (count > dominantCount)
            {
                dominant = r;
                dominantCount = count;
            }
        }
        long requests = opened + reused;
        if (requests < MinRequests) return;
        if (reused * 100 >= requests * PoorReusePercent || dominant < 0)
        {
            _log.Write(LogLevel.Info, 0, $"{Figure(w, requests, reused, opened)}");   // made only when info is logged
            return;
        }
        if (!_log.Enabled(LogLevel.Warn)) return;
        var (cause, fix) = KeepaliveDiagnosis.Explain((UpstreamCloseReason)dominant, w.Group.Config, w.Facts);
        _log.Write(LogLevel.Warn, 0,
            $"{Figure(w, requests, reused, opened)}; {dominantCount} of {closes} closes were {UpstreamFigures.ReasonLabels[dominant]}: {cause}; fix: {fix}");
    }

    private string Figure(Watched w, long requests, long reused, long opened) =>
        $"keepalive doctor: upstream \"{w.Group.Config.Name}\" reused a connection for {reused * 100 / requests}% of {requests} requests " +
        $"in the last {KeepaliveDiagnosis.Duration(_intervalMs)} ({opened} connections opened)";
}
