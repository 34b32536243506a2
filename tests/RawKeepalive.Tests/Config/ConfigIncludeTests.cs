using NUnit.Framework;
using RawKeepalive.Config;

namespace RawKeepalive.Tests.Config;

[TestFixture, CancelAfter(60_000)]
public class ConfigIncludeTests
{
    [Test]
    public void GlobIncludesAreSplicedInSortedOrderRelativeToTheConfigDirectory()
    {
        using var dir = new TempDir();
        dir.Write("conf.d/b.conf", "server { listen 8082; }\n");
        dir.Write("conf.d/a.conf", "upstream app { server 127.0.0.1:9000; }\nserver { listen 8081; location / { proxy_pass http://app; } }\ninclude nested/*.conf;\n");
        dir.Write("conf.d/.hidden.conf", "bogus;\n");
        dir.Write("conf.d/c.txt", "bogus;\n");
        dir.Write("nested/x.conf", "keepalive_defaults legacy;\n");
        dir.Write("none.d/keep", "");
        string main = dir.Write("rk.conf", "events {}\nhttp {\n    include conf.d/*.conf;\n    include none.d/*.conf;\n}\n");

        var config = ConfigLoader.Load(main, dir.Path);
        Assert.That(config.Http.Servers.Select(s => s.Listens[0].EndPoint.Port), Is.EqualTo(new[] { 8081, 8082 }));
        Assert.That(config.Http.LegacyKeepaliveDefaults, Is.True);
        Assert.That(config.Http.Upstreams.Single().File, Is.EqualTo(Path.Combine(dir.Path, "conf.d/a.conf")));
        Assert.That(config.Http.Servers[0].Locations[0].Line, Is.EqualTo(2));
    }

    [Test]
    public void ErrorsNameTheIncludedFile()
    {
        using var dir = new TempDir();
        dir.Write("sites/api.conf", "server {\n    listen 443 ssl;\n}\n");
        string main = dir.Write("rk.conf", "events {}\nhttp {\n    include sites/*.conf;\n}\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(main, dir.Path))!;
        Assert.That(e.Message, Is.EqualTo($"the \"ssl\" parameter of the \"listen\" directive is not supported yet in {dir.Path}/sites/api.conf:2"));
    }

    [Test]
    public void IncludedFilesAreCheckedInTheIncludingContextAndShareItsDuplicates()
    {
        using var dir = new TempDir();
        dir.Write("events.conf", "worker_connections 10;\n");
        string main = dir.Write("rk.conf", "events {\n include events.conf;\n worker_connections 20;\n}\n");
        Assert.That(Assert.Throws<ConfigException>(() => ConfigLoader.Load(main, dir.Path))!.Message,
            Is.EqualTo($"\"worker_connections\" directive is duplicate in {main}:3"));

        dir.Write("bad.conf", "listen 80;\n");
        string misplaced = dir.Write("rk2.conf", "http {\n include bad.conf;\n}\n");
        Assert.That(Assert.Throws<ConfigException>(() => ConfigLoader.Load(misplaced, dir.Path))!.Message,
            Is.EqualTo($"\"listen\" directive is not allowed here in {dir.Path}/bad.conf:1"));

        dir.Write("brace.conf", "}\n");
        string unbalanced = dir.Write("rk3.conf", "http {\n include brace.conf;\n}\n");
        Assert.That(Assert.Throws<ConfigException>(() => ConfigLoader.Load(unbalanced, dir.Path))!.Message,
            Is.EqualTo($"unexpected \"}}\" in {dir.Path}/brace.conf:1"));
    }

    [Test]
    public void MissingPlainIncludeIsAnError()
    {
        using var dir = new TempDir();
        string main = dir.Write("rk.conf", "events {}\n\ninclude missing.conf;\n");
        Assert.That(Assert.Throws<ConfigException>(() => ConfigLoader.Load(main, dir.Path))!.Message,
            Is.EqualTo($"open() \"{dir.Path}/missing.conf\" failed (2: No such file or directory) in {main}:3"));
    }

    [Test]
    public void MissingMainFileIsAnError()
    {
        using var dir = new TempDir();
        string main = Path.Combine(dir.Path, "absent.conf");
        Assert.That(Assert.Throws<ConfigException>(() => ConfigLoader.Load(main, dir.Path))!.Message,
            Is.EqualTo($"open() \"{main}\" failed (2: No such file or directory)"));
    }

    [Test]
    public void IncludeCycleIsReported()
    {
        using var dir = new TempDir();
        string main = dir.Write("rk.conf", "include rk.conf;\n");
        Assert.That(Assert.Throws<ConfigException>(() => ConfigLoader.Load(main, dir.Path))!.Message,
            Does.StartWith("include nesting is deeper than 32"));
    }

    [Test]
    public void RelativePathsAreUnderThePrefix()
    {
        using var dir = new TempDir();
        string main = dir.Write("conf/rk.conf", "pid logs/x.pid;\nerror_log logs/e.log;\n");
        var config = ConfigLoader.Load(main, dir.Path);
        Assert.That(config.PidPath, Is.EqualTo(Path.Combine(dir.Path, "logs/x.pid")));
        Assert.That(config.ErrorLogPath, Is.EqualTo(Path.Combine(dir.Path, "logs/e.log")));
        Assert.That(config.ConfigFile, Is.EqualTo(main));
    }
}
