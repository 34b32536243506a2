using System.Text;

namespace RawKeepalive.Config;

/// <summary>The directives of one http, server or location level that inner levels inherit. Null means
/// "not set here": <see cref="InheritFrom"/> fills it from the outer level, which is nginx's merge
/// (ngx_conf_merge_*_value), including proxy_set_header, inherited only as a whole list.</summary>
internal sealed class LevelSettings
{
    public long? KeepaliveTimeoutMs;
    public long? KeepaliveHeaderTimeoutSeconds;
    public int? KeepaliveRequests;
    public long? ClientHeaderTimeoutMs;
    public long? ClientBodyTimeoutMs;
    public long? SendTimeoutMs;
    public long? ClientMaxBodySize;
    public int? ClientHeaderBufferSize;
    public (int Count, int Size)? LargeClientHeaderBuffers;
    public int? ProxyHttpVersionMinor;
    public List<HeaderSetting>? ProxySetHeaders;
    public long? ProxyConnectTimeoutMs;
    public long? ProxySendTimeoutMs;
    public long? ProxyReadTimeoutMs;
    public NextUpstream? ProxyNextUpstream;
    public int? ProxyNextUpstreamTries;
    public bool? ProxySplice;
    public int? GeneratedHeadersMaxSize;
    public bool? UnderscoresInHeaders;
    public List<AccessRule>? Access;
    /// <summary>This level's access_log lines (null: none here); <see cref="AccessLogOff"/>: "access_log off" here.</summary>
    public AccessLogList? AccessLogs;
    public bool AccessLogOff;
    /// <summary>This level's error_log lines (null: none here, the outer level's apply).</summary>
    public List<ErrorLogConfig>? ErrorLogs;

    /// <summary>proxy_next_upstream as nginx's bitmask: "off" wins over anything set beside it.</summary>
    public readonly record struct NextUpstream(bool Error, bool Timeout, bool NonIdempotent, bool Off);

    /// <summary>Applies <paramref name="d"/> if it is one of these directives; false if it is not.</summary>
    public bool TryApply(ConfigDirective d)
    {
        switch (d.Name)
        {
            case "keepalive_timeout":
                KeepaliveTimeoutMs = DirectiveArgs.TimeMs(d);
                if (d.Args.Count == 2)
                    KeepaliveHeaderTimeoutSeconds = Units.TryParseTimeSeconds(d.Args[1], out long s) ? s : throw DirectiveArgs.InvalidValue(d);
                return true;
            case "keepalive_requests": KeepaliveRequests = DirectiveArgs.Number(d); return true;
            case "client_header_timeout": ClientHeaderTimeoutMs = DirectiveArgs.TimeMs(d); return true;
            case "client_body_timeout": ClientBodyTimeoutMs = DirectiveArgs.TimeMs(d); return true;
            case "send_timeout": SendTimeoutMs = DirectiveArgs.TimeMs(d); return true;
            case "client_max_body_size": ClientMaxBodySize = DirectiveArgs.Size(d); return true;
            case "client_header_buffer_size": ClientHeaderBufferSize = DirectiveArgs.BufferSize(d); return true;
            case "large_client_header_buffers":
                if (!Units.TryParseDigits(d.Args[0], out long count) || count is < 1 or > int.MaxValue) throw DirectiveArgs.InvalidValue(d);
                LargeClientHeaderBuffers = ((int)count, DirectiveArgs.BufferSize(d, 1));
                return true;
            case "proxy_http_version":
                ProxyHttpVersionMinor = d.Args[0] switch
                {
                    "1.0" => 0,
                    "1.1" => 1,
                    var v => throw ConfigError.At($"invalid value \"{v}\"", d),
                };
                return true;
            case "proxy_set_header":
                (ProxySetHeaders ??= []).Add(new HeaderSetting(d.Args[0], Encoding.ASCII.GetBytes(d.Args[0]), TemplateCompiler.Compile(d.Args[1], d)));
                return true;
            case "proxy_connect_timeout": ProxyConnectTimeoutMs = DirectiveArgs.TimeMs(d); return true;
            case "proxy_send_timeout": ProxySendTimeoutMs = DirectiveArgs.TimeMs(d); return true;
            case "proxy_read_timeout": ProxyReadTimeoutMs = DirectiveArgs.TimeMs(d); return true;
            case "proxy_next_upstream": ProxyNextUpstream = ParseNextUpstream(d, ProxyNextUpstream); return true;
            case "proxy_next_upstream_tries": ProxyNextUpstreamTries = DirectiveArgs.Number(d); return true;
            case "proxy_splice": ProxySplice = DirectiveArgs.Flag(d); return true;
            case "generated_headers_max_size": GeneratedHeadersMaxSize = DirectiveArgs.BufferSize(d); return true;
            case "underscores_in_headers": UnderscoresInHeaders = DirectiveArgs.Flag(d); return true;
            case "allow" or "deny": (Access ??= []).Add(AccessRule.Parse(d)); return true;
            default: return false;
        }
    }

