using RawKeepalive.Http;
using RawKeepalive.Observability;
using RawKeepalive.Routing;

namespace RawKeepalive.Transforms;

/// <summary>What variables read about the request being served and its connection. The client side
/// provides it (today the client connection itself, no copy); Transforms never sees the connection.</summary>
public interface IRequestVariables
{
    RequestHead Request { get; }
    /// <summary>The bytes <see cref="Request"/>'s offsets point into, through the end of its head.</summary>
    ReadOnlySpan<byte> RequestHeadBytes { get; }
    /// <summary>The client's socket address (sockaddr bytes).</summary>
    ReadOnlySpan<byte> PeerAddress { get; }
    Listener Listener { get; }
    ServerRuntime Server { get; }
    LocationRuntime? Location { get; }
    /// <summary>$connection: the connection's serial number.</summary>
    long ConnectionNumber { get; }
    /// <summary>$connection_requests: requests made on the connection, this one included.</summary>
    int ConnectionRequests { get; }
    /// <summary>$request_id: 32 hex digits, fixed for the request.</summary>
    ReadOnlySpan<byte> RequestId { get; }
    /// <summary>Status, sizes, times, tries upstream and captured response headers: what $status,
    /// $bytes_sent, $request_time, $upstream_* and $sent_http_NAME read. Filled by the exchange.</summary>
    RequestRecord Record { get; }
}
