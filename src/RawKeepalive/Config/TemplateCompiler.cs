using System.Text;

namespace RawKeepalive.Config;

/// <summary>Compiles a value with <c>$name</c> / <c>${name}</c> references into a <see cref="ValueTemplate"/>,
/// following ngx_http_script_compile: a name is [A-Za-z0-9_]+ (case-insensitive); "${" needs its "}";
/// a "$" with no name after it is an invalid variable name. nginx has no escape for "$" (a backslash
/// before it stays a literal backslash), and neither do we.</summary>
public static class TemplateCompiler
{
    private static readonly Dictionary<string, Variable> Known = new(StringComparer.Ordinal)
    {
        ["host"] = Variable.Host,
        ["remote_addr"] = Variable.RemoteAddr,
        ["remote_port"] = Variable.RemotePort,
        ["server_addr"] = Variable.ServerAddr,
        ["server_port"] = Variable.ServerPort,
        ["server_name"] = Variable.ServerName,
        ["scheme"] = Variable.Scheme,
        ["request_uri"] = Variable.RequestUri,
        ["uri"] = Variable.Uri,
        ["document_uri"] = Variable.Uri,
        ["args"] = Variable.Args,
        ["query_string"] = Variable.Args,
        ["request_method"] = Variable.RequestMethod,
        ["proxy_host"] = Variable.ProxyHost,
        ["proxy_port"] = Variable.ProxyPort,
        ["proxy_add_x_forwarded_for"] = Variable.ProxyAddXForwardedFor,
        ["server_protocol"] = Variable.ServerProtocol,
        ["content_length"] = Variable.ContentLength,
        ["content_type"] = Variable.ContentType,
        ["connection"] = Variable.Connection,
        ["connection_requests"] = Variable.ConnectionRequests,
        ["request_id"] = Variable.RequestId,
        ["msec"] = Variable.Msec,
        ["time_local"] = Variable.TimeLocal,
        ["time_iso8601"] = Variable.TimeIso8601,
        ["is_args"] = Variable.IsArgs,
        ["request"] = Variable.Request,
        ["hostname"] = Variable.Hostname,
        ["pid"] = Variable.Pid,
        ["nginx_version"] = Variable.NginxVersion,
        ["status"] = Variable.Status,
        ["body_bytes_sent"] = Variable.BodyBytesSent,
        ["bytes_sent"] = Variable.BytesSent,
        ["request_length"] = Variable.RequestLength,
        ["request_time"] = Variable.RequestTime,
        ["connection_time"] = Variable.ConnectionTime,
        ["remote_user"] = Variable.RemoteUser,
        ["upstream_addr"] = Variable.UpstreamAddr,
        ["upstream_status"] = Variable.UpstreamStatus,
        ["upstream_connect_time"] = Variable.UpstreamConnectTime,
        ["upstream_header_time"] = Variable.UpstreamHeaderTime,
        ["upstream_response_time"] = Variable.UpstreamResponseTime,
        ["upstream_response_length"] = Variable.UpstreamResponseLength,
        ["upstream_bytes_sent"] = Variable.UpstreamBytesSent,
        ["upstream_bytes_received"] = Variable.UpstreamBytesReceived,
        ["upstream_connection"] = Variable.UpstreamConnection,
        ["upstream_connection_requests"] = Variable.UpstreamConnectionRequests,
    };

    /// <summary>The maps of the http block being built, by variable name, and the response header names
    /// its templates read. Set for the duration of the build (<see cref="WithMaps"/>) rather than threaded
    /// through every directive reader, because a template anywhere in http may use a map declared anywhere
    /// in it, and every $sent_http_/$upstream_http_ name must be known before the first request.</summary>
    [ThreadStatic] private static Dictionary<string, MapConfig>? _maps;
    [ThreadStatic] private static HeaderCaptures? _captures;

    public static IDisposable WithMaps(IEnumerable<MapConfig> maps, HeaderCaptures? captures = null)
    {
        var previous = (_maps, _captures);
        _maps = maps.ToDictionary(m => m.Name, StringComparer.Ordinal);
        _captures = captures;
        return new Restore(previous);
    }

    private sealed class Restore((Dictionary<string, MapConfig>?, HeaderCaptures?) previous) : IDisposable
    {
        public void Dispose() => (_maps, _captures) = previous;
    }

