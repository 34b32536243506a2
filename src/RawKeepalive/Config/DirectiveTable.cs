using static RawKeepalive.Config.ConfigContext;

namespace RawKeepalive.Config;

/// <summary>Every directive we know, as data: where it may appear, how many arguments it takes, whether
/// it is a block, and whether we implement it. A name not here is an unknown directive; a name here in
/// the wrong block is "not allowed here", as nginx says. A name may have several rows for different
/// contexts ("server" in http is a block, in upstream a line), like nginx's per-module command tables.</summary>
public static class DirectiveTable
{
    private const int Many = int.MaxValue;
    // Spelled out: bare Http and Upstream would name the RawKeepalive.Http and RawKeepalive.Upstream namespaces.
    private const ConfigContext HttpBlock = ConfigContext.Http;
    private const ConfigContext UpstreamBlock = ConfigContext.Upstream;
    private const DirectiveStatus Done = DirectiveStatus.Implemented;
    private const DirectiveStatus NoEffect = DirectiveStatus.AcceptedWithoutEffect;
    private const DirectiveStatus Later = DirectiveStatus.NotSupportedYet;

    public static IReadOnlyList<DirectiveSpec> All { get; } =
    [
        // main
        new("worker_processes", Main, 1, 1, false, Done, Once: true),
        new("daemon", Main, 1, 1, false, Done, Once: true),
        new("master_process", Main, 1, 1, false, Done, Once: true),
        new("pid", Main, 1, 1, false, Done, Once: true),
        new("error_log", Main | HttpServerLocation, 1, Many, false, Done),
        new("worker_rlimit_nofile", Main, 1, 1, false, Done, Once: true),
        new("worker_rlimit_core", Main, 1, 1, false, NoEffect, Once: true),
        new("worker_cpu_affinity", Main, 1, Many, false, Done, Once: true),
        new("worker_shutdown_timeout", Main, 1, 1, false, Done, Once: true),
        new("user", Main, 1, 2, false, Done, Once: true),
        new("events", Main, 0, 0, true, Done, Once: true, Opens: Events),
        new("http", Main, 0, 0, true, Done, Once: true, Opens: HttpBlock),
        new("include", Any, 1, 1, false, Done),

        // events: epoll is the only method, and each worker accepts from its own SO_REUSEPORT socket,
        // so none of these changes what we do.
        new("worker_connections", Events, 1, 1, false, Done, Once: true),
        new("use", Events, 1, 1, false, NoEffect, Once: true),
        new("multi_accept", Events, 1, 1, false, NoEffect, Once: true),
        new("accept_mutex", Events, 1, 1, false, NoEffect, Once: true),

        // http
        new("upstream", HttpBlock, 1, 1, true, Done, Opens: UpstreamBlock),
        new("server", HttpBlock, 0, 0, true, Done, Opens: Server),
        new("keepalive_doctor", HttpBlock, 1, 1, false, Done, Once: true),            // ours: the runtime check of keepalive
        new("keepalive_doctor_interval", HttpBlock, 1, 1, false, Done, Once: true),   // ours
        new("keepalive_defaults", HttpBlock, 1, 1, false, Done, Once: true),
        new("log_format", HttpBlock, 2, Many, false, Done),
        new("map", HttpBlock, 2, 2, true, Done, Opens: Map),

        // http, server, location: client side
        new("keepalive_timeout", HttpServerLocation, 1, 2, false, Done, Once: true),
        new("keepalive_requests", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("client_header_timeout", HttpServer, 1, 1, false, Done, Once: true),
        new("client_body_timeout", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("send_timeout", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("client_max_body_size", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("client_header_buffer_size", HttpServer, 1, 1, false, Done, Once: true),
        new("large_client_header_buffers", HttpServer, 2, 2, false, Done, Once: true),
        new("underscores_in_headers", HttpServer, 1, 1, false, Done, Once: true),
        new("ignore_invalid_headers", HttpServer, 1, 1, false, NoEffect, Once: true),   // invalid names are always 400
        new("access_log", HttpServerLocation, 1, Many, false, Done),

        // http, server, location: upstream side
        new("proxy_http_version", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("proxy_set_header", HttpServerLocation, 2, 2, false, Done),
        new("proxy_connect_timeout", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("proxy_send_timeout", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("proxy_read_timeout", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("proxy_next_upstream", HttpServerLocation, 1, Many, false, Done),
        new("proxy_next_upstream_tries", HttpServerLocation, 1, 1, false, Done, Once: true),
        new("proxy_splice", HttpServerLocation, 1, 1, false, Done, Once: true),   // ours: nginx has no splice
        new("generated_headers_max_size", HttpServerLocation, 1, 1, false, Done, Once: true),   // ours: nginx has no cap

        // http, server, location: no effect on proxying (we serve no files, compress nothing, buffer
        // nothing to disk, and send no Server version)
        new("sendfile", HttpServerLocation, 1, 1, false, NoEffect, Once: true),
        new("tcp_nopush", HttpServerLocation, 1, 1, false, NoEffect, Once: true),
        new("tcp_nodelay", HttpServerLocation, 1, 1, false, NoEffect, Once: true),
        new("server_tokens", HttpServerLocation, 1, 1, false, NoEffect, Once: true),
        new("default_type", HttpServerLocation, 1, 1, false, NoEffect, Once: true),
        new("types", HttpServerLocation, 0, 0, true, NoEffect, Opens: Types),
        new("charset", HttpServerLocation, 1, 1, false, NoEffect, Once: true),
        new("gzip", HttpServerLocation, 1, 1, false, NoEffect, Once: true),   // "on" is refused by the builder
        new("client_body_temp_path", HttpServerLocation, 1, 4, false, NoEffect, Once: true),
        new("proxy_temp_path", HttpServerLocation, 1, 4, false, NoEffect, Once: true),
        new("fastcgi_temp_path", HttpServerLocation, 1, 4, false, NoEffect, Once: true),
        new("uwsgi_temp_path", HttpServerLocation, 1, 4, false, NoEffect, Once: true),
        new("scgi_temp_path", HttpServerLocation, 1, 4, false, NoEffect, Once: true),

        // server
        new("listen", Server, 1, Many, false, Done),
        new("server_name", Server, 1, Many, false, Done),
        new("location", ServerLocation, 1, 2, true, Done, Opens: Location),
        new("return", ServerLocation, 1, 2, false, Done),

        // location
        new("proxy_pass", Location, 1, 1, false, Done, Once: true),
        new("stub_status", Location, 0, 1, false, Done, Once: true),
        new("metrics", Location, 0, 0, false, Done, Once: true),   // ours: Prometheus's text format

        // http, server, location: access
        new("allow", HttpServerLocation, 1, 1, false, Done),
        new("deny", HttpServerLocation, 1, 1, false, Done),

        // upstream
        new("server", UpstreamBlock, 1, Many, false, Done),
        new("keepalive", UpstreamBlock, 1, 2, false, Done, Once: true),
        new("keepalive_requests", UpstreamBlock, 1, 1, false, Done, Once: true),
        new("keepalive_timeout", UpstreamBlock, 1, 1, false, Done, Once: true),
        new("keepalive_time", UpstreamBlock, 1, 1, false, Done, Once: true),
        new("keepalive_close", UpstreamBlock, 1, 1, false, Done, Once: true),         // ours: reset|graceful
        new("queue", UpstreamBlock, 1, 2, false, Done, Once: true),                  // nginx Plus: queue N [timeout=T]
        new("zone", UpstreamBlock, 1, 2, false, Done),                               // nginx takes a second one too: the last one counts

        // nginx directives whose behaviour we do not have yet: refused, never ignored
        .. Unsupported(Main, "worker_priority", "working_directory", "env", "load_module", "lock_file", "pcre_jit", "thread_pool", "timer_resolution",
            "ssl_engine"),
        .. Unsupported(Main, true, "stream", "mail"),
        .. Unsupported(Events, "worker_aio_requests", "debug_connection"),
        .. Unsupported(HttpBlock, "limit_req_zone", "limit_conn_zone", "proxy_cache_path", "server_names_hash_bucket_size",
            "server_names_hash_max_size", "variables_hash_max_size", "variables_hash_bucket_size"),
        .. Unsupported(HttpBlock, true, "geo", "split_clients"),
        .. Unsupported(HttpServer, "ssl_certificate", "ssl_certificate_key", "ssl_protocols", "ssl_ciphers",
            "ssl_prefer_server_ciphers", "ssl_session_cache", "ssl_session_timeout", "ssl_session_tickets",
            "ssl_stapling", "ssl_stapling_verify", "ssl_trusted_certificate", "ssl_dhparam", "ssl_ecdh_curve",
            "ssl_client_certificate", "ssl_verify_client", "http2", "http3", "quic_retry",
            "merge_slashes"),
        .. Unsupported(ServerLocation, "rewrite", "set", "break", "try_files"),
        .. Unsupported(ServerLocation, true, "if"),
        .. Unsupported(Location, "alias", "internal"),
        .. Unsupported(Location, true, "limit_except"),
        .. Unsupported(Location, "fastcgi_pass", "uwsgi_pass", "grpc_pass", "scgi_pass", "memcached_pass"),
        .. Unsupported(HttpServerLocation, "keepalive_time", "root", "index", "error_page", "add_header", "expires",
            "autoindex", "limit_req", "limit_conn", "limit_rate", "resolver", "resolver_timeout",
            "real_ip_header", "set_real_ip_from", "proxy_buffering", "proxy_buffers", "proxy_buffer_size",
            "proxy_busy_buffers_size", "proxy_request_buffering", "proxy_redirect", "proxy_cache", "proxy_cache_valid",
            "proxy_cache_key", "proxy_hide_header", "proxy_pass_header", "proxy_ignore_headers",
            "proxy_intercept_errors", "proxy_ssl_server_name", "proxy_ssl_verify", "proxy_bind",
            "proxy_max_temp_file_size", "proxy_pass_request_headers", "proxy_pass_request_body", "proxy_set_body",
            "proxy_socket_keepalive", "proxy_cookie_domain", "proxy_cookie_path", "proxy_headers_hash_max_size",
            "proxy_headers_hash_bucket_size", "gzip_types", "gzip_vary", "gzip_proxied", "gzip_comp_level",
            "gzip_min_length", "gzip_http_version", "gzip_disable", "gzip_buffers", "gzip_static",
            "open_file_cache", "client_body_buffer_size", "client_body_in_file_only", "types_hash_max_size",
            "types_hash_bucket_size", "reset_timedout_connection", "lingering_close", "lingering_time",
            "lingering_timeout", "keepalive_disable", "absolute_redirect", "port_in_redirect",
            "server_name_in_redirect", "chunked_transfer_encoding", "etag", "if_modified_since", "log_not_found",
            "log_subrequest", "open_log_file_cache", "postpone_output", "output_buffers", "send_lowat", "aio",
            "directio", "satisfy", "auth_basic", "auth_basic_user_file", "auth_request", "sub_filter", "ssi",
            "mirror"),
        .. Unsupported(UpstreamBlock, "least_conn", "ip_hash", "hash", "random", "ntlm", "sticky"),
    ];

    private static readonly Dictionary<string, DirectiveSpec[]> ByName =
        All.GroupBy(d => d.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);

    /// <summary>The row for <paramref name="name"/> allowed in <paramref name="context"/>; null with
    /// <paramref name="known"/> telling apart "unknown directive" from "not allowed here".</summary>
    public static DirectiveSpec? Find(string name, ConfigContext context, out bool known)
    {
        known = ByName.TryGetValue(name, out var rows);
        if (rows is null) return null;
        foreach (var row in rows)
            if ((row.Contexts & context) != 0) return row;
        return null;
    }

    private static DirectiveSpec[] Unsupported(ConfigContext contexts, params string[] names) =>
        Unsupported(contexts, false, names);

    private static DirectiveSpec[] Unsupported(ConfigContext contexts, bool block, params string[] names) =>
        [.. names.Select(n => new DirectiveSpec(n, contexts, 0, Many, block, Later))];
}
