using RawKeepalive.Config;
using RawKeepalive.Upstream;

namespace RawKeepalive.Observability;

/// <summary>What the keepalive doctor says for the close reason that dominated an interval: the cause,
/// and the fix in the words of the article's mistakes (reference/nginx-upstream-keepalive-article.txt).
/// Keyed by the reason's label, so a reason added at the end of <see cref="UpstreamCloseReason"/> still
/// gets a line (naming its counter) until it has words of its own.</summary>
public static class KeepaliveDiagnosis
{
    private const string Mistake1 = "Mistake 1: keepalive without proxy_http_version 1.1 and an empty Connection header";
    private const string Mistake2 = "Mistake 2: keepalive value too low";
    private const string Mistake3 = "Mistake 3: keepalive_timeout higher than the upstream's";
    private const string Mistake4 = "Mistake 4: an upstream without keepalive";

    /// <summary>What the locations proxying to an upstream send it.</summary>
    public readonly record struct Facts(bool SendsConnectionClose, bool Http10);

    public static Facts FactsOf(ProxyConfig config, UpstreamConfig upstream)
    {
        bool close = false, http10 = false;
        foreach (var server in config.Http.Servers)
        {
            foreach (var location in server.Locations)
            {
                if (location.ProxyPass?.Upstream != upstream) continue;
                close |= KeepaliveLinter.SendsConnectionClose(location);
                http10 |= location.Proxy.HttpVersionMinor == 0;
            }
        }
        return new Facts(close, http10);
    }

    public static (string Cause, string Fix) Explain(UpstreamCloseReason reason, UpstreamConfig u, Facts facts)
    {
        string label = UpstreamFigures.ReasonLabels[(int)reason];
        string name = $"upstream \"{u.Name}\"";
        return label switch
        {
            "pool_full" => ($"the pool was full, so idle connections beyond \"keepalive {u.Keepalive}\" were closed",
                $"raise \"keepalive {u.Keepalive}\" in {name} ({Mistake2})"),
            "closed_while_idle" => ("the upstream closed idle connections before they were reused",
                $"lower \"keepalive_timeout {Duration(u.KeepaliveTimeoutMs)}\" in {name} below the upstream's own idle timeout ({Mistake3})"),
            "not_reusable" => NotReusable(u, name, facts),
            "max_requests" => ($"\"keepalive_requests {u.KeepaliveRequests}\" retired connections",
                $"raise \"keepalive_requests {u.KeepaliveRequests}\" in {name}"),
            "max_time" => ($"\"keepalive_time {Duration(u.KeepaliveTimeMs)}\" retired connections",
                $"raise \"keepalive_time {Duration(u.KeepaliveTimeMs)}\" in {name}"),
            "idle_timeout" => ($"idle connections expired after \"keepalive_timeout {Duration(u.KeepaliveTimeoutMs)}\" between requests",
                $"raise \"keepalive_timeout {Duration(u.KeepaliveTimeoutMs)}\" in {name}, keeping it below the upstream's own idle timeout"),
            "error_mid_exchange" => ("connections failed while they carried a request",
                $"see the [error] lines for {name}: no keepalive setting causes this"),
            // The pool issue's release check (its reasons, once merged).
            "closed_at_release" => ("the upstream closed connections right after its responses without saying so",
                "make the upstream keep connections alive (HTTP/1.1 without \"Connection: close\")"),
            "unexpected_data_at_release" => ("the upstream sent bytes beyond its responses", "fix the upstream's response framing"),
            "max_conns" => ("idle connections were closed to make room under \"max_conns\" for requests they could not serve " +
                    "(another location's under \"keepalive N local\", or another worker's under \"zone\")",
                $"raise \"max_conns\" of the servers in {name}, or drop \"local\" from its \"keepalive\""),
            _ => (label, $"see rawkeepalive_upstream_connections_closed_total{{reason=\"{label}\"}}"),
        };
    }

    /// <summary>A clean exchange left the connection unusable: no pool, or a close asked for by the
    /// config (HTTP/1.0, "Connection: close") or by the upstream.</summary>
    private static (string, string) NotReusable(UpstreamConfig u, string name, Facts facts)
    {
        if (u.Keepalive == 0)
            return u.Implicit
                ? ("proxy_pass to an address without an upstream block keeps no idle connections", $"proxy to an upstream{{}} block with \"keepalive 64;\" ({Mistake4})")
                : ($"{name} keeps no idle connections", $"add \"keepalive 64;\" to {name} ({Mistake4})");
        if (facts.Http10 && facts.SendsConnectionClose)
            return ("the config sends requests over HTTP/1.0 with \"Connection: close\"",
                $"add \"proxy_http_version 1.1;\" and 'proxy_set_header Connection \"\";' ({Mistake1})");
        if (facts.Http10)
            return ("the config sends requests over HTTP/1.0", $"add \"proxy_http_version 1.1;\" ({Mistake1})");
        if (facts.SendsConnectionClose)
            return ("the config sends \"Connection: close\" upstream", $"add 'proxy_set_header Connection \"\";' ({Mistake1})");
        return ("the upstream answered \"Connection: close\" or HTTP/1.0",
            "make the upstream keep connections alive (HTTP/1.1 without \"Connection: close\"), and keep \"proxy_http_version 1.1\"");
    }

    /// <summary>A time as a config writes it: "1h", "60s", "500ms".</summary>
    public static string Duration(long ms) =>
        ms % 3_600_000 == 0 && ms > 0 ? $"{ms / 3_600_000}h"
        : ms % 1000 == 0 ? $"{ms / 1000}s"
        : $"{ms}ms";
}
