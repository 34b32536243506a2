namespace RawKeepalive.Config;

/// <summary>Turns the directive tree into the typed <see cref="ProxyConfig"/>: main and events here,
/// the http block in <see cref="HttpBlockBuilder"/>. Shapes (context, arity, duplicates) were checked
/// by the parser against the <see cref="DirectiveTable"/>; this checks values.</summary>
public static class ConfigBuilder
{
    /// <param name="defaultErrorLog">-e: used when no error_log directive is given.</param>
    public static ProxyConfig Build(IReadOnlyList<ConfigDirective> main, string configFile, string prefix,
        string? defaultErrorLog = null, IReadOnlyList<ConfigSource>? sources = null)
    {
        var defaults = new ProxyConfig { ConfigFile = "", Prefix = "", Http = new HttpConfig { Upstreams = [], Servers = [] } };
        int workerProcesses = defaults.WorkerProcesses;
        int workerConnections = defaults.WorkerConnections;
        bool daemon = defaults.Daemon, masterProcess = defaults.MasterProcess;
        string pid = defaults.PidPath;
        var errorLogs = new List<ErrorLogConfig>();
        int rlimitNofile = defaults.WorkerRlimitNofile;
        IReadOnlyList<string>? affinity = null;
        long shutdownTimeout = 0;
        string? user = null, group = null;
        ConfigDirective? http = null;

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
                case "error_log": errorLogs.Add(LogDirectives.ReadErrorLog(d, prefix)); break;
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

        // As ngx_log_open_default: with no error_log, -e's file (or nginx's default) at level error.
        if (errorLogs.Count == 0)
        {
            string path = defaultErrorLog ?? defaults.ErrorLogPath;
            errorLogs.Add(new ErrorLogConfig { Path = path == "stderr" ? path : UnderPrefix(path, prefix), Level = defaults.ErrorLogLevel });
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
            ErrorLogPath = errorLogs[0].Path,
            ErrorLogLevel = errorLogs[0].Level,
            ErrorLogs = errorLogs,
            WorkerRlimitNofile = rlimitNofile,
            WorkerCpuAffinity = affinity,
            WorkerShutdownTimeoutMs = shutdownTimeout,
            User = user,
            Group = group,
            Http = HttpBlockBuilder.Build(http, prefix),
            Sources = sources ?? [],
        };
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
