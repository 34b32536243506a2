using System.Text;
using NUnit.Framework;
using RawKeepalive.Http;

namespace RawKeepalive.Tests.Http;

[TestFixture, CancelAfter(60_000)]
public class HeadLimitsTests
{
    private static int Check(string head, int max) => HeadLimits.OversizedLine(Encoding.ASCII.GetBytes(head), max);

    [TestCase("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 20, ExpectedResult = 0)]
    [TestCase("GET /aaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: x\r\n\r\n", 20, ExpectedResult = 414)]
    [TestCase("GET /aaaaaaaaaaaaaaaaaaaa", 20, ExpectedResult = 414, TestName = "AnUnfinishedRequestLineCountsAsItStands")]
    [TestCase("GET / HTTP/1.1\r\nCookie: aaaaaaaaaaaaaaaaaaaa\r\n\r\n", 20, ExpectedResult = 431)]
    [TestCase("GET / HTTP/1.1\r\nCookie: aaaaaaaaaaaaaaaaaaaa", 20, ExpectedResult = 431, TestName = "AnUnfinishedHeaderLineCountsAsItStands")]
    [TestCase("\r\n\r\nGET /aaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n", 20, ExpectedResult = 414, TestName = "EmptyLinesBeforeTheRequestLineAreSkipped")]
    [TestCase("GET / HTTP/1.1\r\nA: 12345678901234567\r\n\r\n", 20, ExpectedResult = 0, TestName = "ALineOfExactlyTheLimitIsAllowed")]
    [TestCase("GET / HTTP/1.1\r\nA: 123456789012345678\r\n\r\n", 20, ExpectedResult = 431, TestName = "OneByteOverTheLimitIsNot")]
    public int OversizedLine(string head, int max) => Check(head, max);
}
