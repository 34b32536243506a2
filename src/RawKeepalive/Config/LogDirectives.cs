using System.Text;

namespace RawKeepalive.Config;

/// <summary>log_format, access_log and error_log as ngx_http_log_module and ngx_log.c read them, with
/// their wording. One instance per http block: it holds the formats defined so far (nginx looks a
/// format up when access_log is read, so a format must come before its first use) and what every
/// buffered file was declared with (one file, one buffer).</summary>
internal sealed class LogDirectives(string prefix)
{
    /// <summary>nginx's NGX_HTTP_LOG_PATH, under the prefix: the access log when none is configured.</summary>
    public const string DefaultAccessLog = "logs/access.log";

    private static readonly string[] Levels = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"];
    private static readonly string[] DebugLevels =
        ["debug_core", "debug_alloc", "debug_mutex", "debug_event", "debug_http", "debug_mail", "debug_stream"];

    private readonly List<LogFormat> _formats = [];
    private readonly Dictionary<string, (int Size, long Flush, int Gzip)> _buffered = new(StringComparer.Ordinal);
    private LogFormat? _combined;
    private AccessLogList? _default;

    public IReadOnlyList<LogFormat> Formats => _formats;

    /// <summary>nginx's predefined "combined", compiled on first use (it is always there to be named).</summary>
    private LogFormat Combined(ConfigDirective where) =>
        _combined ??= new LogFormat("combined", LogEscape.Default, CompileFormat([LogFormat.CombinedSource], where));

    public void ReadFormat(ConfigDirective d)
    {
        string name = d.Args[0];
        // The duplicate check is case-sensitive and "combined" always exists; the lookup is not (ngx_strcasecmp).
        if (name == "combined" || _formats.Any(f => f.Name == name))
            throw ConfigError.At($"duplicate \"log_format\" name \"{name}\"", d);
        var escape = LogEscape.Default;
        int first = 1;
        if (d.Args.Count > 1 && d.Args[1].StartsWith("escape=", StringComparison.Ordinal))
        {
            escape = d.Args[1]["escape=".Length..] switch
            {
                "default" => LogEscape.Default,
                "json" => LogEscape.Json,
                "none" => LogEscape.None,
                var other => throw ConfigError.At($"unknown log format escaping \"{other}\"", d),
            };
            first = 2;
        }
        _formats.Add(new LogFormat(name, escape, CompileFormat(d.Args.Skip(first), d)));
    }

