using RawKeepalive.Config;
using RawKeepalive.Observability;
using RawKeepalive.Process;

namespace RawKeepalive;

/// <summary>nginx's command line: -c file, -p prefix, -t, -v, -h.</summary>
public static class Program
{
    public const string Version = "0.1.0";

    public static int Main(string[] args)
    {
        if (ProcessRunner.IsWorker(args)) return ProcessRunner.RunWorker();
        string prefix = Directory.GetCurrentDirectory();
        string? configFile = null;
        bool test = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-c" when i + 1 < args.Length: configFile = args[++i]; break;
                case "-p" when i + 1 < args.Length: prefix = Path.GetFullPath(args[++i]); break;
                case "-t": test = true; break;
                case "-v":
                    Console.Error.WriteLine($"rawkeepalive version: rawkeepalive/{Version}");
                    return 0;
                case "-h" or "-?":
                    Console.Error.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"rawkeepalive: invalid option: \"{args[i]}\"");
                    return 1;
            }
        }
        configFile = ResolveConfigPath(configFile ?? "conf/rawkeepalive.conf", prefix);

        ProxyConfig config;
        try
        {
            config = ConfigLoader.Load(configFile, prefix);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"rawkeepalive: [emerg] {e.Message}");
            if (test) Console.Error.WriteLine($"rawkeepalive: configuration file {configFile} test failed");
            return 1;
        }
        if (test)
        {
            Console.Error.WriteLine($"rawkeepalive: the configuration file {configFile} syntax is ok");
            Console.Error.WriteLine($"rawkeepalive: configuration file {configFile} test is successful");
            return 0;
        }
        using var log = new ErrorLog(config.ErrorLogPath, ErrorLog.ParseLevel(config.ErrorLogLevel));
        return ProcessRunner.Run(config, log, args);
    }

    /// <summary>As nginx: a relative -c is taken from the prefix.</summary>
    private static string ResolveConfigPath(string file, string prefix) =>
        Path.IsPathRooted(file) ? file : Path.GetFullPath(Path.Combine(prefix, file));

    private const string Usage =
        "Usage: rawkeepalive [-?hvt] [-p prefix] [-c filename]\n\n" +
        "Options:\n" +
        "  -?,-h         : this help\n" +
        "  -v            : show version and exit\n" +
        "  -t            : test configuration and exit\n" +
        "  -p prefix     : set prefix path (default: current directory)\n" +
        "  -c filename   : set configuration file (default: conf/rawkeepalive.conf)\n";
}
