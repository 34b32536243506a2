using NUnit.Framework;
using static RawKeepalive.Tests.Config.ConfigText;

namespace RawKeepalive.Tests.Config;

/// <summary>Every error a user can cause, with nginx's exact wording and FILE:LINE.</summary>
[TestFixture, CancelAfter(60_000)]
public class ConfigErrorTests
{
    private const string Upstream = "upstream backend { server 127.0.0.1:8080; }\n";

    [TestCase("foo;\n", "unknown directive \"foo\" in t.conf:1")]
    [TestCase("http {\n    keepalive 4;\n}\n", "\"keepalive\" directive is not allowed here in t.conf:2")]
    [TestCase("http { server {\n listen;\n } }\n", "invalid number of arguments in \"listen\" directive in t.conf:2")]
    [TestCase("worker_processes 1;\nworker_processes 2;\n", "\"worker_processes\" directive is duplicate in t.conf:2")]
    [TestCase("events {}\nevents {}\n", "\"events\" directive is duplicate in t.conf:2")]
    [TestCase("http {\n keepalive_timeout abc;\n}\n", "\"keepalive_timeout\" directive invalid value in t.conf:2")]
    [TestCase("events {\n worker_connections abc;\n}\n", "invalid number \"abc\" in t.conf:2")]
    [TestCase("http { upstream b { server 127.0.0.1;\n keepalive abc; } }\n", "invalid value \"abc\" in \"keepalive\" directive in t.conf:2")]
    [TestCase("http { upstream b { server 127.0.0.1;\n keepalive_close foo; } }\n", "invalid value \"foo\" in \"keepalive_close\" directive in t.conf:2")]
    [TestCase("http { upstream b { server 127.0.0.1;\n keepalive 8 global; } }\n", "invalid parameter \"global\" in t.conf:2")]
    [TestCase("daemon maybe;\n", "invalid value \"maybe\" in \"daemon\" directive, it must be \"on\" or \"off\" in t.conf:1")]
    [TestCase("worker_processes many;\n", "\"worker_processes\" directive invalid value in t.conf:1")]
    [TestCase("http { keepalive_requests x; }\n", "\"keepalive_requests\" directive invalid number in t.conf:1")]
    [TestCase("http { proxy_http_version 2.0; }\n", "invalid value \"2.0\" in t.conf:1")]
    [TestCase("http { client_max_body_size 1x; }\n", "\"client_max_body_size\" directive invalid value in t.conf:1")]
    [TestCase("http { keepalive_defaults old; }\n", "invalid value \"old\" in \"keepalive_defaults\" directive, it must be \"legacy\" or \"current\" in t.conf:1")]
    [TestCase("error_log logs/e.log loud;\n", "invalid log level \"loud\" in t.conf:1")]
    [TestCase("events { use kqueue; }\n", "invalid event type \"kqueue\" in t.conf:1")]
    public void ValueAndPlacementErrors(string text, string expected) => Assert.That(ErrorOf(text), Is.EqualTo(expected));

    [TestCase("}\n", "unexpected \"}\" in t.conf:1")]
    [TestCase("http {\n server {\n }\n", "unexpected end of file, expecting \"}\" in t.conf:4")]
    [TestCase("worker_processes 1", "unexpected end of file, expecting \";\" or \"}\" in t.conf:1")]
    [TestCase("worker_processes 1\n", "unexpected end of file, expecting \";\" or \"}\" in t.conf:2")]
    [TestCase("http {\n server_tokens \"off", "unexpected end of file, expecting \";\" or \"}\" in t.conf:2")]
    [TestCase("events;\n", "directive \"events\" has no opening \"{\" in t.conf:1")]
    [TestCase("worker_processes 1 {\n}\n", "directive \"worker_processes\" is not terminated by \";\" in t.conf:1")]
    [TestCase("http { sendfile on }\n", "unexpected \"}\" in t.conf:1")]
    [TestCase("\n;\n", "unexpected \";\" in t.conf:2")]
    [TestCase("daemon \"off\"x;\n", "unexpected \"x\" in t.conf:1")]
    public void SyntaxErrors(string text, string expected) => Assert.That(ErrorOf(text), Is.EqualTo(expected));

