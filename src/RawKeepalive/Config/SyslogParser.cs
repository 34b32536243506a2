namespace RawKeepalive.Config;

/// <summary>Reads the "syslog:" argument of access_log and error_log as ngx_syslog_parse_args does,
/// with its wording: comma-separated <c>server=</c>, <c>facility=</c>, <c>severity=</c>, <c>tag=</c>,
/// <c>nohostname</c>; the server is required and defaults to port 514.</summary>
internal static class SyslogParser
{
    public const string Prefix = "syslog:";

    public static bool IsSyslog(string argument) => argument.StartsWith(Prefix, StringComparison.Ordinal);

    public static SyslogTarget Parse(string argument, ConfigDirective d)
    {
        System.Net.IPEndPoint? server = null;
        string serverText = "";
        int facility = -1, severity = -1;
        string? tag = null;
        bool noHostname = false;
        foreach (string part in argument[Prefix.Length..].Split(','))
        {
            if (part.StartsWith("server=", StringComparison.Ordinal))
            {
                if (server is not null) throw ConfigError.At("duplicate syslog \"server\"", d);
                serverText = part["server=".Length..];
                server = Server(serverText, d);
            }
            else if (part.StartsWith("facility=", StringComparison.Ordinal))
            {
                if (facility >= 0) throw ConfigError.At("duplicate syslog \"facility\"", d);
                facility = Array.IndexOf(SyslogTarget.Facilities, part["facility=".Length..]);
                if (facility < 0) throw ConfigError.At($"unknown syslog facility \"{part["facility=".Length..]}\"", d);
            }
            else if (part.StartsWith("severity=", StringComparison.Ordinal))
            {
                if (severity >= 0) throw ConfigError.At("duplicate syslog \"severity\"", d);
                severity = Array.IndexOf(SyslogTarget.Severities, part["severity=".Length..]);
                if (severity < 0) throw ConfigError.At($"unknown syslog severity \"{part["severity=".Length..]}\"", d);
            }
            else if (part.StartsWith("tag=", StringComparison.Ordinal))
            {
                if (tag is not null) throw ConfigError.At("duplicate syslog \"tag\"", d);
                tag = part["tag=".Length..];
                // RFC 3164: alphanumeric, at most 32 characters (nginx also allows '_').
                if (tag.Length > 32) throw ConfigError.At("syslog tag length exceeds 32", d);
                if (tag.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '_'))
                    throw ConfigError.At("syslog \"tag\" only allows alphanumeric characters and underscore", d);
            }
            else if (part == "nohostname") noHostname = true;
            else throw ConfigError.At($"unknown syslog parameter \"{part}\"", d);
        }
        if (server is null) throw ConfigError.At("no syslog server specified", d);
        return new SyslogTarget
        {
            Server = server,
            ServerText = serverText,
            Facility = facility < 0 ? 23 : facility,
            Severity = severity < 0 ? 6 : severity,
            Tag = tag ?? "nginx",
            NoHostname = noHostname,
        };
    }

    /// <summary>ngx_parse_url with port 514 by default; nginx uses the first address a name resolves to.</summary>
    private static System.Net.IPEndPoint Server(string text, ConfigDirective d)
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
            throw ConfigError.At($"unix domain syslog servers (\"{text}\") are not supported yet", d);
        if (!HostPort.TryParse(text, 514, out var hostPort, out string error))
            throw ConfigError.At($"{error} in syslog server \"{text}\"", d);
        var addresses = hostPort.ResolveEndPoints();
        if (addresses.Length == 0) throw ConfigError.At($"host not found in syslog server \"{text}\"", d);
        return addresses[0];
    }
}
