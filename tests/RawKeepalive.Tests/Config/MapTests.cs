using System.Text;
using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Proxy;
using static RawKeepalive.Tests.Config.ConfigText;
using RawKeepalive.Transforms;

namespace RawKeepalive.Tests.Config;

/// <summary>map blocks as ngx_http_map_module documents them: parsing, errors and lookup order.</summary>
[TestFixture, CancelAfter(30_000)]
public class MapTests
{
    private static MapConfig OnlyMap(string httpBody) => LoadHttp(httpBody).Http.Maps.Single();

    private static string Lookup(MapConfig map, string source) =>
        MapRuntime.Find(map, Encoding.ASCII.GetBytes(source)).Source;

    [Test]
    public void StringsRegexesAndDefault_InNginxOrder()
    {
        var map = OnlyMap("""
            map $uri $kind {
                default      other;
                /exact       exact;
                ~^/api/      api;
                ~*\.JPG$     image;
                ~^/api/v2    never;          # a later regex never beats an earlier match
                \~tilde      escaped;
                ""           empty;
            }
            """);
        Assert.Multiple(() =>
        {
            Assert.That(map.Name, Is.EqualTo("kind"));
            Assert.That(map.Source.Source, Is.EqualTo("$uri"));
            Assert.That(Lookup(map, "/exact"), Is.EqualTo("exact"));
            Assert.That(Lookup(map, "/EXACT"), Is.EqualTo("exact"));          // strings ignore case
            Assert.That(Lookup(map, "/api/v2/x"), Is.EqualTo("api"));
            Assert.That(Lookup(map, "/API/x"), Is.EqualTo("other"));          // "~" is case-sensitive
            Assert.That(Lookup(map, "/a/b.jpg"), Is.EqualTo("image"));        // "~*" is not
            Assert.That(Lookup(map, "~tilde"), Is.EqualTo("escaped"));
            Assert.That(Lookup(map, ""), Is.EqualTo("empty"));
            Assert.That(Lookup(map, "/nothing"), Is.EqualTo("other"));
        });
    }

    [Test]
    public void Hostnames_MasksAndTrailingDot()
    {
        var map = OnlyMap("""
            map $host $site {
                hostnames;
                volatile;
                example.com        exact;
                *.example.com      star;
                *.a.example.com    longer-star;
                www.example.*      www-star;
            }
            """);
        Assert.Multiple(() =>
        {
            Assert.That(Lookup(map, "EXAMPLE.com."), Is.EqualTo("exact"));
            Assert.That(Lookup(map, "b.example.com"), Is.EqualTo("star"));
            Assert.That(Lookup(map, "x.a.example.com"), Is.EqualTo("longer-star"));
            Assert.That(Lookup(map, "www.example.org"), Is.EqualTo("www-star"));
            Assert.That(Lookup(map, "elsewhere"), Is.EqualTo(""));           // no default: empty
        });
    }

    [Test]
    public void MapVariable_UsableBeforeTheMapIsDefined_AndMapsOfMaps()
    {
        var config = LoadHttp("""
            server { listen 80; location / { proxy_set_header X-Kind $kind; return 200 $kind; } }
            map $inner $kind { default outer-$inner; }
            map $http_x_test $inner { default inner; }
            """);
        var segment = config.Http.Servers[0].Locations[0].Return!.Text!.Segments.Single();
        Assert.That(segment.Variable, Is.EqualTo(Variable.Map));
        Assert.That(segment.Map!.Name, Is.EqualTo("kind"));
        Assert.That(config.Http.Maps.Select(m => m.Name), Is.EqualTo(new[] { "kind", "inner" }));
    }

    [TestCase("map $a b { }", "invalid variable name \"b\" in t.conf:3")]
    [TestCase("map $a $host { }", "the duplicate \"host\" variable in t.conf:3")]
    [TestCase("map $a $x { }\nmap $b $x { }", "the duplicate \"x\" variable in t.conf:4")]
    [TestCase("map $uri $x {\n k v w;\n}", "invalid number of the map parameters in t.conf:4")]
    [TestCase("map $uri $x {\n k v;\n K w;\n}", "conflicting parameter \"K\" in t.conf:5")]
    [TestCase("map $uri $x {\n default v;\n default w;\n}", "duplicate default map parameter in t.conf:5")]
    [TestCase("map $uri $x {\n ~(a v;\n}", "pcre2_compile() failed: insufficient closing parentheses in \"(a\" at \"\" in t.conf:4")]
    [TestCase("map $uri $x {\n ~(a)b $1;\n}", "the \"$1\" variable (a regex capture) is not supported yet in t.conf:4")]
    [TestCase("map $uri $x {\n k $nosuch;\n}", "unknown \"nosuch\" variable in t.conf:4")]
    [TestCase("map $a $x { k v; }\nserver { map $a $y { } }", "\"map\" directive is not allowed here in t.conf:4")]
    public void Errors_AreWordedAsNginx(string httpBody, string expected) =>
        Assert.That(ErrorOf(WrapHttp(httpBody)), Is.EqualTo(expected));

    [Test]
    public void Include_InsideMap()
    {
        using var dir = new TempDir();
        dir.Write("conf/map.inc", "/a one;\n/b two;\n");
        string main = dir.Write("conf/t.conf", WrapHttp("map $uri $n { include map.inc; default zero; }"));
        var map = ConfigLoader.Load(main, dir.Path).Http.Maps.Single();
        Assert.That(Lookup(map, "/b"), Is.EqualTo("two"));
    }
}
