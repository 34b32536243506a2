using System.Net;
using System.Text.RegularExpressions;

namespace RawKeepalive.Config;

/// <summary>The typed, validated configuration: nginx's defaults applied and inheritance merged
/// down to every location, so the worker reads one record per request.</summary>
public sealed class ProxyConfig
{
    public required string ConfigFile { get; init; }
    public required string Prefix { get; init; }
    public int WorkerProcesses { get; init; } = 1;          // "auto" resolves to the core count
    public int WorkerConnections { get; init; } = 512;
    public bool Daemon { get; init; } = true;
    public bool MasterProcess { get; init; } = true;
    public string PidPath { get; init; } = "logs/rawkeepalive.pid";   // absolute after load
    public string ErrorLogPath { get; init; } = "logs/error.log";     // absolute after load, or "stderr"
    public string ErrorLogLevel { get; init; } = "error";
    /// <summary>Every main-level error_log (ErrorLogPath and ErrorLogLevel are the first's), or the
    /// default (-e, else logs/error.log) when there is none.</summary>
    public IReadOnlyList<ErrorLogConfig> ErrorLogs { get; init; } = [];
    /// <summary>worker_rlimit_nofile; 0 = leave the limit as inherited.</summary>
    public int WorkerRlimitNofile { get; init; }
    /// <summary>worker_cpu_affinity: null = not pinned; "auto" = one allowed CPU per worker in turn;
    /// otherwise one mask per worker (bit strings, rightmost = CPU 0), reused in turn when fewer.</summary>
    public IReadOnlyList<string>? WorkerCpuAffinity { get; init; }
    /// <summary>worker_shutdown_timeout; 0 = a draining worker waits for its last connection.</summary>
    public long WorkerShutdownTimeoutMs { get; init; }
    /// <summary>user USER [GROUP]: what workers drop to when the master runs as root; null = stay.</summary>
    public string? User { get; init; }
    public string? Group { get; init; }
    public required HttpConfig Http { get; init; }
    /// <summary>The files read, main file first then includes in the order read (for -T).</summary>
    public IReadOnlyList<ConfigSource> Sources { get; init; } = [];
}

public sealed class HttpConfig
{
    /// <summary><c>keepalive_defaults legacy;</c>: the pre-1.29.7 defaults (HTTP/1.0 upstream,
    /// "Connection: close", no pool without "keepalive").</summary>
    public bool LegacyKeepaliveDefaults { get; init; }
    /// <summary><c>keepalive_doctor on|off</c> (ours, default on): each worker checks every upstream's reuse
    /// once per <see cref="KeepaliveDoctorIntervalMs"/> and says in a [warn] line why it is poor.</summary>
    public bool KeepaliveDoctor { get; init; } = true;
    /// <summary><c>keepalive_doctor_interval</c> (ours, default 60s).</summary>
    public long KeepaliveDoctorIntervalMs { get; init; } = ConfigDefaults.KeepaliveDoctorIntervalMs;
    public required IReadOnlyList<UpstreamConfig> Upstreams { get; init; }
    public required IReadOnlyList<ServerConfig> Servers { get; init; }
    /// <summary>map blocks, in file order.</summary>
    public IReadOnlyList<MapConfig> Maps { get; init; } = [];
    /// <summary>log_format definitions, in file order ("combined" is predefined and not listed).</summary>
    public IReadOnlyList<LogFormat> LogFormats { get; init; } = [];
    /// <summary>Every distinct access-log list of a server or location; a list's Id is its index here.</summary>
    public IReadOnlyList<AccessLogList> AccessLogLists { get; init; } = [];
    /// <summary>The response header names templates read ($sent_http_NAME, $upstream_http_NAME).</summary>
    public HeaderCaptures Captures { get; init; } = new();
}