    [TestCase("ssl_certificate /etc/cert.pem;", "\"ssl_certificate\" directive is not supported yet in t.conf:5")]
    [TestCase("listen 443 ssl http2;", "the \"ssl\" parameter of the \"listen\" directive is not supported yet in t.conf:5")]
    [TestCase("listen 443 http2;", "the \"http2\" parameter of the \"listen\" directive is not supported yet in t.conf:5")]
    [TestCase("listen 443 quic;", "the \"quic\" parameter of the \"listen\" directive is not supported yet in t.conf:5")]
    [TestCase("listen 80 proxy_protocol;", "the \"proxy_protocol\" parameter of the \"listen\" directive is not supported yet in t.conf:5")]
    [TestCase("listen 80 sometimes;", "invalid parameter \"sometimes\" in t.conf:5")]
    [TestCase("listen 80 backlog=many;", "invalid backlog \"many\" in t.conf:5")]
    [TestCase("listen 80 backlog=0;", "invalid backlog \"0\" in t.conf:5")]
    [TestCase("listen 80 backlog=16; listen 80 reuseport backlog=32;", "duplicate listen options for 0.0.0.0:80 in t.conf:5")]
    [TestCase("listen 99999;", "invalid port in \"99999\" of the \"listen\" directive in t.conf:5")]
    [TestCase("server_name www.*.com;", "invalid server name or wildcard \"www.*.com\" in t.conf:5")]
    [TestCase("server_name *example.com;", "invalid server name or wildcard \"*example.com\" in t.conf:5")]
    [TestCase("server_name \"~^(www\";", "pcre2_compile() failed: insufficient closing parentheses in \"^(www\" at \"\" in t.conf:5")]
    [TestCase("location ~ \"(a\" { }", "pcre2_compile() failed: insufficient closing parentheses in \"(a\" at \"\" in t.conf:5")]
    [TestCase("location /a { location /b { } }", "location \"/b\" is outside location \"/a\" in t.conf:5")]
    [TestCase("location ~ ^/a { location /a/b { } }", "location \"/a/b\" is outside location \"^/a\" in t.conf:5")]
    [TestCase("location @fallback { }", "named locations (\"@fallback\") are not supported yet in t.conf:5")]
    [TestCase("location / { proxy_pass https://backend; }", "https in the \"proxy_pass\" directive is not supported yet in t.conf:5")]
    [TestCase("location / { proxy_pass ftp://backend; }", "invalid URL prefix in \"ftp://backend\" in t.conf:5")]
    [TestCase("location / { proxy_pass http://$host; }", "variables in the \"proxy_pass\" directive are not supported yet in t.conf:5")]
    [TestCase("location / { proxy_pass http://backend:8080; }", "upstream \"backend\" may not have port 8080 in t.conf:5")]
    [TestCase("location / { proxy_pass http://no-such-host.invalid/; }", "host not found in upstream \"no-such-host.invalid\" in t.conf:5")]
    [TestCase("location / { proxy_pass http://127.0.0.1:0; }", "invalid port in upstream \"127.0.0.1:0\" in t.conf:5")]
    [TestCase("location / { try_files $uri =404; }", "\"try_files\" directive is not supported yet in t.conf:5")]
    [TestCase("location / { limit_rate 10k; }", "\"limit_rate\" directive is not supported yet in t.conf:5")]
    [TestCase("location / { if ($host) { return 404; } }", "\"if\" directive is not supported yet in t.conf:5")]
    [TestCase("gzip on;", "the \"on\" parameter of the \"gzip\" directive is not supported yet in t.conf:5")]
    [TestCase("proxy_next_upstream error http_502;", "the \"http_502\" parameter of the \"proxy_next_upstream\" directive is not supported yet in t.conf:5")]
    [TestCase("proxy_next_upstream sometimes;", "invalid value \"sometimes\" in t.conf:5")]
    [TestCase("proxy_set_header X-Foo $foo;", "unknown \"foo\" variable in t.conf:5")]
    [TestCase("proxy_set_header X-Foo ${host;", "the closing bracket in \"host\" variable is missing in t.conf:5")]
    [TestCase("return 200 \"cost: $\";", "invalid variable name in t.conf:5")]
    [TestCase("return 444;", "the \"444\" parameter of the \"return\" directive is not supported yet in t.conf:5")]
    [TestCase("return teapot;", "invalid return code \"teapot\" in t.conf:5")]
    [TestCase("location /a { location /b { } }", "location \"/b\" is outside location \"/a\" in t.conf:5")]
    [TestCase("location = /a { location /a/b { } }", "location \"/a/b\" cannot be inside the exact location \"/a\" in t.conf:5")]
    [TestCase("location /a { }\nlocation /a { }", "duplicate location \"/a\" in t.conf:6")]
    [TestCase("proxy_pass http://backend;", "\"proxy_pass\" directive is not allowed here in t.conf:5")]
    public void ServerLevelErrors(string line, string expected)
    {
        // line 5 is the line under test
        string text = "events {}\nhttp {\n" + Upstream + "server {\n" + line + "\n}\n}\n";
        Assert.That(ErrorOf(text), Is.EqualTo(expected));
    }

