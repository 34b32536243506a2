namespace RawKeepalive.Config;

/// <summary>What the command line and the process environment add to a config file.</summary>
public sealed record LoadOptions
{
    /// <summary>-g "directives;": main-context directives read before the file, as nginx does.</summary>
    public string? CommandLineDirectives { get; init; }
    /// <summary>Reads an environment variable (overrides of main-context scalars); null: none.</summary>
    public Func<string, string?>? Environment { get; init; }
    /// <summary>-e: the error log when the config has no error_log ("stderr" or a path under the prefix).</summary>
    public string? DefaultErrorLog { get; init; }

    public static LoadOptions Process { get; } = new() { Environment = System.Environment.GetEnvironmentVariable };
}

/// <summary>A file the config was read from, for -T.</summary>
public sealed record ConfigSource(string File, string Text);
