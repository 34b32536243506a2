namespace RawKeepalive.Tests.Support;

/// <summary>The outcome of <c>rawkeepalive -t</c>: exit code, stdout and stderr together, and the file it checked.</summary>
public sealed record ConfigTestResult(int ExitCode, string Output)
{
    public required string ConfigPath { get; init; }

    /// <summary>The config as written, preamble included, so a test can find a directive's line number.</summary>
    public required string ConfigText { get; init; }

    /// <summary>Standard output alone (what -T dumps); empty when not captured separately.</summary>
    public string StandardOutput { get; init; } = "";

    /// <summary>The temporary prefix the command ran in (deleted afterwards) and the files it held then.</summary>
    public string Prefix { get; init; } = "";
    public IReadOnlyList<string> PrefixFiles { get; init; } = [];

    /// <summary>1-based line of the first line of the written config that contains <paramref name="text"/>.</summary>
    public int LineOf(string text) => ProxyProcess.LineOf(ConfigText, text);
}
