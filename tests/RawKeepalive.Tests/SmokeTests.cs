using NUnit.Framework;

namespace RawKeepalive.Tests;

[TestFixture, CancelAfter(60_000)]
public class SmokeTests
{
    [Test]
    public void Builds() => Assert.That(typeof(RawKeepalive.Program).Assembly.GetName().Name, Is.EqualTo("rawkeepalive"));
}
