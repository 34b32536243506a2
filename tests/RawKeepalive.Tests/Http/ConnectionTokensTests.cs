using NUnit.Framework;
using RawKeepalive.Http;
using static RawKeepalive.Tests.Http.HttpText;

namespace RawKeepalive.Tests.Http;

[TestFixture, CancelAfter(60_000)]
public class ConnectionTokensTests
{
    [TestCase("close, X-Secret", "x-secret", true)]
    [TestCase("X-Secret", "X-SECRET", true)]
    [TestCase(" keep-alive ,\tX-A\t, X-B ", "x-b", true)]
    [TestCase("keep-alive, X-A", "X-B", false)]
    [TestCase("X-Ab", "X-A", false)]
    [TestCase("X-A", "X-Ab", false)]
    [TestCase("", "X-A", false)]
    [TestCase(",,", "X-A", false)]
    [TestCase("upgrade", "Upgrade", true)]
    public void ConnectionNames(string value, string header, bool expected) =>
        Assert.That(ConnectionTokens.ConnectionNames(Bytes(value), Bytes(header)), Is.EqualTo(expected));
}
