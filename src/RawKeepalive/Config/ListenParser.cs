namespace RawKeepalive.Config;

/// <summary><c>listen address[:port] | port [default_server] [backlog=N] [reuseport]</c>: a name that
/// resolves to several addresses listens on each. Parameters nginx has and we do not are refused by name.</summary>
internal static class ListenParser
{
    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "ssl", "http2", "quic", "proxy_protocol", "rcvbuf", "sndbuf", "bind", "ipv6only",
        "deferred", "fastopen", "so_keepalive", "setfib", "accept_filter",
    };

    public static IEnumerable<ListenConfig> Parse(ConfigDirective d)
    {
        string text = d.Args[0];
        bool defaultServer = false;
        int? backlog = null;
        for (int i = 1; i < d.Args.Count; i++)
        {
            string parameter = d.Args[i];
            if (parameter is "default_server" or "default") { defaultServer = true; continue; }
            // Master mode always gives each worker its own SO_REUSEPORT socket: the parameter
            // asks for what is already done, so configs written for nginx load unchanged.
            if (parameter == "reuseport") continue;
            if (parameter.StartsWith("backlog=", StringComparison.Ordinal))
            {
                string value = parameter["backlog=".Length..];
                if (!Units.TryParseDigits(value, out long n) || n is 0 or > int.MaxValue)
                    throw ConfigError.At($"invalid backlog \"{value}\"", d);
                backlog = (int)n;
                continue;
            }
            int eq = parameter.IndexOf('=');
            string name = eq < 0 ? parameter : parameter[..eq];
            if (Unsupported.Contains(name)) throw DirectiveArgs.ParameterNotSupported(d, name);
            throw DirectiveArgs.InvalidParameter(d, parameter);
        }
        if (text.StartsWith("unix:", StringComparison.Ordinal))
            throw ConfigError.At("unix sockets in the \"listen\" directive are not supported yet", d);

        HostPort hostPort;
        if (Units.TryParseDigits(text, out long portOnly))
        {
            if (portOnly is < 1 or > 65535) throw ConfigError.At($"invalid port in \"{text}\" of the \"listen\" directive", d);
            hostPort = new HostPort("*", (int)portOnly, text);
        }
        else if (!HostPort.TryParse(text, ConfigDefaults.DefaultPort, out hostPort, out string error))
            throw ConfigError.At($"{error} in \"{text}\" of the \"listen\" directive", d);

        var endPoints = hostPort.ResolveEndPoints();
        if (endPoints.Length == 0) throw ConfigError.At($"host not found in \"{text}\" of the \"listen\" directive", d);
        return endPoints.Select(e => new ListenConfig
        {
            EndPoint = e, DefaultServer = defaultServer, Backlog = backlog, File = d.File, Line = d.Line,
        });
    }
}
