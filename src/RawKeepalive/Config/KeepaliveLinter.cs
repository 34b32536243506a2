namespace RawKeepalive.Config;

/// <summary>One finding of <see cref="KeepaliveLinter"/>: the reason and the fix, and where.</summary>
public sealed record LintWarning(int Rule, string Message, string File, int Line)
{
    public override string ToString() => $"{Message} in {File}:{Line}";
}

/// <summary>The keepalive mistakes of the article (reference/nginx-upstream-keepalive-article.txt), checked
/// by <c>-t</c> on the resolved config, exactly these five:
/// (1) a pool used over HTTP/1.0 (Mistake 1); (2) under legacy defaults, "Connection: close" not cleared
/// (Mistake 1); (3) a pool under 16 idle connections per worker (Mistake 2); (4) proxying to an upstream with
/// no pool (Mistake 4); (5) an upstream keepalive_timeout above 75 s (Mistake 3).</summary>
public static class KeepaliveLinter
{
    public const int MinPool = 16;
    public const long MaxUpstreamIdleMs = 75_000;

    public static IReadOnlyList<LintWarning> Check(ProxyConfig config)
    {
        var warnings = new List<LintWarning>();
        bool legacy = config.Http.LegacyKeepaliveDefaults;
        foreach (var up in config.Http.Upstreams)
        {
            if (up.Implicit) continue;
            if (up.Keepalive is > 0 and < MinPool && up.KeepaliveWhere is { } k)
                warnings.Add(new LintWarning(3,
                    $"\"keepalive {up.Keepalive}\" in upstream \"{up.Name}\" keeps at most {up.Keepalive} idle connections per worker: " +
                    "under load the pool runs dry and every miss opens a new connection (Mistake 2); " +
                    $"keep at least {MinPool}, e.g. \"keepalive 64;\"", k.File, k.Line));
            if (up.KeepaliveTimeoutMs > MaxUpstreamIdleMs && up.KeepaliveTimeoutWhere is { } t)
                warnings.Add(new LintWarning(5,
                    $"\"keepalive_timeout {t.Args[0]}\" in upstream \"{up.Name}\" is longer than common upstream servers keep an idle " +
                    "connection (Node.js 5s before v19, Gunicorn 2s, uvicorn 5s, Apache 5s, nginx 75s), so requests go out on " +
                    "connections the upstream has already closed (Mistake 3); set it below the upstream's own idle timeout, " +
                    "e.g. \"keepalive_timeout 60s;\"", t.File, t.Line));
        }

        foreach (var server in config.Http.Servers)
        {
            foreach (var location in server.Locations)
            {
                if (location.ProxyPass is not { } pass) continue;
                var up = pass.Upstream;
                string where = $"location \"{location.Path}\"";
                if (up.Keepalive == 0)
                {
                    string why = up.Implicit ? "proxy_pass to an address without an upstream block keeps no idle connections"
                        : up.KeepaliveWhere is not null ? $"upstream \"{up.Name}\" has \"keepalive 0\""
                        : $"upstream \"{up.Name}\" has no \"keepalive\" directive and keepalive_defaults is legacy";
                    string fix = up.Implicit ? "proxy to an upstream{} block instead (it keeps a pool)"
                        : $"add \"keepalive 64;\" to upstream \"{up.Name}\"";
                    warnings.Add(new LintWarning(4,
                        $"{where} opens a new upstream connection for every request: {why} (Mistake 4); {fix}", pass.File, pass.Line));
                    continue;
                }
                if (location.Proxy.HttpVersionMinor == 0)
                    warnings.Add(new LintWarning(1,
                        $"{where} proxies to upstream \"{up.Name}\", which keeps a pool, over HTTP/1.0" +
                        (legacy ? " (the legacy default)" : "") + ", so every upstream connection closes after one response " +
                        "(Mistake 1); add \"proxy_http_version 1.1;\"", pass.File, pass.Line));
                if (legacy && SendsConnectionClose(location))
                    warnings.Add(new LintWarning(2,
                        $"{where} sends \"Connection: close\" to upstream \"{up.Name}\" (keepalive_defaults legacy), so every " +
                        "upstream connection closes after one response (Mistake 1); add 'proxy_set_header Connection \"\";'",
                        pass.File, pass.Line));
            }
        }
        return [.. warnings.OrderBy(w => w.File, StringComparer.Ordinal).ThenBy(w => w.Line)];
    }

    /// <summary>The location sends "Connection: close" upstream (proxy_set_header, or the legacy default).</summary>
    public static bool SendsConnectionClose(LocationConfig location) =>
        location.Proxy.SetHeaders.Any(h => string.Equals(h.Name, "Connection", StringComparison.OrdinalIgnoreCase)
            && string.Equals(h.Value.Source, "close", StringComparison.OrdinalIgnoreCase));
}
