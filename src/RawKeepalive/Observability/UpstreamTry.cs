namespace RawKeepalive.Observability;

/// <summary>One try of a request upstream, as nginx's ngx_http_upstream_state_t: what the
/// <c>$upstream_*</c> variables list, one entry per try. Times are milliseconds from the try's start,
/// -1 while unknown (printed "-").</summary>
public struct UpstreamTry
{
    /// <summary>The peer's "ip:port" (UpstreamPeer.NameBytes; not copied).</summary>
    public byte[]? Peer;
    /// <summary>The upstream's status, or nginx's 502/504 for a try that failed; 0 = none ("-").</summary>
    public int Status;
    /// <summary>Monotonic milliseconds when the try began (connect started or pooled connection taken).</summary>
    public long StartMs;
    public long ConnectMs, HeaderMs, ResponseMs;
    /// <summary>Response body bytes received ($upstream_response_length).</summary>
    public long ResponseLength;
    /// <summary>Every byte sent to and received from the upstream on this try, heads included.</summary>
    public long BytesSent, BytesReceived;
    /// <summary>The connection came from the idle pool ($upstream_connection "reused"), else it was opened.</summary>
    public bool Reused;
    /// <summary>Requests the connection has carried, this one included ($upstream_connection_requests).</summary>
    public int ConnectionRequests;
}
