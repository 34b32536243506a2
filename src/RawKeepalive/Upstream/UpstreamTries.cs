namespace RawKeepalive.Upstream;

/// <summary>Where a try upstream was when it failed: the log line names it ("while connecting to
/// upstream"), and whether any request byte can have reached the upstream depends on it.</summary>
public enum UpstreamPhase : byte { Connecting, SendingRequest, ReadingResponseHeader, ReadingResponseBody }

/// <summary>What the policy does after a failed try.</summary>
public enum RetryDecision : byte
{
    /// <summary>The reused connection was stale: the same peer again, on a fresh connection, not counted against it.</summary>
    FreshConnection,
    /// <summary>proxy_next_upstream: the next peer, one try fewer.</summary>
    NextPeer,
    /// <summary>No retry: the client gets 502/504 (or, mid-response, the exchange is aborted).</summary>
    Fail,
}

/// <summary>One failed try, as the policy needs to see it.</summary>
public readonly record struct UpstreamFailure(
    UpstreamPhase Phase,
    bool TimedOut,
    /// <summary>The connection came from the pool for this try.</summary>
    bool Reused,
    /// <summary>No byte of a response has arrived.</summary>
    bool BeforeResponse,
    /// <summary>The request may go again: idempotent (or proxy_next_upstream non_idempotent), and its head still buffered.</summary>
    bool Replayable);

/// <summary>The retry and next-peer policy of one request (nginx's proxy_next_upstream with
/// proxy_next_upstream_tries, plus the stale-connection retry of a keepalive pool): which peer is
/// current, how many tries are left, whether the one fresh-connection retry was used.</summary>
public struct UpstreamTries
{
    private int _left;
    private bool _staleRetried;

    /// <summary>The current peer's index in its group.</summary>
    public int Peer { get; private set; }

    /// <summary>A new request: the group's next peer (round robin), and as many tries as it has peers,
    /// capped by proxy_next_upstream_tries (0: no cap).</summary>
    public void Start(UpstreamGroup group, int maxTries) => Start(group.Peers.Length, maxTries, group.NextPeer());

    /// <summary>A new request over <paramref name="peerCount"/> peers starting at <paramref name="firstPeer"/>.</summary>
    public void Start(int peerCount, int maxTries, int firstPeer)
    {
        _left = maxTries > 0 ? Math.Min(peerCount, maxTries) : peerCount;
        _staleRetried = false;
        Peer = firstPeer;
    }

    /// <summary>Moves to the next peer if a try is left.</summary>
    public bool TryNextPeer(int peerCount)
    {
        if (--_left <= 0) return false;
        Peer = Peer + 1 == peerCount ? 0 : Peer + 1;
        return true;
    }

    /// <summary>The current peer is at max_conns: moves to the next peer (round robin) that may open a
    /// connection for a request waiting since <paramref name="sinceMs"/> (or holds an idle one in the group's
    /// cache), without spending a try, as nginx's peer selection skips a busy peer. False when every peer of
    /// <paramref name="group"/> is at its limit.</summary>
    public bool SkipToPeerBelowLimit(UpstreamGroup group, long sinceMs)
    {
        var peers = group.Peers;
        for (int i = 1, p = Peer; i < peers.Length; i++)
        {
            p = p + 1 == peers.Length ? 0 : p + 1;
            if (!peers[p].Blocked(sinceMs) || group.Pool is { Count: > 0 } pool && pool.Holds(p))
            {
                Peer = p;
                return true;
            }
        }
        return false;
    }

    /// <summary>The policy. A reused connection that failed before any response byte (not by timeout)
    /// was stale: a replayable request goes once more on a fresh connection to the same peer.
    /// Otherwise proxy_next_upstream (<paramref name="allowedByConfig"/> for this kind of failure)
    /// moves on before any response byte, when nothing was sent (a failed connect) or the request
    /// can be replayed, while tries are left.</summary>
    public RetryDecision Decide(in UpstreamFailure f, bool allowedByConfig, int peerCount)
    {
        if (f.Reused && f.BeforeResponse && !f.TimedOut && !_staleRetried && f.Replayable)
        {
            _staleRetried = true;
            return RetryDecision.FreshConnection;
        }
        bool nothingSent = f.Phase == UpstreamPhase.Connecting;
        if (f.BeforeResponse && allowedByConfig && (nothingSent || f.Replayable) && TryNextPeer(peerCount))
            return RetryDecision.NextPeer;
        return RetryDecision.Fail;
    }

    /// <summary>nginx's words for the phase in its log lines.</summary>
    public static string Describe(UpstreamPhase phase) => phase switch
    {
        UpstreamPhase.Connecting => "connecting to upstream",
        UpstreamPhase.SendingRequest => "sending request to upstream",
        UpstreamPhase.ReadingResponseHeader => "reading response header from upstream",
        _ => "reading upstream",
    };
}
