using System.Net;

namespace RawKeepalive.Config;

/// <summary>log_format's <c>escape=</c>: how variable values (never the format's own text) are written.</summary>
public enum LogEscape : byte
{
    /// <summary>'"', '\' and bytes below 0x20 or from 0x7f as \xXX; a variable that is not found as "-".</summary>
    Default,
    /// <summary>JSON string escapes; a variable that is not found as nothing.</summary>
    Json,
    /// <summary>As is; a variable that is not found as nothing.</summary>
    None,
}

/// <summary>A log_format: its strings concatenated into one template (literal segments and variables).</summary>
public sealed class LogFormat(string name, LogEscape escape, ValueTemplate template)
{
    /// <summary>nginx's predefined format (ngx_http_log_module's ngx_http_combined_fmt).</summary>
    public const string CombinedSource =
        "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"";

    public string Name { get; } = name;
    public LogEscape Escape { get; } = escape;
    public ValueTemplate Template { get; } = template;
}

/// <summary>A <c>syslog:server=addr[:port][,facility=…][,severity=…][,tag=…][,nohostname]</c> destination
/// (ngx_syslog.c): one UDP datagram per line, "&lt;PRI&gt;MMM dd HH:mm:ss hostname tag: message".</summary>
public sealed class SyslogTarget
{
    public static readonly string[] Facilities =
    [
        "kern", "user", "mail", "daemon", "auth", "intern", "lpr", "news", "uucp", "clock", "authpriv", "ftp",
        "ntp", "audit", "alert", "cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    /// <summary>nginx's names ("error"/"warn" as in nginx.conf, not syslog's "err"/"warning"), in syslog's order 0-7.</summary>
    public static readonly string[] Severities = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"];

    public required IPEndPoint Server { get; init; }
    /// <summary>The server as written after "server=" (for messages).</summary>
    public required string ServerText { get; init; }
    public int Facility { get; init; } = 23;   // local7
    /// <summary>The access log's severity; an error log line takes its own level's.</summary>
    public int Severity { get; init; } = 6;    // info
    public string Tag { get; init; } = "nginx";
    public bool NoHostname { get; init; }
}

/// <summary>One <c>access_log</c> destination with its format and parameters.</summary>
public sealed class AccessLogConfig
{
    /// <summary>The file (absolute), when the path has no variables and is not syslog.</summary>
    public string? Path { get; init; }
    /// <summary>A path with variables: evaluated, opened, written and closed for every line (as nginx
    /// without open_log_file_cache). A relative one is under <see cref="PathPrefix"/>.</summary>
    public ValueTemplate? PathTemplate { get; init; }
    public string PathPrefix { get; init; } = "";
    public SyslogTarget? Syslog { get; init; }
    public required LogFormat Format { get; init; }
    /// <summary>buffer=size; 0 = each line is written at once.</summary>
    public int BufferSize { get; init; }
    /// <summary>flush=time; 0 = none (the buffer is written when full, on reopen and on exit).</summary>
    public long FlushMs { get; init; }
    /// <summary>gzip[=level], 1-9; 0 = no compression. Each written buffer is one gzip member.</summary>
    public int GzipLevel { get; init; }
    /// <summary>if=condition: the line is skipped when this evaluates to "" or "0".</summary>
    public ValueTemplate? Condition { get; init; }
    /// <summary>The first argument as written (file, "syslog:…" or the path with variables).</summary>
    public required string Written { get; init; }
    public required string File { get; init; }
    public int Line { get; init; }
}

/// <summary>The access logs of one level after nginx's inheritance: a level with any access_log has its
/// own list; <c>access_log off</c> makes it empty. Levels that inherit share one instance, and the worker
/// finds its writers by <see cref="Id"/> (an index into <see cref="HttpConfig.AccessLogLists"/>).</summary>
public sealed class AccessLogList
{
    private readonly List<AccessLogConfig> _logs = [];

    public IReadOnlyList<AccessLogConfig> Logs => _logs;
    public int Id { get; internal set; }

    internal void Add(AccessLogConfig log) => _logs.Add(log);
}

/// <summary>One <c>error_log</c> destination: a file (absolute), "stderr", or syslog; and its level.</summary>
public sealed class ErrorLogConfig
{
    /// <summary>An absolute path, "stderr", or the "syslog:…" argument as written.</summary>
    public required string Path { get; init; }
    public SyslogTarget? Syslog { get; init; }
    /// <summary>debug, info, notice, warn, error, crit, alert or emerg.</summary>
    public string Level { get; init; } = "error";
}