    private static NextUpstream ParseNextUpstream(ConfigDirective d, NextUpstream? already)
    {
        var mask = already ?? default;
        foreach (string value in d.Args)
        {
            mask = value switch
            {
                "error" => mask with { Error = true },
                "timeout" => mask with { Timeout = true },
                "non_idempotent" => mask with { NonIdempotent = true },
                "off" => mask with { Off = true },
                "invalid_header" or "updating" or "http_500" or "http_502" or "http_503" or "http_504" or "http_403"
                    or "http_404" or "http_429" => throw DirectiveArgs.ParameterNotSupported(d, value),
                _ => throw ConfigError.At($"invalid value \"{value}\"", d),
            };
        }
        return mask;
    }

    /// <summary>This level's values, with every unset one taken from <paramref name="outer"/>.</summary>
    public LevelSettings InheritFrom(LevelSettings outer) => new()
    {
        KeepaliveTimeoutMs = KeepaliveTimeoutMs ?? outer.KeepaliveTimeoutMs,
        KeepaliveHeaderTimeoutSeconds = KeepaliveHeaderTimeoutSeconds ?? outer.KeepaliveHeaderTimeoutSeconds,
        KeepaliveRequests = KeepaliveRequests ?? outer.KeepaliveRequests,
        ClientHeaderTimeoutMs = ClientHeaderTimeoutMs ?? outer.ClientHeaderTimeoutMs,
        ClientBodyTimeoutMs = ClientBodyTimeoutMs ?? outer.ClientBodyTimeoutMs,
        SendTimeoutMs = SendTimeoutMs ?? outer.SendTimeoutMs,
        ClientMaxBodySize = ClientMaxBodySize ?? outer.ClientMaxBodySize,
        ClientHeaderBufferSize = ClientHeaderBufferSize ?? outer.ClientHeaderBufferSize,
        LargeClientHeaderBuffers = LargeClientHeaderBuffers ?? outer.LargeClientHeaderBuffers,
        ProxyHttpVersionMinor = ProxyHttpVersionMinor ?? outer.ProxyHttpVersionMinor,
        ProxySetHeaders = ProxySetHeaders ?? outer.ProxySetHeaders,
        ProxyConnectTimeoutMs = ProxyConnectTimeoutMs ?? outer.ProxyConnectTimeoutMs,
        ProxySendTimeoutMs = ProxySendTimeoutMs ?? outer.ProxySendTimeoutMs,
        ProxyReadTimeoutMs = ProxyReadTimeoutMs ?? outer.ProxyReadTimeoutMs,
        ProxyNextUpstream = ProxyNextUpstream ?? outer.ProxyNextUpstream,
        ProxyNextUpstreamTries = ProxyNextUpstreamTries ?? outer.ProxyNextUpstreamTries,
        ProxySplice = ProxySplice ?? outer.ProxySplice,
        GeneratedHeadersMaxSize = GeneratedHeadersMaxSize ?? outer.GeneratedHeadersMaxSize,
        UnderscoresInHeaders = UnderscoresInHeaders ?? outer.UnderscoresInHeaders,
        Access = Access ?? outer.Access,   // inherited only as a whole list, as nginx's access module
        // ngx_http_log_merge_loc_conf: a level with any access_log, or "off", keeps its own; else the outer one's.
        AccessLogs = OwnsAccessLogs ? AccessLogs : outer.AccessLogs,
        AccessLogOff = OwnsAccessLogs ? AccessLogOff : outer.AccessLogOff,
        ErrorLogs = ErrorLogs ?? outer.ErrorLogs,
    };

    private bool OwnsAccessLogs => AccessLogs is not null || AccessLogOff;
}
