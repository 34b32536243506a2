namespace RawKeepalive.Config;

/// <summary>The http block's upstreams: the explicit upstream{} blocks, and the implicit ones that
/// <c>proxy_pass http://host:port</c> makes (one per host and port, shared, as ngx_http_upstream_add).</summary>
internal sealed class UpstreamRegistry(IReadOnlyList<UpstreamConfig> explicitUpstreams)
{
    private readonly List<UpstreamConfig> _implicit = [];
    private readonly Dictionary<string, UpstreamConfig> _implicitByKey = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Explicit first, in file order, then implicit in order of first use.</summary>
    public IReadOnlyList<UpstreamConfig> All => [.. explicitUpstreams, .. _implicit];

    public ProxyPassConfig Resolve(ProxyPassTarget pass)
    {
        var target = pass.Target;
        var named = explicitUpstreams.FirstOrDefault(u => string.Equals(u.Name, target.Host, StringComparison.OrdinalIgnoreCase));
        if (named is not null)
        {
            if (target.HasPort)
                throw ConfigError.At($"upstream \"{named.Name}\" may not have port {target.Port}", pass.Where);
            return new ProxyPassConfig { Upstream = named, Uri = pass.Uri, ProxyHost = pass.ProxyHost, ProxyPort = pass.ProxyPort, File = pass.Where.File, Line = pass.Where.Line };
        }

        string key = $"{target.Host}:{target.Port}";
        if (!_implicitByKey.TryGetValue(key, out var upstream))
        {
            var addresses = target.ResolveEndPoints();
            if (addresses.Length == 0) throw ConfigError.At($"host not found in upstream \"{target.Host}\"", pass.Where);
            upstream = new UpstreamConfig
            {
                Name = key,
                Servers = [new UpstreamServerConfig { Text = key, Addresses = addresses }],
                Keepalive = 0,
                Implicit = true,
                File = pass.Where.File,
                Line = pass.Where.Line,
            };
            _implicitByKey.Add(key, upstream);
            _implicit.Add(upstream);
        }
        return new ProxyPassConfig { Upstream = upstream, Uri = pass.Uri, ProxyHost = pass.ProxyHost, ProxyPort = pass.ProxyPort, File = pass.Where.File, Line = pass.Where.Line };
    }
}
