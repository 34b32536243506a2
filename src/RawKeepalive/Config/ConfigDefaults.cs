using System.Text;

namespace RawKeepalive.Config;

/// <summary>nginx's defaults in one place. Most live as the model's property initializers; the blank
/// records below read them from there, so each default is written once.</summary>
internal static class ConfigDefaults
{
    /// <summary>The pool every upstream{} gets without a keepalive directive (nginx 1.29.7+: "keepalive 32 local").</summary>
    public const int ImplicitKeepalive = 32;

    public const int DefaultPort = 80;

    /// <summary>keepalive_doctor_interval (ours).</summary>
    public const long KeepaliveDoctorIntervalMs = 60_000;

    /// <summary>nginx's NGX_LISTEN_BACKLOG on Linux.</summary>
    public const int ListenBacklog = 511;

    public static readonly UpstreamConfig Upstream = new() { Name = "", Servers = [], File = "" };
    public static readonly LocationConfig Location = new() { Path = "", Proxy = new() { SetHeaders = [] }, File = "" };
    public static readonly ServerConfig Server = new() { Listens = [], ServerNames = [], Locations = [] };

    /// <summary>proxy_set_header entries nginx adds itself (ngx_http_proxy_headers); a configured header of
    /// the same name replaces one. "Connection: close" only under keepalive_defaults legacy: current nginx
    /// sends none to a connection that may be reused.</summary>
    public static IReadOnlyList<HeaderSetting> BuiltInProxyHeaders(bool legacy) => legacy ? LegacyHeaders : CurrentHeaders;

    private static readonly HeaderSetting HostHeader = new("Host", "Host"u8.ToArray(),
        new ValueTemplate([new TemplateSegment(null, Variable.ProxyHost, null)], "$proxy_host"));

    private static readonly HeaderSetting ConnectionClose = new("Connection", "Connection"u8.ToArray(),
        new ValueTemplate([new TemplateSegment(Encoding.ASCII.GetBytes("close"), default, null)], "close"));

    private static readonly HeaderSetting[] CurrentHeaders = [HostHeader];
    private static readonly HeaderSetting[] LegacyHeaders = [HostHeader, ConnectionClose];
}