    [Test]
    public void UpstreamErrors()
    {
        Assert.That(ErrorOf("http {\nupstream b {\n}\n}\n"), Is.EqualTo("no servers are inside upstream in t.conf:2"));
        Assert.That(ErrorOf("http {\nupstream b { server 127.0.0.1:1; }\nupstream B { server 127.0.0.1:2; }\n}\n"),
            Is.EqualTo("duplicate upstream \"B\" in t.conf:3"));
        Assert.That(ErrorOf("http {\nupstream b {\nserver 127.0.0.1:1 weight=5;\n}\n}\n"),
            Is.EqualTo("the \"weight\" parameter of the \"server\" directive is not supported yet in t.conf:3"));
        Assert.That(ErrorOf("http {\nupstream b {\nserver 127.0.0.1:1 max_conns=x;\n}\n}\n"),
            Is.EqualTo("invalid parameter \"max_conns=x\" in t.conf:3"));
        Assert.That(ErrorOf("http {\nupstream b {\nserver 127.0.0.1:1 max_conns=2;\nqueue x;\n}\n}\n"),
            Is.EqualTo("invalid value \"x\" in \"queue\" directive in t.conf:4"));
        Assert.That(ErrorOf("http {\nupstream b {\nserver 127.0.0.1:1 max_conns=2;\nqueue 10 timeout=x;\n}\n}\n"),
            Is.EqualTo("invalid parameter \"timeout=x\" in t.conf:4"));
        Assert.That(ErrorOf("http {\nupstream b {\nserver 127.0.0.1:1 backup;\n}\n}\n"),
            Is.EqualTo("the \"backup\" parameter of the \"server\" directive is not supported yet in t.conf:3"));
        Assert.That(ErrorOf("http {\nupstream b {\nserver no-such-host.invalid:8080;\n}\n}\n"),
            Is.EqualTo("host not found in upstream \"no-such-host.invalid:8080\" in t.conf:3"));
        Assert.That(ErrorOf("http {\nupstream b {\nserver 127.0.0.1:;\n}\n}\n"),
            Is.EqualTo("invalid port in upstream \"127.0.0.1:\" in t.conf:3"));
        Assert.That(ErrorOf("http {\nupstream b {\nserver 127.0.0.1;\nleast_conn;\n}\n}\n"),
            Is.EqualTo("\"least_conn\" directive is not supported yet in t.conf:4"));
    }

    /// <summary><c>zone name [size]</c>: nginx 1.22's words for each (checked against <c>nginx -t</c>); the zero-size
    /// error, which nginx gives without a place when it creates the zones, names the zone's first declaration.</summary>
    [TestCase("zone;", "invalid number of arguments in \"zone\" directive in t.conf:4")]
    [TestCase("zone a 64k 1;", "invalid number of arguments in \"zone\" directive in t.conf:4")]
    [TestCase("zone \"\" 64k;", "invalid zone name \"\" in t.conf:4")]
    [TestCase("zone a x;", "invalid zone size \"x\" in t.conf:4")]
    [TestCase("zone a 4k;", "zone \"a\" is too small in t.conf:4")]
    [TestCase("zone a;", "zero size shared memory zone \"a\" in t.conf:4")]
    [TestCase("zone a 64k;\n}\nupstream c {\nserver 127.0.0.1:2;\nzone a 128k;",
        "the size 131072 of shared memory zone \"a\" conflicts with already declared size 65536 in t.conf:8")]
    [TestCase("zone a;\n}\nupstream c {\nserver 127.0.0.1:2;\nzone A;", "zero size shared memory zone \"a\" in t.conf:4")]
    public void ZoneErrors(string line, string expected) =>
        Assert.That(ErrorOf("http {\nupstream b {\nserver 127.0.0.1:1 max_conns=2;\n" + line + "\n}\n}\n"), Is.EqualTo(expected));

    [Test]
    public void MultiLineDirectiveIsReportedAtItsTerminator()
    {
        // nginx names the line where it read ";" (its current line), not where the directive began.
        Assert.That(ErrorOf("worker_processes\n  many\n  ;\n"), Is.EqualTo("\"worker_processes\" directive invalid value in t.conf:3"));
    }

    [Test]
    public void FileIsNamedAsGiven()
    {
        var e = Assert.Throws<RawKeepalive.Config.ConfigException>(() =>
            RawKeepalive.Config.ConfigLoader.LoadText("bogus;\n", "conf/rawkeepalive.conf", "/prefix"))!;
        Assert.That(e.Message, Is.EqualTo("unknown directive \"bogus\" in conf/rawkeepalive.conf:1"));
    }
}
