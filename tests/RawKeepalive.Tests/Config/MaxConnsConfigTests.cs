using NUnit.Framework;
using static RawKeepalive.Tests.Config.ConfigText;

namespace RawKeepalive.Tests.Config;

/// <summary>What <c>max_conns</c>, <c>queue</c> and <c>zone</c> load as (their errors: <see cref="ConfigErrorTests"/>).</summary>
[TestFixture, CancelAfter(60_000)]
public class MaxConnsConfigTests
{
    [Test]
    public void MaxConnsQueueAndZone_Load()
    {
        var u = LoadHttp("upstream b {\nserver 127.0.0.1:1 max_conns=2;\nserver 127.0.0.1:2;\nqueue 8 timeout=5s;\nzone b 64k;\n}").Http.Upstreams.Single();
        Assert.Multiple(() =>
        {
            Assert.That(u.Servers.Select(s => s.MaxConns), Is.EqualTo(new[] { 2, 0 }));
            Assert.That(u.Queue, Is.EqualTo(8));
            Assert.That(u.QueueTimeoutMs, Is.EqualTo(5_000));
            Assert.That(u.Zone, Is.EqualTo("b"));
        });
    }

    [Test]
    public void WithoutZone_MaxConnsCountsPerWorker()
    {
        var u = LoadHttp("upstream b { server 127.0.0.1:1 max_conns=2; }").Http.Upstreams.Single();
        Assert.That(u.Zone, Is.Null);
    }

    /// <summary>As in nginx: several groups may share a zone, its size given once; a second zone line in a block replaces the first.</summary>
    [Test]
    public void AZoneSharedByTwoUpstreams_NeedsItsSizeOnce()
    {
        var all = LoadHttp("upstream b { server 127.0.0.1:1 max_conns=2; zone shared; }\n" +
            "upstream c { server 127.0.0.1:2 max_conns=4; zone shared 32k; }\n" +
            "upstream d { server 127.0.0.1:3; zone first 64k; zone second 64k; }").Http.Upstreams;
        Assert.That(all.Select(u => u.Zone), Is.EqualTo(new[] { "shared", "shared", "second" }));
    }
}
