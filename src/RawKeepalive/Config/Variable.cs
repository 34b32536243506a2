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
}

/// <summary>One piece of a compiled value: literal bytes, or a variable (with the header name for $http_NAME).</summary>
public readonly record struct TemplateSegment(byte[]? Literal, Variable Variable, byte[]? HeaderName)
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
