namespace RawKeepalive;

/// <summary>nginx's options (ngx_get_options): flags may be grouped ("-tq"), a value may follow its flag
/// directly ("-cfile") or as the next argument. <c>--strict</c> is ours: with -t, lint warnings fail the test.</summary>
public sealed class CommandLine
{
    public static readonly string[] Signals = ["stop", "quit", "reopen", "reload"];

    public bool ShowHelp, ShowVersion, ShowBuild, Test, Dump, Quiet, Strict;
    public string? Prefix, ConfigFile, ErrorLog, Directives, Signal;

    /// <summary>Null with <paramref name="error"/> worded as nginx's when the arguments are invalid.</summary>
    public static CommandLine? Parse(IReadOnlyList<string> args, out string? error)
    {
        var o = new CommandLine();
        error = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--strict")
            {
                o.Strict = true;
                continue;
            }
            if (arg.Length < 1 || arg[0] != '-')
            {
                error = $"invalid option: \"{arg}\"";
                return null;
            }
            for (int p = 1; p < arg.Length; p++)
            {
                char flag = arg[p];
                switch (flag)
                {
                    case '?' or 'h': o.ShowVersion = o.ShowHelp = true; continue;
                    case 'v': o.ShowVersion = true; continue;
                    case 'V': o.ShowVersion = o.ShowBuild = true; continue;
                    case 't': o.Test = true; continue;
                    case 'T': o.Test = o.Dump = true; continue;
                    case 'q': o.Quiet = true; continue;
                }
                if (flag is not ('p' or 'e' or 'c' or 'g' or 's'))
                {
                    error = $"invalid option: \"{flag}\"";
                    return null;
                }
                string? value = p + 1 < arg.Length ? arg[(p + 1)..] : i + 1 < args.Count ? args[++i] : null;
                if (value is null)
                {
                    error = flag switch
                    {
                        'p' => "option \"-p\" requires directory name",
                        'e' => "option \"-e\" requires file name",
                        'c' => "option \"-c\" requires file name",
                        _ => $"option \"-{flag}\" requires parameter",
                    };
                    return null;
                }
                switch (flag)
                {
                    case 'p': o.Prefix = value; break;
                    case 'e': o.ErrorLog = value; break;
                    case 'c': o.ConfigFile = value; break;
                    case 'g': o.Directives = value; break;
                    case 's':
                        if (Array.IndexOf(Signals, value) < 0)
                        {
                            error = $"invalid option: \"-s {value}\"";
                            return null;
                        }
                        o.Signal = value;
                        break;
                }
                break;   // the value took the rest of this argument
            }
        }
        return o;
    }
}
