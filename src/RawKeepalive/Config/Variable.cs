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
}

/// <summary>One piece of a compiled value: literal bytes, or a variable (with the name for $http_NAME,
/// $arg_NAME and $cookie_NAME, or the map for a map's variable).</summary>
public readonly record struct TemplateSegment(byte[]? Literal, Variable Variable, byte[]? HeaderName, MapConfig? Map = null)
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
