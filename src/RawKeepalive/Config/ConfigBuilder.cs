namespace RawKeepalive.Config;

/// <summary>Turns the directive tree into the typed <see cref="ProxyConfig"/>: main and events here,
/// the http block in <see cref="HttpBlockBuilder"/>. Shapes (context, arity, duplicates) were checked
/// by the parser against the <see cref="DirectiveTable"/>; this checks values.</summary>
public static class ConfigBuilder
{
    private static readonly HashSet<string> LogLevels = new(StringComparer.Ordinal)
    {
        "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg",
    };

    /// <param name="defaultErrorLog">-e: used when no error_log directive is given.</param>
    public static ProxyConfig Build(IReadOnlyList<ConfigDirective> main, string configFile, string prefix,
        string? defaultErrorLog = null, IReadOnlyList<ConfigSource>? sources = null)
    {
        var defaults = new ProxyConfig { ConfigFile = "", Prefix = "", Http = new HttpConfig { Upstreams = [], Servers = [] } };
        int workerProcesses = defaults.WorkerProcesses;
        int workerConnections = defaults.WorkerConnections;
        bool daemon = defaults.Daemon, masterProcess = defaults.MasterProcess;
        string pid = defaults.PidPath, errorLog = defaultErrorLog ?? defaults.ErrorLogPath, errorLevel = defaults.ErrorLogLevel;
        int rlimitNofile = defaults.WorkerRlimitNofile;
        IReadOnlyList<string>? affinity = null;
        long shutdownTimeout = 0;
        string? user = null, group = null;
        ConfigDirective? http = null, errorLogDirective = null;

        foreach (var d in main)
        {
            switch (d.Name)
            {
                case "worker_processes":
                    if (d.Args[0] == "auto") workerProcesses = Environment.ProcessorCount;
                    else if (Units.TryParseDigits(d.Args[0], out long n) && n is >= 1 and <= int.MaxValue) workerProcesses = (int)n;
                    else throw DirectiveArgs.InvalidValue(d);
                    break;
                case "daemon": daemon = DirectiveArgs.Flag(d); break;
                case "master_process": masterProcess = DirectiveArgs.Flag(d); break;
                case "pid": pid = d.Args[0]; break;
                case "error_log":
                    if (errorLogDirective is not null)
                        throw ConfigError.At("more than one \"error_log\" directive is not supported yet", d);
                    errorLogDirective = d;
                    (errorLog, errorLevel) = ErrorLog(d);
                    break;
                case "worker_rlimit_nofile": rlimitNofile = DirectiveArgs.Number(d); break;
                case "worker_rlimit_core": break;   // no core dumps to size
                case "worker_cpu_affinity": affinity = CpuAffinity(d); break;
                case "worker_shutdown_timeout": shutdownTimeout = DirectiveArgs.TimeMs(d); break;
                case "user": (user, group) = (d.Args[0], d.Args.Count == 2 ? d.Args[1] : null); break;
                case "events": workerConnections = Events(d, workerConnections); break;
                case "http": http = d; break;
                default: throw new InvalidOperationException($"directive table allows \"{d.Name}\" in main but nothing reads it");
            }
        }

        return new ProxyConfig
        {
            ConfigFile = configFile,
            Prefix = prefix,
            WorkerProcesses = workerProcesses,
            WorkerConnections = workerConnections,
            Daemon = daemon,
            MasterProcess = masterProcess,
            PidPath = UnderPrefix(pid, prefix),
            ErrorLogPath = errorLog == "stderr" ? errorLog : UnderPrefix(errorLog, prefix),
            ErrorLogLevel = errorLevel,
            WorkerRlimitNofile = rlimitNofile,
            WorkerCpuAffinity = affinity,
            WorkerShutdownTimeoutMs = shutdownTimeout,
            User = user,
            Group = group,
            Http = HttpBlockBuilder.Build(http),
            Sources = sources ?? [],
        };
    }

    private static (string Path, string Level) ErrorLog(ConfigDirective d)
    {
        string path = d.Args[0];
        if (path.StartsWith("syslog:", StringComparison.Ordinal) || path.StartsWith("memory:", StringComparison.Ordinal))
            throw DirectiveArgs.ParameterNotSupported(d, path[..path.IndexOf(':')]);
        string level = d.Args.Count == 2 ? d.Args[1] : "error";
        if (!LogLevels.Contains(level)) throw ConfigError.At($"invalid log level \"{level}\"", d);
        return (path, level);
    }

    private static int Events(ConfigDirective events, int workerConnections)
    {
        foreach (var d in events.Block!)
        {
            switch (d.Name)
            {
                case "worker_connections":
                    if (!Units.TryParseDigits(d.Args[0], out long n) || n > int.MaxValue)
                        throw ConfigError.At($"invalid number \"{d.Args[0]}\"", d);
                    workerConnections = (int)n;
                    break;
                case "use":
                    if (d.Args[0] != "epoll") throw ConfigError.At($"invalid event type \"{d.Args[0]}\"", d);
                    break;
                case "multi_accept" or "accept_mutex": DirectiveArgs.Flag(d); break;
                default: throw new InvalidOperationException($"directive table allows \"{d.Name}\" in events but nothing reads it");
            }
        }
        return workerConnections;
    }

    /// <summary>"auto", or masks of 0s and 1s (nginx also allows "auto MASK": not supported yet).</summary>
    private static IReadOnlyList<string> CpuAffinity(ConfigDirective d)
    {
        if (d.Args[0] == "auto")
        {
            if (d.Args.Count > 1) throw DirectiveArgs.ParameterNotSupported(d, d.Args[1]);
            return ["auto"];
        }
        foreach (var mask in d.Args)
            if (mask.Length is 0 or > 64 || mask.Any(c => c is not ('0' or '1')))
                throw ConfigError.At($"invalid character \"{mask.FirstOrDefault(c => c is not ('0' or '1'))}\" in \"worker_cpu_affinity\"", d);
        return [.. d.Args];
    }

    private static string UnderPrefix(string path, string prefix) => Path.GetFullPath(path, prefix);
}
