namespace RawKeepalive.Config;

/// <summary>Builds a <see cref="ConfigException"/> whose message ends " in FILE:LINE", as nginx -t prints.</summary>
internal static class ConfigError
{
    /// <summary>A line of 0 names a place without lines: "in command line" (-g), "in environment variable X".</summary>
    public static ConfigException At(string message, string file, int line) =>
        new(line > 0 && file != CommandLine ? $"{message} in {file}:{line}" : $"{message} in {file}");

    /// <summary>What nginx calls the -g directives in its messages.</summary>
    public const string CommandLine = "command line";

    public static ConfigException At(string message, ConfigDirective where) => At(message, where.File, where.Line);

    /// <summary>nginx's wording for a file it cannot read: <c>open() "PATH" failed (2: No such file or directory)</c>.</summary>
    public static string OpenFailed(string path, Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => $"open() \"{path}\" failed (2: No such file or directory)",
        UnauthorizedAccessException => $"open() \"{path}\" failed (13: Permission denied)",
        _ => $"open() \"{path}\" failed ({e.Message})",
    };
}
