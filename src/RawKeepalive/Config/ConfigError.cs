namespace RawKeepalive.Config;

/// <summary>Builds a <see cref="ConfigException"/> whose message ends " in FILE:LINE", as nginx -t prints.</summary>
internal static class ConfigError
{
    public static ConfigException At(string message, string file, int line) => new($"{message} in {file}:{line}");

    public static ConfigException At(string message, ConfigDirective where) => At(message, where.File, where.Line);

    /// <summary>nginx's wording for a file it cannot read: <c>open() "PATH" failed (2: No such file or directory)</c>.</summary>
    public static string OpenFailed(string path, Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => $"open() \"{path}\" failed (2: No such file or directory)",
        UnauthorizedAccessException => $"open() \"{path}\" failed (13: Permission denied)",
        _ => $"open() \"{path}\" failed ({e.Message})",
    };
}
