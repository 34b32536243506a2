using System.Net;
using NUnit.Framework;
using RawKeepalive.Config;
using static RawKeepalive.Tests.Config.ConfigText;

namespace RawKeepalive.Tests.Config;

/// <summary>log_format, access_log and error_log as ngx_http_log_module, ngx_log.c and ngx_syslog.c read
/// them: values, nginx's inheritance and defaults, and every error with nginx's wording and FILE:LINE.</summary>
[TestFixture, CancelAfter(60_000)]
public class LogConfigTests
{
    private static LocationConfig Location(ProxyConfig config, string path) =>
        config.Http.Servers.SelectMany(s => s.Locations).Single(l => l.Path == path);

    private static string[] Files(AccessLogList list) => [.. list.Logs.Select(l => l.Path ?? l.Written)];

    [Test]
    public void WithNoAccessLogAnywhere_NginxDefaultIsUsed()
    {
        var location = OnlyLocation(LoadHttp("server { location / { return 200; } }"));
        var log = location.AccessLogs.Logs.Single();
        Assert.That((log.Path, log.Format.Name, log.BufferSize), Is.EqualTo(("/prefix/logs/access.log", "combined", 0)));
        Assert.That(log.Format.Template.Source, Is.EqualTo(LogFormat.CombinedSource));
    }

    [Test]
    public void ALevelWithAnyAccessLogReplacesTheInheritedList_AndOffCancels()
    {
        var config = LoadHttp("""
            access_log logs/http.log;
            access_log logs/http2.log;
            server {
                location /inherits { return 200; }
                location /own { access_log logs/own.log; return 200; }
                location /off { access_log off; return 200; }
            }
            server {
                listen 81;
                access_log off;
                location /quiet { return 200; }
                location /loud { access_log /abs/loud.log; return 200; }
            }
            """);
        Assert.Multiple(() =>
        {
            Assert.That(Files(Location(config, "/inherits").AccessLogs), Is.EqualTo(new[] { "/prefix/logs/http.log", "/prefix/logs/http2.log" }));
            Assert.That(Files(Location(config, "/own").AccessLogs), Is.EqualTo(new[] { "/prefix/logs/own.log" }));
            Assert.That(Location(config, "/off").AccessLogs.Logs, Is.Empty);
            Assert.That(Location(config, "/quiet").AccessLogs.Logs, Is.Empty);
            Assert.That(Files(Location(config, "/loud").AccessLogs), Is.EqualTo(new[] { "/abs/loud.log" }));
            Assert.That(Files(config.Http.Servers[0].AccessLogs), Has.Length.EqualTo(2), "the server level's, for requests without a location");
        });
        // Levels that inherit share one list; the worker finds its writers by Id.
        Assert.That(Location(config, "/inherits").AccessLogs, Is.SameAs(config.Http.Servers[0].AccessLogs));
        var lists = config.Http.AccessLogLists;
        Assert.That(lists.Select(l => l.Id), Is.EqualTo(Enumerable.Range(0, lists.Count)));
        Assert.That(lists, Does.Contain(Location(config, "/loud").AccessLogs));
    }

    [Test]
    public void FormatsParametersAndEscaping()
    {
        var config = LoadHttp("""
            log_format main escape=json '{"ip":"$remote_addr",'
                                        '"ua":"$http_user_agent"}';
            log_format plain '$status' ' ' "$request_time";
            server {
                access_log logs/a.log MAIN buffer=32k flush=5s gzip=6 if=$arg_log;
                access_log logs/b.log plain gzip;
                access_log logs/$host.log plain;
                location / { return 200; }
            }
            """);
        var logs = OnlyLocation(config).AccessLogs.Logs;
        Assert.That(logs[0].Format.Name, Is.EqualTo("main"), "format names are looked up case-insensitively");
        Assert.That(logs[0].Format.Escape, Is.EqualTo(LogEscape.Json));
        Assert.That(logs[0].Format.Template.Source, Is.EqualTo("{\"ip\":\"$remote_addr\",\"ua\":\"$http_user_agent\"}"), "strings are concatenated");
        Assert.That((logs[0].BufferSize, logs[0].FlushMs, logs[0].GzipLevel), Is.EqualTo((32 * 1024, 5000L, 6)));
        Assert.That(logs[0].Condition!.Segments.Single().Variable, Is.EqualTo(Variable.Arg));
        Assert.That((logs[1].BufferSize, logs[1].GzipLevel), Is.EqualTo((64 * 1024, 1)), "gzip alone: level 1 and a 64k buffer, as nginx");
        Assert.That(logs[2].Path, Is.Null);
        Assert.That((logs[2].PathTemplate!.Source, logs[2].PathPrefix), Is.EqualTo(("logs/$host.log", "/prefix")));
        Assert.That(config.Http.LogFormats.Select(f => f.Name), Is.EqualTo(new[] { "main", "plain" }));
    }

