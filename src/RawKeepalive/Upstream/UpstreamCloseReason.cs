namespace RawKeepalive.Upstream;

/// <summary>Why the proxy closed an upstream connection, counted per upstream and per peer: the
/// figures that tell whether keepalive works and, when it does not, why. New reasons go at the end.</summary>
public enum UpstreamCloseReason : byte
{
    /// <summary>The upstream closed it, or sent something unasked, while it sat in the pool.</summary>
    ClosedWhileIdle,
    /// <summary>Idle for the upstream's keepalive_timeout.</summary>
    IdleTimeout,
    /// <summary>It carried keepalive_requests requests.</summary>
    MaxRequests,
    /// <summary>It was open for keepalive_time.</summary>
    MaxTime,
    /// <summary>Evicted, least recently used, to make room in a pool already holding keepalive N.</summary>
    PoolFull,
    /// <summary>The exchange ended cleanly but left it unusable: Connection: close, a body delimited by
    /// the close, a request body not sent whole, or no pool to return to.</summary>
    NotReusable,
    /// <summary>Connect, send or read failed or timed out, the response was malformed, or the client
    /// went away, while it carried an exchange.</summary>
    ErrorMidExchange,
    /// <summary>The worker is stopping.</summary>
    Shutdown,
    /// <summary>Its exchange ended cleanly, but the upstream had already closed or reset it (an EOF,
    /// EPOLLRDHUP, EPOLLHUP or EPOLLERR was waiting): a server that closes after each response
    /// without saying so.</summary>
    ClosedAtRelease,
    /// <summary>Its exchange ended cleanly, but bytes beyond the response were waiting on it: the next
    /// response read from it would not be the next request's.</summary>
    UnexpectedDataAtRelease,
    /// <summary>Idle, closed to make room under max_conns for a request it could not serve: another location's
    /// under keepalive N local, or, with zone, another worker's that has waited longer.</summary>
    MaxConns,
}
