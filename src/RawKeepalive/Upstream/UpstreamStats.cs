using System.Runtime.CompilerServices;
using static RawKeepalive.Upstream.UpstreamFigures;

namespace RawKeepalive.Upstream;

/// <summary>What one upstream group's, or one peer's, connections and tries did in this worker, laid
/// out as <see cref="UpstreamFigures"/>: opens, reuses, stale retries, requests sent, closes by
/// reason, open and idle connections, responses by status class, connect, header and response times,
/// and requests per connection. Written by the worker's loop thread only, so plain stores. A peer's
/// figures are bound to its entry in the worker's slot of the shared counters (<see cref="Bind"/>),
/// where the metrics page sums them over every worker; a group's stay in the worker's memory (the
/// keepalive doctor reads them).</summary>
public sealed unsafe class UpstreamStats
{
    public static readonly int ReasonCount = ReasonLabels.Length;

    /// <summary>The figures until they are bound to shared memory (pinned: <see cref="_p"/> points into it).</summary>
    private readonly long[] _own = GC.AllocateArray<long>(Longs, pinned: true);
    private long* _p;

    public UpstreamStats() => _p = (long*)Unsafe.AsPointer(ref _own[0]);

    /// <summary>Moves the figures to <paramref name="shared"/> (<see cref="UpstreamFigures.Longs"/> longs),
    /// adding what was counted so far; every later count goes there.</summary>
    public void Bind(long* shared)
    {
        for (int i = 0; i < Longs; i++) shared[i] += _p[i];
        _p = shared;
    }

    public long Opened => Volatile.Read(ref _p[UpstreamFigures.Opened]);
    /// <summary>Exchanges that took an idle connection from the pool.</summary>
    public long Reused => Volatile.Read(ref _p[UpstreamFigures.Reused]);
    /// <summary>Requests replayed on a fresh connection after a reused one turned out dead.</summary>
    public long StaleRetries => Volatile.Read(ref _p[UpstreamFigures.StaleRetries]);
    /// <summary>Tries that sent a request upstream (a stale retry sends it twice).</summary>
    public long RequestsSent => Volatile.Read(ref _p[UpstreamFigures.RequestsSent]);
    /// <summary>Connections open now, idle ones included.</summary>
    public long Open => Volatile.Read(ref _p[UpstreamFigures.Open]);
    /// <summary>Connections idle in the pool now.</summary>
    public long Idle => Volatile.Read(ref _p[UpstreamFigures.Idle]);

    public long Closed(UpstreamCloseReason reason) => Volatile.Read(ref _p[UpstreamFigures.Closed + (int)reason]);

    /// <summary>Upstream responses of status class <paramref name="cls"/> (1 to 5).</summary>
    public long Responses(int cls) => Volatile.Read(ref _p[UpstreamFigures.Responses + cls - 1]);

    /// <summary>How many observations the histogram at <paramref name="histogram"/> (an UpstreamFigures offset) holds.</summary>
    public long Observations(int histogram) =>
        Volatile.Read(ref _p[histogram + (histogram == RequestsPerConnection ? RequestBounds : TimeBounds) + 2]);

    public void CountOpened()
    {
        _p[UpstreamFigures.Opened]++;
        _p[UpstreamFigures.Open]++;
    }

    /// <summary>An idle connection was taken from the pool for an exchange.</summary>
    public void CountReused()
    {
        _p[UpstreamFigures.Reused]++;
        _p[UpstreamFigures.Idle]--;
    }

    public void CountStaleRetry() => _p[UpstreamFigures.StaleRetries]++;

    public void CountClosed(UpstreamCloseReason reason) => _p[UpstreamFigures.Closed + (int)reason]++;

    /// <summary>A connection went back to the pool.</summary>
    public void CountIdle() => _p[UpstreamFigures.Idle]++;

    /// <summary>A connection is closed after carrying <paramref name="requests"/> requests; it was idle in
    /// the pool when <paramref name="wasIdle"/>.</summary>
    public void CountEnded(int requests, bool wasIdle)
    {
        _p[UpstreamFigures.Open]--;
        if (wasIdle) _p[UpstreamFigures.Idle]--;
        Observe(_p + RequestsPerConnection, RequestBoundsCount, requests);
    }

    public void CountRequestSent() => _p[UpstreamFigures.RequestsSent]++;

    /// <summary>The upstream answered with <paramref name="status"/>.</summary>
    public void CountResponse(int status)
    {
        int cls = status / 100;
        if (cls is >= 1 and <= StatusClasses) _p[UpstreamFigures.Responses + cls - 1]++;
    }

    /// <summary>A new connection became usable <paramref name="us"/> µs after its connect began.</summary>
    public void ObserveConnectTime(long us) => Observe(_p + ConnectTime, TimeBoundsUs, us);

    /// <summary>A response head arrived <paramref name="us"/> µs after its try began.</summary>
    public void ObserveHeaderTime(long us) => Observe(_p + HeaderTime, TimeBoundsUs, us);

    /// <summary>A try ended <paramref name="us"/> µs after it began.</summary>
    public void ObserveResponseTime(long us) => Observe(_p + ResponseTime, TimeBoundsUs, us);

    /// <summary>The connection <paramref name="up"/> is closed: both its group's and its peer's figures
    /// count the end (open and idle gauges, requests per connection).</summary>
    public static void Ended(UpstreamConnection up)
    {
        bool idle = up.State == UpstreamState.Idle;
        up.Group.Stats.CountEnded(up.Requests, idle);
        up.Peer.Stats.CountEnded(up.Requests, idle);
    }

    /// <summary>The connection <paramref name="up"/> went back to its pool.</summary>
    public static void WentIdle(UpstreamConnection up)
    {
        up.Group.Stats.CountIdle();
        up.Peer.Stats.CountIdle();
    }

    /// <summary>A try sends its request on <paramref name="up"/>.</summary>
    public static void Sent(UpstreamConnection up)
    {
        up.Group.Stats.CountRequestSent();
        up.Peer.Stats.CountRequestSent();
    }

    /// <summary>The new connection <paramref name="up"/> became usable <paramref name="us"/> µs after its connect began.</summary>
    public static void Connected(UpstreamConnection up, long us)
    {
        up.Group.Stats.ObserveConnectTime(us);
        up.Peer.Stats.ObserveConnectTime(us);
    }

    /// <summary>A response head with <paramref name="status"/> came on <paramref name="up"/>, <paramref name="us"/> µs into its try.</summary>
    public static void Answered(UpstreamConnection up, int status, long us)
    {
        up.Group.Stats.CountResponse(status);
        up.Group.Stats.ObserveHeaderTime(us);
        up.Peer.Stats.CountResponse(status);
        up.Peer.Stats.ObserveHeaderTime(us);
    }

    /// <summary>A try on <paramref name="up"/> ended <paramref name="us"/> µs after it began.</summary>
    public static void TryEnded(UpstreamConnection up, long us)
    {
        up.Group.Stats.ObserveResponseTime(us);
        up.Peer.Stats.ObserveResponseTime(us);
    }
}
