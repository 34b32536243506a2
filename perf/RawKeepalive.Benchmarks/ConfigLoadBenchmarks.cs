using BenchmarkDotNet.Attributes;
using RawKeepalive.Config;

namespace RawKeepalive.Benchmarks;

/// <summary>Loading the article's production config (lex, parse, build the typed model). Not a hot
/// path: it runs once per start or reload, so it may allocate; the figure is here to catch a
/// config layer that gets slow or bloated.</summary>
[MemoryDiagnoser]
public class ConfigLoadBenchmarks
{
    // The article's complete production-ready configuration; `listen 443 ssl http2` becomes a plain
    // listen (TLS and HTTP/2 are outside this proxy).
    private const string ArticleConfig = """
        events { worker_connections 1024; }
        http {
            upstream app_backend {
                server 127.0.0.1:8080;
                keepalive 64;
                keepalive_requests 1000;
                keepalive_timeout 65s;
            }
            server {
                listen 127.0.0.1:8443;
                server_name api.example.com;
                location /api/ {
                    proxy_pass http://app_backend;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_set_header Host $host;
                    proxy_set_header X-Real-IP $remote_addr;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-Forwarded-Proto $scheme;
                    proxy_connect_timeout 5s;
                    proxy_send_timeout 30s;
                    proxy_read_timeout 30s;
                }
            }
        }
        """;

    private readonly string _prefix = Path.GetTempPath();
    private readonly string _file = Path.Combine(Path.GetTempPath(), "article.conf");

    [Benchmark(Description = "LoadText(article's production config)")]
    public ProxyConfig LoadArticleConfig() => ConfigLoader.LoadText(ArticleConfig, _file, _prefix);
}
