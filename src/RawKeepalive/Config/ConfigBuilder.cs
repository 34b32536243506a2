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

    private static string UnderPrefix(string path, string prefix) => Path.GetFullPath(path, prefix);
}