public sealed class UpstreamConfig
{
    public required string Name { get; init; }
    public required IReadOnlyList<UpstreamServerConfig> Servers { get; init; }
    /// <summary>keepalive N: idle connections cached per worker; 0 = no pool. Default 32 (legacy: 0).</summary>
    public int Keepalive { get; init; }
    /// <summary>queue N: at most N requests per worker wait for a connection when every peer is at max_conns; 0: none wait (502).</summary>
    public int Queue { get; init; }
    /// <summary>queue's timeout= (60s by default): a request waiting longer is answered 502.</summary>
    public long QueueTimeoutMs { get; init; } = 60_000;
    /// <summary>zone NAME: the group's max_conns count the connections of every worker process, not of each; null without.</summary>
    public string? Zone { get; init; }
    /// <summary>keepalive N local: the group's one cache hands a location only connections that location
    /// released (the implicit default's "local").</summary>
    public bool KeepaliveLocal { get; init; }
    public int KeepaliveRequests { get; init; } = 1000;
    public long KeepaliveTimeoutMs { get; init; } = 60_000;
    public long KeepaliveTimeMs { get; init; } = 3_600_000;
    /// <summary>keepalive_close reset|graceful (ours): whether the proxy closes an idle, clean connection
    /// abortively (RST, no TIME_WAIT on its port). Default reset.</summary>
    public bool KeepaliveCloseReset { get; init; } = true;
    /// <summary>True for the upstream made implicitly by <c>proxy_pass http://host:port</c>: nginx keeps no pool for those.</summary>
    public bool Implicit { get; init; }
    /// <summary>Where "keepalive" and "keepalive_timeout" were written (null when not): the linter names them.</summary>
    public ConfigDirective? KeepaliveWhere { get; init; }
    public ConfigDirective? KeepaliveTimeoutWhere { get; init; }
    public required string File { get; init; }
    public int Line { get; init; }
}

public sealed class UpstreamServerConfig
{
    /// <summary>As written, e.g. "127.0.0.1:8080" or "localhost:8080" (a name may resolve to several addresses: each is a peer).</summary>
    public required string Text { get; init; }
    public required IReadOnlyList<IPEndPoint> Addresses { get; init; }
    /// <summary>max_conns=N: at most N connections (connecting, active and idle) to each of its addresses, per worker, or
    /// with the upstream's zone over every worker; 0: unlimited.</summary>
    public int MaxConns { get; init; }
}

public sealed class ListenConfig
{
    public required IPEndPoint EndPoint { get; init; }
    public bool DefaultServer { get; init; }
    /// <summary>listen()'s backlog when given (<c>backlog=N</c>); else <see cref="ConfigDefaults.ListenBacklog"/>.</summary>
    public int? Backlog { get; init; }
    public required string File { get; init; }
    public int Line { get; init; }
}

public sealed class ServerConfig
{
    public required IReadOnlyList<ListenConfig> Listens { get; init; }   // default: *:80 (nginx); tests always set it
    public required IReadOnlyList<string> ServerNames { get; init; }     // lower-case; "" when none given
    /// <summary>server_name as classified at load: exact, "*.x"/".x", "x.*", "~regex" (in config order).</summary>
    public IReadOnlyList<ServerNamePattern> NamePatterns { get; init; } = [];
    /// <summary>Every location, nested ones included, parents before their children (see <see cref="LocationConfig.Parent"/>).</summary>
    public required IReadOnlyList<LocationConfig> Locations { get; init; }
    public long ClientHeaderTimeoutMs { get; init; } = 60_000;
    public int ClientHeaderBufferSize { get; init; } = 1024;
    public int LargeClientHeaderBuffersCount { get; init; } = 4;
    public int LargeClientHeaderBufferSize { get; init; } = 8192;
    /// <summary>A <c>return</c> at server level: nginx runs it before any location is chosen, so it answers
    /// every request of this server. The loader also copies it into every location (and adds a "/" prefix
    /// location when there is none), so matching a location and using its Return gives the same answer.</summary>
    public ReturnConfig? Return { get; init; }
    /// <summary>The server level's access logs: a request answered before a location was chosen is logged with these.</summary>
    public AccessLogList AccessLogs { get; init; } = new();
    /// <summary>The server level's error_log lines; null = the main level's.</summary>
    public IReadOnlyList<ErrorLogConfig>? ErrorLogs { get; init; }
}

/// <summary>location modifiers: none, "=", "^~", "~" (case-sensitive regex), "~*" (caseless regex).</summary>
public enum LocationMatch : byte { Prefix, Exact, PrefixNoRegex, Regex, RegexCaseless }

public sealed class LocationConfig
{
    public required string Path { get; init; }
    public LocationMatch Match { get; init; }
    /// <summary>The compiled pattern of a "~" or "~*" location (Path is its source).</summary>
    public Regex? Regex { get; init; }
    /// <summary>The enclosing location of a nested one; null at server level.</summary>
    public LocationConfig? Parent { get; init; }
    public bool IsRegex => Match is LocationMatch.Regex or LocationMatch.RegexCaseless;
    /// <summary>Exactly one of ProxyPass and Return is set (a location with neither answers 404).</summary>
    public ProxyPassConfig? ProxyPass { get; init; }
    public ReturnConfig? Return { get; init; }

