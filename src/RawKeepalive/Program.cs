using RawKeepalive.Config;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Process;

namespace RawKeepalive;

/// <summary>nginx's command line and its exit codes: 0 for success (and for -h, -v, -V), 1 for an invalid
/// option, a config that fails to load, a failed -t (or a -t --strict with lint warnings), or a -s that
/// cannot signal.</summary>
public static class Program
{
    public const string Version = "0.1.0";
    private const string Name = "rawkeepalive";

    public static int Main(string[] args)
    {
        if (ProcessRunner.IsWorker(args)) return ProcessRunner.RunWorker();
        var options = CommandLine.Parse(args, out string? error);
        if (options is null)
        {
            Console.Error.WriteLine($"{Name}: {error}");
            return 1;
        }
        if (options.ShowVersion)
        {
            Console.Error.WriteLine($"{Name} version: {Name}/{Version}");
            if (options.ShowHelp) Console.Error.Write(Usage);
            if (options.ShowBuild) Console.Error.Write(BuildInfo);
            if (!options.Test) return 0;
        }

        string prefix = options.Prefix is null ? Directory.GetCurrentDirectory() : Path.GetFullPath(options.Prefix);
        string configFile = ResolveUnderPrefix(options.ConfigFile ?? "conf/rawkeepalive.conf", prefix);
        string? startupLog = options.ErrorLog is null or "stderr" ? options.ErrorLog : ResolveUnderPrefix(options.ErrorLog, prefix);

        var loadOptions = LoadOptions.Process with { CommandLineDirectives = options.Directives, DefaultErrorLog = startupLog };
        ProxyConfig config;
        try
        {
            config = ConfigLoader.Load(configFile, prefix, loadOptions);
        }
        catch (ConfigException e)
        {
            Emerg(e.Message, startupLog);
            if (options.Test) Console.Error.WriteLine($"{Name}: configuration file {configFile} test failed");
            return 1;
        }

        if (options.Test) return Test(config, configFile, options);
        if (options.Signal is { } signal) return SendSignal(signal, config.PidPath);

        // As nginx, which opens every log file before it starts: a file that cannot be opened is fatal.
        ErrorLog log;
        try { log = ErrorLog.For(config); }
        catch (IOException e)
        {
            Emerg(e.Message, startupLog);
            return 1;
        }
        using (log)
        {
            if (LogFiles.CheckAtStart(config.Http) is { } unopenable)
            {
                Emerg(unopenable, startupLog);
                return 1;
            }
            return ProcessRunner.Run(config, log, args, loadOptions);
        }
    }

    /// <summary>-t / -T: the lint warnings, then nginx's two lines (not with -q), then with -T every file read.</summary>
    private static int Test(ProxyConfig config, string configFile, CommandLine options)
    {
        var warnings = KeepaliveLinter.Check(config);
        foreach (var w in warnings) Console.Error.WriteLine($"{Name}: [warn] {w}");
        if (options.Strict && warnings.Count > 0)
        {
            Console.Error.WriteLine($"{Name}: configuration file {configFile} test failed ({warnings.Count} keepalive warning(s) with --strict)");
            return 1;
        }
        if (!options.Quiet)
        {
            Console.Error.WriteLine($"{Name}: the configuration file {configFile} syntax is ok");
            Console.Error.WriteLine($"{Name}: configuration file {configFile} test is successful");
        }
        if (options.Dump)
        {
            var stdout = Console.Out;
            foreach (var source in config.Sources)
            {
                stdout.Write($"# configuration file {Path.GetFullPath(source.File)}:\n");
                stdout.Write(source.Text);
                if (!source.Text.EndsWith('\n')) stdout.Write('\n');
                stdout.Write('\n');
            }
            stdout.Flush();
        }
        return 0;
    }

    /// <summary>-s: signals the process named by the pid file, as ngx_signal_process does.</summary>
    private static int SendSignal(string signal, string pidPath)
    {
        string text;
        try { text = File.ReadAllText(pidPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"{Name}: [error] {ConfigError.OpenFailed(pidPath, e)}");
            return 1;
        }
        string trimmed = text.Trim();
        if (!int.TryParse(trimmed, System.Globalization.NumberStyles.None, null, out int pid) || pid <= 0)
        {
            Console.Error.WriteLine($"{Name}: [error] invalid PID number \"{trimmed}\" in \"{pidPath}\"");
            return 1;
        }
        int number = signal switch
        {
            "stop" => KillInterop.SIGTERM,
            "quit" => KillInterop.SIGQUIT,
            "reopen" => KillInterop.SIGUSR1,
            _ => KillInterop.SIGHUP,   // reload
        };
        var r = KillInterop.Kill(pid, number);
        if (r.IsError)
        {
            Console.Error.WriteLine($"{Name}: [alert] kill({pid}, {number}) failed ({r})");
            return 1;
        }
        return 0;
    }

    /// <summary>Startup errors go to stderr and, with -e FILE, to that file too (as nginx logs [emerg] to its log).</summary>
    private static void Emerg(string message, string? startupLog)
    {
        Console.Error.WriteLine($"{Name}: [emerg] {message}");
        if (startupLog is null or "stderr") return;
        try
        {
            using var log = new ErrorLog(startupLog, LogLevel.Emerg);
            log.Write(LogLevel.Emerg, 0, message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"{Name}: [alert] could not open error log file: {ConfigError.OpenFailed(startupLog, e)}");
        }
    }

    /// <summary>As nginx: relative -c and -e paths are taken from the prefix.</summary>
    private static string ResolveUnderPrefix(string file, string prefix) =>
        Path.IsPathRooted(file) ? file : Path.GetFullPath(Path.Combine(prefix, file));

    private const string Usage =
        "Usage: rawkeepalive [-?hvVtTq] [-s signal] [-p prefix]\n" +
        "             [-e filename] [-c filename] [-g directives] [--strict]\n\n" +
        "Options:\n" +
        "  -?,-h         : this help\n" +
        "  -v            : show version and exit\n" +
        "  -V            : show version and build features then exit\n" +
        "  -t            : test configuration (and lint keepalive settings) and exit\n" +
        "  -T            : test configuration, dump it and exit\n" +
        "  -q            : suppress non-error messages during configuration testing\n" +
        "  -s signal     : send signal to a master process: stop, quit, reopen, reload\n" +
        "  -p prefix     : set prefix path (default: current directory)\n" +
        "  -e filename   : set error log file (default: logs/error.log)\n" +
        "  -c filename   : set configuration file (default: conf/rawkeepalive.conf)\n" +
        "  -g directives : set global directives out of configuration file\n" +
        "  --strict      : with -t, fail on keepalive warnings\n" +
        "Environment: RAWKEEPALIVE_<DIRECTIVE> overrides a main-context directive, e.g. RAWKEEPALIVE_WORKER_PROCESSES=4\n";

    private static string BuildInfo =>
        $"built with .NET {Environment.Version} (NativeAOT)\n" +
        "features: epoll (edge-triggered), upstream keepalive (default keepalive 32 local), keepalive_defaults legacy, " +
        "server_name wildcards and regexes, regex locations, map, keepalive lint (-t)\n" +
        "not built: ssl, http2, http3, stream, mail\n";
}