    [Test]
    public void ResponseHeaderNamesAreKnownAtLoad_OneSlotEach()
    {
        var config = LoadHttp("""
            log_format a '$sent_http_x_cache $upstream_http_server $sent_http_X_Cache';
            server { location / { proxy_set_header X-Up $upstream_http_x_id; return 200; } }
            """);
        var captures = config.Http.Captures;
        Assert.That(Enumerable.Range(0, captures.Count).Select(i => (captures.IsUpstream(i), System.Text.Encoding.ASCII.GetString(captures.Name(i)))),
            Is.EqualTo(new[] { (false, "x_cache"), (true, "server"), (true, "x_id") }));
        var segments = config.Http.LogFormats.Single().Template.Segments.Where(s => !s.IsLiteral).ToArray();
        Assert.That(segments.Select(s => s.Slot), Is.EqualTo(new[] { 0, 1, 0 }));
        Assert.That(captures.BufferBytes, Is.EqualTo(3 * HeaderCaptures.BytesPerName));
    }

    [Test]
    public void SyslogDestinations()
    {
        var log = OnlyLocation(LoadHttp(
            "server { access_log syslog:server=127.0.0.1:5140,facility=local3,severity=notice,tag=edge_1,nohostname; location / { return 200; } }"))
            .AccessLogs.Logs.Single();
        var s = log.Syslog!;
        Assert.That((s.Server, s.Facility, s.Severity, s.Tag, s.NoHostname),
            Is.EqualTo((new IPEndPoint(IPAddress.Loopback, 5140), 19, 5, "edge_1", true)));
        var defaults = Load("error_log syslog:server=[::1] warn;\n").ErrorLogs.Single();
        Assert.That((defaults.Syslog!.Server, defaults.Syslog.Facility, defaults.Syslog.Tag, defaults.Level),
            Is.EqualTo((new IPEndPoint(IPAddress.IPv6Loopback, 514), 23, "nginx", "warn")));
    }

    [Test]
    public void SeveralErrorLogs_AtEveryLevel()
    {
        var config = Load("""
            error_log logs/e.log;
            error_log stderr debug;
            events {}
            http {
                error_log logs/http.log warn;
                server {
                    location / { error_log /abs/loc.log info; error_log logs/loc2.log crit; return 200; }
                    location /b { return 200; }
                }
            }
            """);
        Assert.That(config.ErrorLogs.Select(e => (e.Path, e.Level)),
            Is.EqualTo(new[] { ("/prefix/logs/e.log", "error"), ("stderr", "debug") }));
        Assert.That((config.ErrorLogPath, config.ErrorLogLevel), Is.EqualTo(("/prefix/logs/e.log", "error")));
        Assert.That(Location(config, "/").ErrorLogs!.Select(e => (e.Path, e.Level)),
            Is.EqualTo(new[] { ("/abs/loc.log", "info"), ("/prefix/logs/loc2.log", "crit") }));
        Assert.That(Location(config, "/b").ErrorLogs!.Single().Path, Is.EqualTo("/prefix/logs/http.log"));
        Assert.That(Load("events {}\n").ErrorLogs.Single().Path, Is.EqualTo("/prefix/logs/error.log"));
    }

    [Test]
    public void ErrorLogFromTheEnvironment_ReplacesEveryErrorLogOfTheFile()
    {
        var c = ConfigLoader.LoadText("error_log logs/a.log;\nerror_log logs/b.log;\n", FileName, "/prefix",
            new LoadOptions { Environment = name => name == "RAWKEEPALIVE_ERROR_LOG" ? "stderr notice" : null });
        Assert.That(c.ErrorLogs.Select(e => (e.Path, e.Level)), Is.EqualTo(new[] { ("stderr", "notice") }));
    }

