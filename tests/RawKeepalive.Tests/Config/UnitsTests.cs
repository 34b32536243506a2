using NUnit.Framework;
using RawKeepalive.Config;

namespace RawKeepalive.Tests.Config;

[TestFixture, CancelAfter(60_000)]
public class UnitsTests
{
    [TestCase("0", 0L)]
    [TestCase("30", 30_000L)]
    [TestCase("65s", 65_000L)]
    [TestCase("500ms", 500L)]
    [TestCase("1m", 60_000L)]
    [TestCase("1h30m", 5_400_000L)]
    [TestCase("1h 30m", 5_400_000L)]
    [TestCase("1h30", 3_630_000L)]
    [TestCase("2d", 172_800_000L)]
    [TestCase("1w", 604_800_000L)]
    [TestCase("1M", 2_592_000_000L)]
    [TestCase("1y", 31_536_000_000L)]
    [TestCase("1s500ms", 1_500L)]
    public void Times(string text, long expectedMs)
    {
        Assert.That(Units.TryParseTimeMs(text, out long ms), Is.True);
        Assert.That(ms, Is.EqualTo(expectedMs));
    }

    [TestCase("")]
    [TestCase("abc")]
    [TestCase("5x")]
    [TestCase("30m1h")]     // units must go from largest to smallest
    [TestCase("1s1s")]
    [TestCase("-5s")]
    [TestCase("s")]
    [TestCase("99999999999999999999")]
    public void BadTimes(string text) => Assert.That(Units.TryParseTimeMs(text, out _), Is.False);

    [Test]
    public void SecondsRefuseMilliseconds()
    {
        Assert.That(Units.TryParseTimeSeconds("90", out long s) && s == 90, Is.True);
        Assert.That(Units.TryParseTimeSeconds("1m30s", out s) && s == 90, Is.True);
        Assert.That(Units.TryParseTimeSeconds("500ms", out _), Is.False);
    }

    [TestCase("0", 0L)]
    [TestCase("1024", 1024L)]
    [TestCase("8k", 8192L)]
    [TestCase("8K", 8192L)]
    [TestCase("1m", 1_048_576L)]
    [TestCase("10M", 10_485_760L)]
    [TestCase("2g", 2_147_483_648L)]
    public void Sizes(string text, long expected)
    {
        Assert.That(Units.TryParseSize(text, out long bytes), Is.True);
        Assert.That(bytes, Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("k")]
    [TestCase("1t")]
    [TestCase("1.5m")]
    [TestCase("1 m")]
    public void BadSizes(string text) => Assert.That(Units.TryParseSize(text, out _), Is.False);
}
