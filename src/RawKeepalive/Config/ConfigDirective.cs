namespace RawKeepalive.Config;

/// <summary>One directive as written: name, arguments (quotes removed, escapes applied), and where it is.
/// <see cref="Line"/> is the line of its terminating ";" or "{" (the line nginx names in errors).
/// <see cref="Block"/> holds the children of a block directive and is null for a simple one.
/// Includes are already spliced in, so children may come from other files.</summary>
public sealed record ConfigDirective(string Name, IReadOnlyList<string> Args, string File, int Line, IReadOnlyList<ConfigDirective>? Block)
{
    public string Arg(int index) => Args[index];
}
