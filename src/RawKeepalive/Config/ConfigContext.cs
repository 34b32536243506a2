namespace RawKeepalive.Config;

/// <summary>The blocks a directive may appear in (nginx's NGX_MAIN_CONF, NGX_HTTP_SRV_CONF, ...).</summary>
[Flags]
public enum ConfigContext : ushort
{
    None = 0,
    Main = 1,
    Events = 2,
    Http = 4,
    Server = 8,
    Location = 16,
    Upstream = 32,
    /// <summary>Inside <c>types {}</c>: "mime/type ext ...;" pairs, not directives, so never looked up.</summary>
    Types = 64,
    /// <summary>Inside <c>map {}</c>: "key value;" lines, data like types{}.</summary>
    Map = 128,

    HttpServerLocation = Http | Server | Location,
    HttpServer = Http | Server,
    ServerLocation = Server | Location,
    Any = Main | Events | Http | Server | Location | Upstream,
}

public enum DirectiveStatus : byte
{
    Implemented,
    /// <summary>Accepted and validated for shape, with no effect on proxying (e.g. sendfile: we serve no files).</summary>
    AcceptedWithoutEffect,
    /// <summary>An nginx directive whose behaviour we do not have: loading fails rather than ignoring it.</summary>
    NotSupportedYet,
}

/// <summary>One row of the directive table. <see cref="Once"/>: nginx answers "is duplicate" to a second
/// one in the same block. <see cref="Opens"/>: for a block directive, the context of its children.</summary>
public sealed record DirectiveSpec(
    string Name,
    ConfigContext Contexts,
    int MinArgs,
    int MaxArgs,
    bool Block,
    DirectiveStatus Status,
    bool Once = false,
    ConfigContext Opens = ConfigContext.None);
