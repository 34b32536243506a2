namespace RawKeepalive.Config;

/// <summary>The variables a value template can reference (nginx names without the '$').</summary>
public enum Variable : byte
{
    Host,                  // $host: Host header (lower-cased, port stripped) or server_name
    HttpHeader,            // $http_NAME: request header NAME ('_' matches '-', case-insensitive)
    RemoteAddr,            // $remote_addr
    RemotePort,            // $remote_port
    ServerAddr,            // $server_addr
    ServerPort,            // $server_port
    ServerName,            // $server_name
    Scheme,                // $scheme
    RequestUri,            // $request_uri: the original target with query
    Uri,                   // $uri: the path
    Args,                  // $args / $query_string
    RequestMethod,         // $request_method
    ProxyHost,             // $proxy_host
    ProxyPort,             // $proxy_port
    ProxyAddXForwardedFor, // $proxy_add_x_forwarded_for
    ServerProtocol,        // $server_protocol
    ContentLength,         // $content_length
    ContentType,           // $content_type
    Connection,            // $connection: the connection serial number
    ConnectionRequests,    // $connection_requests: requests made on this connection, this one included
    RequestId,             // $request_id: 32 random hex digits, fixed for the request
    Msec,                  // $msec: seconds since the epoch with milliseconds
    TimeLocal,             // $time_local: "25/Nov/2026:01:33:40 +0000"
    TimeIso8601,           // $time_iso8601: "2026-11-25T01:33:40+00:00"
    Arg,                   // $arg_NAME: query argument NAME (case-insensitive name, raw value)
    IsArgs,                // $is_args: "?" when the request has a query, else empty
    Cookie,                // $cookie_NAME
    Request,               // $request: the request line
    Hostname,              // $hostname
    Pid,                   // $pid: the worker's process id
    NginxVersion,          // $nginx_version: our version
    Map,                   // a map block's variable
    // What the request record holds (Observability.RequestRecord), filled by the exchange:
    Status,                // $status: "%03d", "000" before a status is known
    BodyBytesSent,         // $body_bytes_sent: bytes of the response body sent to the client
    BytesSent,             // $bytes_sent: bytes sent to the client, head included
    RequestLength,         // $request_length: request line, header and body bytes received
    RequestTime,           // $request_time: seconds.milliseconds since the request's first byte
    ConnectionTime,        // $connection_time: seconds.milliseconds since the connection was accepted
    RemoteUser,            // $remote_user: the user name of an "Authorization: Basic" header
    SentHttp,              // $sent_http_NAME: a header sent to the client (captured at response-head time)
    UpstreamHttp,          // $upstream_http_NAME: a header of the upstream's response (captured likewise)
    UpstreamAddr,          // $upstream_addr: one "ip:port" per try, ", " between tries (as every $upstream_ list)
    UpstreamStatus,        // $upstream_status: each try's status, "-" for a try without one
    UpstreamConnectTime,   // $upstream_connect_time: seconds.milliseconds, "-" when not connected
    UpstreamHeaderTime,    // $upstream_header_time
    UpstreamResponseTime,  // $upstream_response_time
    UpstreamResponseLength,// $upstream_response_length: response body bytes received
    UpstreamBytesSent,     // $upstream_bytes_sent
    UpstreamBytesReceived, // $upstream_bytes_received
    UpstreamConnection,    // $upstream_connection (ours): "new" or "reused" per try
    UpstreamConnectionRequests, // $upstream_connection_requests (ours): requests that connection has carried, this one included
}

/// <summary>One piece of a compiled value: literal bytes, or a variable (with the name for $http_NAME,
/// $arg_NAME, $cookie_NAME, $sent_http_NAME and $upstream_http_NAME, the map for a map's variable, and
/// for the two response-header kinds the slot of <see cref="HeaderCaptures"/> that holds the value).</summary>
public readonly record struct TemplateSegment(byte[]? Literal, Variable Variable, byte[]? HeaderName, MapConfig? Map = null, int Slot = -1)
{
    public bool IsLiteral => Literal is not null;
}

/// <summary>A string with variables, compiled once at config load into segments so the hot path
/// only copies bytes. <c>"$host:$server_port"</c> → [Host][":"][ServerPort].</summary>
public sealed class ValueTemplate(TemplateSegment[] segments, string source)
{
    public TemplateSegment[] Segments { get; } = segments;
    public string Source { get; } = source;
    public bool IsEmptyLiteral => Segments.Length == 0;
    public override string ToString() => Source;
}
