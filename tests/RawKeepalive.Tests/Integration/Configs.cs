namespace RawKeepalive.Tests.Integration;

/// <summary>The configs the acceptance tests run, as templates for <see cref="Support.ProxyProcess"/>.</summary>
public static class Configs
{
    /// <summary>The article's TL;DR: its five keepalive lines, and nothing else.</summary>
    public const string Tldr = """
        events { worker_connections 1024; }
        http {
            upstream app_backend {
                server 127.0.0.1:{BACKEND};
                keepalive 64;
                keepalive_requests 1000;
                keepalive_timeout 65s;
            }
            server {
                listen 127.0.0.1:{PORT};
                location / {
                    proxy_pass http://app_backend;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                }
            }
        }
        """;

    /// <summary>An upstream with one server and a location with only proxy_pass: the defaults decide.</summary>
    public const string Bare = """
        events { worker_connections 1024; }
        http {
            upstream app_backend {
                server 127.0.0.1:{BACKEND};
            }
            server {
                listen 127.0.0.1:{PORT};
                location / {
                    proxy_pass http://app_backend;
                }
            }
        }
        """;

    /// <summary>The article's "Mistake 1" (keepalive without proxy_http_version 1.1), under the old defaults.</summary>
    public const string Mistake1Legacy = """
        events { worker_connections 1024; }
        http {
            keepalive_defaults legacy;
            upstream app_backend {
                server 127.0.0.1:{BACKEND};
                keepalive 64;
            }
            server {
                listen 127.0.0.1:{PORT};
                location / {
                    proxy_pass http://app_backend;
                }
            }
        }
        """;

    /// <summary>A TL;DR-style config with <paramref name="upstreamExtra"/> in the upstream and <paramref name="locationExtra"/> in the location
    /// (and <paramref name="http"/> first in the http block, <paramref name="server"/> last in the server).</summary>
    public static string With(string upstreamExtra = "", string locationExtra = "", string servers = "server 127.0.0.1:{BACKEND};",
        string http = "", string server = "") => $$"""
        events { worker_connections 1024; }
        http {
            {{http}}
            upstream app_backend {
                {{servers}}
                {{upstreamExtra}}
            }
            server {
                listen 127.0.0.1:{PORT};
                location / {
                    proxy_pass http://app_backend;
                    {{locationExtra}}
                }
                {{server}}
            }
        }
        """;

    /// <summary>
    /// The TL;DR config (keepalive 64, proxy_http_version 1.1, Connection cleared) with
    /// <paramref name="upstreamExtra"/> in the upstream and <paramref name="locationExtra"/> in the location:
    /// for tests of the pool's limits, whose meaning must not depend on the defaults.
    /// </summary>
    public static string Keepalive(string upstreamExtra = "", string locationExtra = "", string servers = "server 127.0.0.1:{BACKEND};") => $$"""
        events { worker_connections 1024; }
        http {
            upstream app_backend {
                {{servers}}
                keepalive 64;
                {{upstreamExtra}}
            }
            server {
                listen 127.0.0.1:{PORT};
                location / {
                    proxy_pass http://app_backend;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    {{locationExtra}}
                }
            }
        }
        """;
}
