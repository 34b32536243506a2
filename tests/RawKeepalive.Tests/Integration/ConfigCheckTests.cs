using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Issue 2, deliverable 9: <c>-t</c> accepts the article's configs and rejects <c>listen 443 ssl http2</c> at its FILE:LINE.</summary>
[TestFixture, Category("Integration"), CancelAfter(60_000)]
public sealed class ConfigCheckTests
{
    /// <summary>The article's production config, its <c>listen 443 ssl http2</c> line aside (replaced by <paramref name="listen"/>).</summary>
    private static string Production(string listen) => $$"""
        worker_processes 1;
        events { worker_connections 1024; }
        http {
            upstream app_backend {
                server 127.0.0.1:{BACKEND};
                keepalive 64;
                keepalive_requests 1000;
                keepalive_timeout 65s;
            }
            server {
                {{listen}}
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

    [Test]
    public void ValidConfigs_Exit0()
    {
        foreach (string config in new[] { Production("listen 127.0.0.1:{PORT};"), Configs.Tldr, Configs.Bare })
        {
            var (exitCode, output) = ProxyProcess.RunConfigTest(config, backend: FreePort.Probe());
            Assert.That(exitCode, Is.Zero, $"{output}\n--- config:\n{config}");
        }
    }

    [Test]
    public void ListenSslHttp2_Exit1_NamingFileAndLine()
    {
        var result = ProxyProcess.RunConfigTest(Production("listen 443 ssl http2;"), backend: FreePort.Probe());
        string where = $"{result.ConfigPath}:{result.LineOf("listen 443 ssl http2;")}";
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1), result.Output);
            Assert.That(result.Output, Does.Contain(where), $"the message should name {where}");
        });
    }
}
