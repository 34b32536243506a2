using NUnit.Framework;
using static RawKeepalive.Tests.Config.ConfigText;

namespace RawKeepalive.Tests.Config;

/// <summary>Issue 14's directives: <c>metrics</c> in a location, <c>keepalive_doctor</c> and
/// <c>keepalive_doctor_interval</c> in http, with their defaults and nginx-worded errors.</summary>
[TestFixture, CancelAfter(60_000)]
public sealed class MetricsConfigTests
{
    private const string Server = "upstream b { server 127.0.0.1:8080; }\nserver { listen 8000;\n";

    [Test]
    public void Defaults_DoctorOnEverySixtySeconds()
    {
        var http = LoadHttp("").Http;
        Assert.That((http.KeepaliveDoctor, http.KeepaliveDoctorIntervalMs), Is.EqualTo((true, 60_000L)));
        http = LoadHttp("keepalive_doctor off;\nkeepalive_doctor_interval 1500ms;").Http;
        Assert.That((http.KeepaliveDoctor, http.KeepaliveDoctorIntervalMs), Is.EqualTo((false, 1_500L)));
    }

    [Test]
    public void AMetricsLocation()
    {
        Assert.That(OnlyLocation(LoadHttp(Server + "location /m { metrics; }\n}")).Metrics, Is.True);
        Assert.That(OnlyLocation(LoadHttp(Server + "location /m { stub_status; }\n}")).Metrics, Is.False);
    }

    [TestCase("keepalive_doctor maybe;", "invalid value \"maybe\" in \"keepalive_doctor\" directive, it must be \"on\" or \"off\" in t.conf:3")]
    [TestCase("keepalive_doctor_interval 0;", "\"keepalive_doctor_interval\" directive invalid value in t.conf:3")]
    [TestCase("keepalive_doctor_interval soon;", "\"keepalive_doctor_interval\" directive invalid value in t.conf:3")]
    [TestCase("keepalive_doctor on;\nkeepalive_doctor off;", "\"keepalive_doctor\" directive is duplicate in t.conf:4")]
    [TestCase(Server + "keepalive_doctor off;\n}", "\"keepalive_doctor\" directive is not allowed here in t.conf:5")]
    [TestCase(Server + "location /m { metrics on; }\n}", "invalid number of arguments in \"metrics\" directive in t.conf:5")]
    [TestCase(Server + "location /m { metrics; stub_status; }\n}", "\"metrics\" and \"stub_status\" in one location in t.conf:5")]
    [TestCase(Server + "metrics;\n}", "\"metrics\" directive is not allowed here in t.conf:5")]
    public void Errors(string httpBody, string expected) => Assert.That(ErrorOf(WrapHttp(httpBody)), Is.EqualTo(expected));
}
