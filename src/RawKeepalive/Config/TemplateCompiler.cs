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
    };

    // nginx variables we do not evaluate yet: named so the error says "not supported" rather than "unknown".
    private static readonly HashSet<string> NotSupported = new(StringComparer.Ordinal)
    {
        "request_id", "request_time", "request_length", "request", "status", "time_local", "time_iso8601", "msec",
        "binary_remote_addr", "connection", "connection_requests", "hostname", "https", "is_args", "nginx_version",
        "pid", "realpath_root", "document_root", "remote_user", "request_body", "request_filename",
        "bytes_sent", "body_bytes_sent", "upstream_addr", "upstream_status", "upstream_response_time",
        "upstream_connect_time", "upstream_header_time", "proxy_protocol_addr", "ssl_protocol", "ssl_cipher",
        "limit_rate", "tcpinfo_rtt", "server_software",
    };

    private static readonly string[] NotSupportedPrefixes = ["arg_", "cookie_", "sent_http_", "upstream_http_", "upstream_cookie_", "sent_trailer_", "upstream_trailer_"];

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

    private static TemplateSegment Resolve(string written, ConfigDirective where)
    {
        string name = written.ToLowerInvariant();   // nginx looks variables up lower-cased
        if (Known.TryGetValue(name, out var variable)) return new TemplateSegment(null, variable, null);
        if (name.StartsWith("http_", StringComparison.Ordinal) && name.Length > "http_".Length)
        {
            // Header names are compared lower-case with '-' for '_', as $http_x_real_ip matches X-Real-IP.
            string header = name["http_".Length..].Replace('_', '-');
            return new TemplateSegment(null, Variable.HttpHeader, Encoding.ASCII.GetBytes(header));
        }
        if (NotSupported.Contains(name) || NotSupportedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))
            || char.IsAsciiDigit(name[0]))
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
