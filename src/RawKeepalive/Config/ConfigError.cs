namespace RawKeepalive.Config;

/// <summary>Builds a <see cref="ConfigException"/> whose message ends " in FILE:LINE", as nginx -t prints.</summary>
internal static class ConfigError
{
    public static ConfigException At(string message, string file, int line) => new($"{message} in {file}:{line}");

    public static ConfigException At(string message, ConfigDirective where) => At(message, where.File, where.Line);
}