    // Merged from http → server → location, nginx's defaults.
    /// <summary>The proxy_* settings of the location.</summary>
    public required ProxySettings Proxy { get; init; }
    /// <summary>generated_headers_max_size (ours): the most bytes a generated head part may take (the
    /// headers proxy_set_header makes, a Location, a return text). nginx sizes these without a limit;
    /// past this one the request is answered 431 (the client's bytes made it so) or 500.</summary>
    public int GeneratedHeadersMaxSize { get; init; } = 32 * 1024;
    /// <summary>underscores_in_headers (http, server; default off): whether request field names with '_'
    /// (<see cref="Http.HeaderKind.Underscored"/>) are forwarded. Merged from the server that serves the
    /// request (nginx takes it from the listen address's default server unless the target is absolute-form).
    /// Names that read as framing, hop-by-hop or Host with '_' as '-' are refused by the parser either way.</summary>
    public bool UnderscoresInHeaders { get; init; }
    public long KeepaliveTimeoutMs { get; init; } = 75_000;              // client side; 0 disables keep-alive
    /// <summary>keepalive_timeout's second argument: send "Keep-Alive: timeout=N" to the client; null = do not send.</summary>
    public long? KeepaliveHeaderTimeoutSeconds { get; init; }
    public int KeepaliveRequests { get; init; } = 1000;                  // client side
    public long ClientBodyTimeoutMs { get; init; } = 60_000;
    public long SendTimeoutMs { get; init; } = 60_000;
    public long ClientMaxBodySize { get; init; } = 1024 * 1024;          // 0 = unlimited
    /// <summary><c>stub_status;</c>: the location answers with the server-wide connection counters.</summary>
    public bool StubStatus { get; init; }
    /// <summary><c>metrics;</c> (ours): the location answers with the shared counters in Prometheus's text format.</summary>
    public bool Metrics { get; init; }
    /// <summary>allow/deny rules in order, the first match decides (nginx's access module); null = no rules.</summary>
    public IReadOnlyList<AccessRule>? Access { get; init; }
    /// <summary>access_log after nginx's inheritance (an empty list: off); the default when none is given anywhere.</summary>
    public AccessLogList AccessLogs { get; init; } = new();
    /// <summary>error_log after inheritance from server and http; null = the main level's.</summary>
    public IReadOnlyList<ErrorLogConfig>? ErrorLogs { get; init; }
    public required string File { get; init; }
    public int Line { get; init; }
}

/// <summary>A location's proxy_* settings, merged from http → server → location with nginx's
/// defaults: how its requests go upstream.</summary>
public sealed class ProxySettings
{
    public int HttpVersionMinor { get; init; } = 1;                      // legacy default: 0
    /// <summary>proxy_set_header, inherited from the outer level only when this level sets none,
    /// already merged with the built-in defaults (Host $proxy_host; Connection close under legacy).
    /// An entry whose value evaluates to empty is not sent.</summary>
    public required IReadOnlyList<HeaderSetting> SetHeaders { get; init; }
    public long ConnectTimeoutMs { get; init; } = 60_000;
    public long SendTimeoutMs { get; init; } = 60_000;
    public long ReadTimeoutMs { get; init; } = 60_000;
    /// <summary>proxy_splice (ours, not nginx's): long Content-Length response bodies go through a
    /// worker pipe with splice(2) instead of a user buffer.</summary>
    public bool Splice { get; init; } = true;
    /// <summary>proxy_next_upstream: error and timeout are the default; non_idempotent allows replaying POST etc.; off disables.</summary>
    public bool NextUpstreamError { get; init; } = true;
    public bool NextUpstreamTimeout { get; init; } = true;
    public bool NextUpstreamNonIdempotent { get; init; }
    public int NextUpstreamTries { get; init; }                          // 0 = unlimited
}

public sealed record HeaderSetting(string Name, byte[] NameBytes, ValueTemplate Value);

public sealed class ProxyPassConfig
{
    public required UpstreamConfig Upstream { get; init; }
    /// <summary>The URI part of proxy_pass ("http://b/api/" → "/api/"), or null when it has none (the
    /// request URI is passed unchanged). With a URI, the part of the normalized request path that
    /// matched the location prefix is replaced by it.</summary>
    public string? Uri { get; init; }
    /// <summary>$proxy_host: the upstream name, or host:port as written (port omitted when 80).</summary>
    public required string ProxyHost { get; init; }
    public required string ProxyPort { get; init; }
    public string File { get; init; } = "";
    public int Line { get; init; }
}

public sealed class ReturnConfig
{
    public int Status { get; init; }
    /// <summary>Body text for non-redirect codes, or the URL for 301/302/303/307/308; may be null.</summary>
    public ValueTemplate? Text { get; init; }
}