    // Line 5 is the line under test (see ServerLevel).
    [TestCase("access_log logs/a.log nosuch;", "unknown log format \"nosuch\" in t.conf:5")]
    [TestCase("access_log off logs/a.log;", "invalid parameter \"logs/a.log\" in t.conf:5")]
    [TestCase("access_log logs/a.log combined buffer=0;", "invalid buffer size \"0\" in t.conf:5")]
    [TestCase("access_log logs/a.log combined buffer=lots;", "invalid buffer size \"lots\" in t.conf:5")]
    [TestCase("access_log logs/a.log combined buffer=4k flush=0;", "invalid flush time \"0\" in t.conf:5")]
    [TestCase("access_log logs/a.log combined gzip=10;", "invalid compression level \"10\" in t.conf:5")]
    [TestCase("access_log logs/a.log combined rotate;", "invalid parameter \"rotate\" in t.conf:5")]
    [TestCase("access_log logs/a.log combined flush=1s;", "no buffer is defined for access_log \"logs/a.log\" in t.conf:5")]
    [TestCase("access_log logs/$host.log combined buffer=4k;", "buffered logs cannot have variables in name in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1 combined buffer=4k;", "logs to syslog cannot be buffered in t.conf:5")]
    [TestCase("access_log logs/a.log combined if=$nosuch;", "unknown \"nosuch\" variable in t.conf:5")]
    [TestCase("access_log syslog:facility=local1;", "no syslog server specified in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1,server=127.0.0.2;", "duplicate syslog \"server\" in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1:99999;", "invalid port in syslog server \"127.0.0.1:99999\" in t.conf:5")]
    [TestCase("access_log syslog:server=no-such-host.invalid;", "host not found in syslog server \"no-such-host.invalid\" in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1,facility=local9;", "unknown syslog facility \"local9\" in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1,severity=err;", "unknown syslog severity \"err\" in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1,tag=a-b;", "syslog \"tag\" only allows alphanumeric characters and underscore in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1,tag=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", "syslog tag length exceeds 32 in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1,tag=a,tag=b;", "duplicate syslog \"tag\" in t.conf:5")]
    [TestCase("access_log syslog:server=127.0.0.1,loud;", "unknown syslog parameter \"loud\" in t.conf:5")]
    [TestCase("error_log logs/e.log loud;", "invalid log level \"loud\" in t.conf:5")]
    [TestCase("error_log logs/e.log warn info;", "duplicate log level \"info\" in t.conf:5")]
    [TestCase("error_log memory:32m debug;", "the \"memory\" parameter of the \"error_log\" directive is not supported yet in t.conf:5")]
    public void ServerLevelErrors(string line, string expected) =>
        Assert.That(ErrorOf("events {}\nhttp {\n\nserver {\n" + line + "\n}\n}\n"), Is.EqualTo(expected));

    [TestCase("log_format combined '$status';", "duplicate \"log_format\" name \"combined\" in t.conf:3")]
    [TestCase("log_format a '$status';\nlog_format a '$uri';", "duplicate \"log_format\" name \"a\" in t.conf:4")]
    [TestCase("log_format a escape=xml '$status';", "unknown log format escaping \"xml\" in t.conf:3")]
    [TestCase("log_format a 'cost: $';", "invalid parameter \"$\" in t.conf:3")]
    [TestCase("log_format a '$ x';", "invalid parameter \"$ x\" in t.conf:3")]
    [TestCase("log_format a '${status';", "the closing bracket in \"status\" variable is missing in t.conf:3")]
    [TestCase("log_format a '$nosuch';", "unknown \"nosuch\" variable in t.conf:3")]
    [TestCase("log_format a;", "invalid number of arguments in \"log_format\" directive in t.conf:3")]
    [TestCase("access_log logs/a.log later;\nlog_format later '$status';", "unknown log format \"later\" in t.conf:3")]
    [TestCase("access_log logs/a.log combined buffer=4k;\naccess_log logs/a.log combined buffer=8k;",
        "access_log \"logs/a.log\" already defined with conflicting parameters in t.conf:4")]
    [TestCase("log_format a '$status';\nserver { location / { log_format b '$uri'; } }", "\"log_format\" directive is not allowed here in t.conf:4")]
    public void HttpLevelErrors(string lines, string expected) =>
        Assert.That(ErrorOf("events {}\nhttp {\n" + lines + "\n}\n"), Is.EqualTo(expected));

    [Test]
    public void SameFileMayBeNamedAgain_WithTheSameBufferOrNone()
    {
        var config = LoadHttp("""
            access_log logs/a.log combined buffer=4k flush=1s;
            server { access_log logs/a.log; access_log logs/a.log combined buffer=4k flush=1s; location / { return 200; } }
            """);
        Assert.That(OnlyLocation(config).AccessLogs.Logs, Has.Count.EqualTo(2));
    }
}