    /// <summary>ngx_http_log_compile_format: each string's "$name"/"${name}" are variables, the rest is
    /// text; the strings are concatenated. A "$" without a name is nginx's "invalid parameter" (naming
    /// the rest of that string), unlike other templates' "invalid variable name".</summary>
    private static ValueTemplate CompileFormat(IEnumerable<string> strings, ConfigDirective where)
    {
        var segments = new List<TemplateSegment>();
        var literal = new StringBuilder();
        var source = new StringBuilder();
        foreach (string s in strings)
        {
            source.Append(s);
            int i = 0;
            while (i < s.Length)
            {
                if (s[i] != '$')
                {
                    literal.Append(s[i++]);
                    continue;
                }
                int dollar = i++;
                bool bracket = i < s.Length && s[i] == '{';
                if (bracket) i++;
                if (i >= s.Length) throw ConfigError.At($"invalid parameter \"{s[dollar..]}\"", where);
                int start = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) i++;
                string name = s[start..i];
                if (bracket)
                {
                    if (i >= s.Length || s[i] != '}') throw ConfigError.At($"the closing bracket in \"{name}\" variable is missing", where);
                    i++;
                }
                if (name.Length == 0) throw ConfigError.At($"invalid parameter \"{s[dollar..]}\"", where);
                if (literal.Length > 0)
                {
                    segments.Add(new TemplateSegment(Encoding.UTF8.GetBytes(literal.ToString()), default, null));
                    literal.Clear();
                }
                segments.Add(TemplateCompiler.Resolve(name, where));
            }
        }
        if (literal.Length > 0) segments.Add(new TemplateSegment(Encoding.UTF8.GetBytes(literal.ToString()), default, null));
        return new ValueTemplate([.. segments], source.ToString());
    }

    /// <summary>One access_log directive into <paramref name="settings"/> of its level.</summary>
    public void ReadAccessLog(ConfigDirective d, LevelSettings settings)
    {
        string target = d.Args[0];
        if (target == "off")
        {
            settings.AccessLogOff = true;
            if (d.Args.Count > 1) throw DirectiveArgs.InvalidParameter(d, d.Args[1]);
            return;
        }
        SyslogTarget? syslog = SyslogParser.IsSyslog(target) ? SyslogParser.Parse(target, d) : null;
        bool variables = syslog is null && target.Contains('$');
        ValueTemplate? pathTemplate = variables ? TemplateCompiler.Compile(target, d) : null;
        string? path = syslog is null && !variables ? Path.GetFullPath(target, prefix) : null;

        string formatName = d.Args.Count > 1 ? d.Args[1] : "combined";
        var format = string.Equals(formatName, "combined", StringComparison.OrdinalIgnoreCase) ? Combined(d)
            : _formats.FirstOrDefault(f => string.Equals(f.Name, formatName, StringComparison.OrdinalIgnoreCase))
              ?? throw ConfigError.At($"unknown log format \"{formatName}\"", d);

        long size = 0, flush = 0;
        int gzip = 0;
        ValueTemplate? condition = null;
        foreach (string p in d.Args.Skip(2))
        {
            if (p.StartsWith("buffer=", StringComparison.Ordinal))
            {
                string s = p["buffer=".Length..];
                if (!Units.TryParseSize(s, out size) || size is 0 or > int.MaxValue) throw ConfigError.At($"invalid buffer size \"{s}\"", d);
            }
            else if (p.StartsWith("flush=", StringComparison.Ordinal))
            {
                string s = p["flush=".Length..];
                if (!Units.TryParseTimeMs(s, out flush) || flush == 0) throw ConfigError.At($"invalid flush time \"{s}\"", d);
            }
            else if (p == "gzip" || p.StartsWith("gzip=", StringComparison.Ordinal))
            {
                if (size == 0) size = 64 * 1024;   // as nginx: gzip without buffer= gets a 64k buffer
                if (p.Length == 4) gzip = 1;       // Z_BEST_SPEED
                else if (!Units.TryParseDigits(p.AsSpan(5), out long level) || level is < 1 or > 9)
                    throw ConfigError.At($"invalid compression level \"{p[5..]}\"", d);
                else gzip = (int)level;
            }
            else if (p.StartsWith("if=", StringComparison.Ordinal)) condition = TemplateCompiler.Compile(p["if=".Length..], d);
            else throw DirectiveArgs.InvalidParameter(d, p);
        }
        if (flush > 0 && size == 0) throw ConfigError.At($"no buffer is defined for access_log \"{target}\"", d);
        if (size > 0)
        {
            if (variables) throw ConfigError.At("buffered logs cannot have variables in name", d);
            if (syslog is not null) throw ConfigError.At("logs to syslog cannot be buffered", d);
            if (_buffered.TryGetValue(path!, out var declared) && declared != ((int)size, flush, gzip))
                throw ConfigError.At($"access_log \"{target}\" already defined with conflicting parameters", d);
            _buffered[path!] = ((int)size, flush, gzip);
        }
        (settings.AccessLogs ??= new AccessLogList()).Add(new AccessLogConfig
        {
            Path = path,
            PathTemplate = pathTemplate,
            PathPrefix = variables && !Path.IsPathRooted(target) ? prefix : "",
            Syslog = syslog,
            Format = format,
            BufferSize = (int)size,
            FlushMs = flush,
            GzipLevel = gzip,
            Condition = condition,
            Written = target,
            File = d.File,
            Line = d.Line,
        });
    }

    /// <summary>The list of a level with neither its own access_log nor an inherited one: nginx's
    /// <c>logs/access.log combined</c>, one shared instance.</summary>
    public AccessLogList DefaultAccessLogs(ConfigDirective where)
    {
        if (_default is not null) return _default;
        _default = new AccessLogList();
        _default.Add(new AccessLogConfig
        {
            Path = Path.GetFullPath(DefaultAccessLog, prefix),
            Format = Combined(where),
            Written = DefaultAccessLog,
            File = where.File,
            Line = where.Line,
        });
        return _default;
    }

    /// <summary>The buffer a file was declared with by any access_log naming it (nginx keeps one buffer
    /// per file: an unbuffered access_log of a buffered file goes through that buffer too).</summary>
    public (int Size, long Flush, int Gzip) BufferOf(string path) => _buffered.GetValueOrDefault(path);

    /// <summary>error_log FILE|stderr|syslog:… [LEVEL] (ngx_log_set_log, ngx_log_set_levels).</summary>
    public static ErrorLogConfig ReadErrorLog(ConfigDirective d, string prefix)
    {
        string target = d.Args[0];
        if (target.StartsWith("memory:", StringComparison.Ordinal))
            throw DirectiveArgs.ParameterNotSupported(d, "memory");
        var syslog = SyslogParser.IsSyslog(target) ? SyslogParser.Parse(target, d) : null;
        string? level = null;
        bool debugBits = false;
        foreach (string value in d.Args.Skip(1))
        {
            if (Array.IndexOf(Levels, value) >= 0)
            {
                if (level is not null || debugBits) throw ConfigError.At($"duplicate log level \"{value}\"", d);
                level = value;
            }
            else if (Array.IndexOf(DebugLevels, value) >= 0)
            {
                // nginx combines debug_* bits, but not with a plain level; we have no debug categories.
                if (level is not null) throw ConfigError.At($"invalid log level \"{value}\"", d);
                debugBits = true;
            }
            else throw ConfigError.At($"invalid log level \"{value}\"", d);
        }
        return new ErrorLogConfig
        {
            Path = syslog is not null || target == "stderr" ? target : Path.GetFullPath(target, prefix),
            Syslog = syslog,
            Level = level ?? (debugBits ? "debug" : "error"),
        };
    }
}