    /// <summary>Whether <paramref name="name"/> (lower-case, no "$") is a variable nginx itself defines.</summary>
    public static bool IsBuiltIn(string name) =>
        Known.ContainsKey(name) || NotSupported.Contains(name)
        || name.StartsWith("http_", StringComparison.Ordinal) || name.StartsWith("arg_", StringComparison.Ordinal)
        || name.StartsWith("cookie_", StringComparison.Ordinal)
        || HeaderPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))
        || NotSupportedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    // nginx variables we do not evaluate yet: named so the error says "not supported" rather than "unknown".
    private static readonly HashSet<string> NotSupported = new(StringComparer.Ordinal)
    {
        "binary_remote_addr", "https", "realpath_root", "document_root", "request_body", "request_filename",
        "proxy_protocol_addr", "ssl_protocol", "ssl_cipher", "limit_rate", "tcpinfo_rtt", "server_software",
        "pipe", "upstream_cache_status", "request_completion",
    };

    private static readonly string[] NotSupportedPrefixes = ["upstream_cookie_", "sent_trailer_", "upstream_trailer_"];
    private static readonly string[] HeaderPrefixes = ["sent_http_", "upstream_http_"];

    public static ValueTemplate Compile(string source, ConfigDirective where)
    {
        var segments = new List<TemplateSegment>();
        var literal = new StringBuilder();
        int i = 0;
        while (i < source.Length)
        {
            char ch = source[i];
            if (ch != '$')
            {
                literal.Append(ch);
                i++;
                continue;
            }
            i++;
            bool bracket = i < source.Length && source[i] == '{';
            if (bracket) i++;
            int start = i;
            while (i < source.Length && IsNameChar(source[i])) i++;
            string name = source[start..i];
            if (bracket)
            {
                if (i >= source.Length || source[i] != '}')
                    throw ConfigError.At($"the closing bracket in \"{name}\" variable is missing", where);
                i++;
            }
            if (name.Length == 0) throw ConfigError.At("invalid variable name", where);

            FlushLiteral(literal, segments);
            segments.Add(Resolve(name, where));
        }
        FlushLiteral(literal, segments);
        return new ValueTemplate([.. segments], source);
    }

    /// <summary>The segment for variable <paramref name="written"/> (without "$"), or nginx's error.</summary>
    internal static TemplateSegment Resolve(string written, ConfigDirective where)
    {
        string name = written.ToLowerInvariant();   // nginx looks variables up lower-cased
        if (Known.TryGetValue(name, out var variable)) return new TemplateSegment(null, variable, null);
        if (_maps is not null && _maps.TryGetValue(name, out var map)) return new TemplateSegment(null, Variable.Map, null, map);
        if (name.StartsWith("arg_", StringComparison.Ordinal) && name.Length > "arg_".Length)
            return new TemplateSegment(null, Variable.Arg, Encoding.ASCII.GetBytes(written["arg_".Length..]));
        if (name.StartsWith("cookie_", StringComparison.Ordinal) && name.Length > "cookie_".Length)
            return new TemplateSegment(null, Variable.Cookie, Encoding.ASCII.GetBytes(written["cookie_".Length..]));
        if (name.StartsWith("http_", StringComparison.Ordinal) && name.Length > "http_".Length)
        {
            // Header names are compared lower-case with '-' for '_', as $http_x_real_ip matches X-Real-IP.
            string header = name["http_".Length..].Replace('_', '-');
            return new TemplateSegment(null, Variable.HttpHeader, Encoding.ASCII.GetBytes(header));
        }
        foreach (string prefix in HeaderPrefixes)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length == prefix.Length) continue;
            bool upstream = prefix[0] == 'u';
            string header = name[prefix.Length..];
            int slot = _captures?.SlotOf(upstream, header) ?? -1;
            return new TemplateSegment(null, upstream ? Variable.UpstreamHttp : Variable.SentHttp, Encoding.ASCII.GetBytes(header), null, slot);
        }
        if (char.IsAsciiDigit(name[0]))
            throw ConfigError.At($"the \"${written}\" variable (a regex capture) is not supported yet", where);
        if (NotSupported.Contains(name) || NotSupportedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            throw ConfigError.At($"the \"${written}\" variable is not supported yet", where);
        throw ConfigError.At($"unknown \"{name}\" variable", where);
    }

    private static void FlushLiteral(StringBuilder literal, List<TemplateSegment> segments)
    {
        if (literal.Length == 0) return;
        segments.Add(new TemplateSegment(Encoding.UTF8.GetBytes(literal.ToString()), default, null));
        literal.Clear();
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
