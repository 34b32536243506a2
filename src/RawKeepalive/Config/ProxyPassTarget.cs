namespace RawKeepalive.Config;

/// <summary>A parsed <c>proxy_pass http://host[:port][/uri]</c>, not yet tied to an upstream: upstream
/// blocks may come later in the file, so names are looked up when the http block is complete.</summary>
internal sealed record ProxyPassTarget(HostPort Target, string ProxyHost, string ProxyPort, string? Uri, ConfigDirective Where)
{
    private const string Http = "http://";

    public static ProxyPassTarget Parse(ConfigDirective d)
    {
        string url = d.Args[0];
        if (url.Contains('$')) throw ConfigError.At("variables in the \"proxy_pass\" directive are not supported yet", d);
        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            throw ConfigError.At("https in the \"proxy_pass\" directive is not supported yet", d);
        if (!url.StartsWith(Http, StringComparison.OrdinalIgnoreCase))
            throw ConfigError.At($"invalid URL prefix in \"{url}\"", d);
        string rest = url[Http.Length..];
        if (rest.StartsWith("unix:", StringComparison.Ordinal))
            throw ConfigError.At("unix sockets in the \"proxy_pass\" directive are not supported yet", d);

        int uriStart = rest.AsSpan().IndexOfAny('/', '?');
        string authority = uriStart < 0 ? rest : rest[..uriStart];
        string? uri = uriStart < 0 ? null : rest[uriStart..];
        if (!HostPort.TryParse(authority, ConfigDefaults.DefaultPort, out var target, out string error))
            throw ConfigError.At($"{error} in upstream \"{rest}\"", d);

        // $proxy_host / $proxy_port as ngx_http_proxy_set_vars: the port is left out of the host when it is the default.
        bool defaultPort = !target.HasPort || target.Port == ConfigDefaults.DefaultPort;
        string proxyHost = defaultPort ? target.Host : authority;
        string proxyPort = defaultPort ? "80" : target.PortText!;
        return new ProxyPassTarget(target, proxyHost, proxyPort, uri, d);
    }
}
