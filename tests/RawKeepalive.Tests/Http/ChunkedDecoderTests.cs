using System.Text;
using NUnit.Framework;
using RawKeepalive.Http;
using static RawKeepalive.Tests.Http.HttpText;

namespace RawKeepalive.Tests.Http;

[TestFixture, CancelAfter(60_000)]
public class ChunkedDecoderTests
{
    private const string Wikipedia = "4\r\nWiki\r\n7\r\npedia i\r\nB\r\nn \r\nchunks.\r\n0\r\n\r\n";

    /// <summary>Feeds <paramref name="body"/> in pieces whose sizes <paramref name="next"/> picks, the way a
    /// receive loop does: unconsumed bytes stay at the front of the next piece.</summary>
    private static (ChunkStatus Status, string Data, int End) Feed(byte[] body, Func<int> next)
    {
        var decoder = new ChunkedDecoder();
        var data = new StringBuilder();
        int offset = 0, available = 0;
        while (true)
        {
            available = Math.Min(body.Length, available + next());
            var status = decoder.Decode(body.AsSpan(offset, available - offset), out int consumed, out int start, out int length);
            if (status == ChunkStatus.Data)
            {
                Assert.That(consumed, Is.EqualTo(start + length));
                Assert.That(length, Is.GreaterThan(0));
                data.Append(Encoding.Latin1.GetString(body, offset + start, length));
                offset += consumed;
                available = Math.Max(available - next(), offset); // sometimes decode again before more arrives
                continue;
            }
            if (status == ChunkStatus.NeedMore)
            {
                Assert.That(consumed, Is.EqualTo(available - offset));
                offset += consumed;
                if (available == body.Length) return (status, data.ToString(), offset);
                continue;
            }
            if (status == ChunkStatus.Done) Assert.That(decoder.IsDone, Is.True);
            return (status, data.ToString(), offset + consumed);
        }
    }

    private static (ChunkStatus Status, string Data, int End) FeedAll(byte[] body) => Feed(body, () => body.Length);

    [Test]
    public void DecodesWholeBody()
    {
        var b = Bytes(Wikipedia + "GET / HTTP/1.1\r\n");
        var (status, data, end) = FeedAll(b);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(ChunkStatus.Done));
            Assert.That(data, Is.EqualTo("Wikipedia in \r\nchunks."));
            Assert.That(end, Is.EqualTo(Wikipedia.Length), "bytes after the body are not consumed");
        });
    }

    [Test]
    public void DataRunsPointIntoTheInput()
    {
        var b = Bytes("5\r\nhello\r\n0\r\n\r\n");
        var d = new ChunkedDecoder();
        Assert.That(d.Decode(b, out int consumed, out int start, out int length), Is.EqualTo(ChunkStatus.Data));
        Assert.Multiple(() =>
        {
            Assert.That(start, Is.EqualTo(3));
            Assert.That(length, Is.EqualTo(5));
            Assert.That(consumed, Is.EqualTo(8));
        });
        Assert.That(d.Decode(b.AsSpan(consumed), out int rest, out _, out _), Is.EqualTo(ChunkStatus.Done));
        Assert.That(consumed + rest, Is.EqualTo(b.Length));
        Assert.That(d.IsDone, Is.True);
        Assert.That(d.Decode(b.AsSpan(b.Length), out rest, out _, out _), Is.EqualTo(ChunkStatus.Done));
        Assert.That(rest, Is.EqualTo(0));
        d.Reset();
        Assert.That(d.IsDone, Is.False);
        Assert.That(d.Skip(b, out rest), Is.EqualTo(ChunkStatus.Done));
        Assert.That(rest, Is.EqualTo(b.Length));
    }

    private static string BigBody(Random random, out string expected)
    {
        var body = new StringBuilder();
        var data = new StringBuilder();
        for (int i = 0; i < 40; i++)
        {
            int n = random.Next(1, 3000);
            string chunk = new(Enumerable.Range(0, n).Select(_ => (char)random.Next(0, 256)).ToArray());
            body.Append(n.ToString(i % 2 == 0 ? "x" : "X"));
            if (i % 5 == 1) body.Append(";name=value;q=\"a \\\"quoted\\\" \\\\ ; value\"");
            if (i % 7 == 3) body.Append(" \t; flag ; k = v");
            body.Append("\r\n").Append(chunk).Append("\r\n");
            data.Append(chunk);
        }
        body.Append("0;last\r\nX-Checksum: abc\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n");
        expected = data.ToString();
        return body.ToString();
    }

    [Test]
    public void ByteByByteAndRandomSplitsMatchWholeFeed([Values(1, 2, 3, 42, 1234)] int seed)
    {
        var random = new Random(seed);
        var b = Bytes(BigBody(random, out string expected) + "HTTP/1.1 200 OK\r\n");
        var whole = FeedAll(b);
        Assert.That(whole.Status, Is.EqualTo(ChunkStatus.Done));
        Assert.That(whole.Data, Is.EqualTo(expected));
        Assert.That(b.Length - whole.End, Is.EqualTo("HTTP/1.1 200 OK\r\n".Length));

        var byByte = Feed(b, () => 1);
        var splits = Feed(b, () => random.Next(0, 200));
        var large = Feed(b, () => random.Next(1000, 9000));
        Assert.Multiple(() =>
        {
            Assert.That(byByte, Is.EqualTo(whole));
            Assert.That(splits, Is.EqualTo(whole));
            Assert.That(large, Is.EqualTo(whole));
        });

        // Skip over arbitrary pieces reaches the same end.
        var d = new ChunkedDecoder();
        int offset = 0;
        ChunkStatus status;
        do
        {
            int n = Math.Min(random.Next(1, 500), b.Length - offset);
            status = d.Skip(b.AsSpan(offset, n), out int consumed);
            if (status == ChunkStatus.NeedMore) Assert.That(consumed, Is.EqualTo(n));
            offset += consumed;
        } while (status == ChunkStatus.NeedMore);
        Assert.That(status, Is.EqualTo(ChunkStatus.Done));
        Assert.That(offset, Is.EqualTo(whole.End));
    }

    [TestCase("0\r\n\r\n")]
    [TestCase("000\r\n\r\n")]
    [TestCase("fffffffffffffff\r\n")] // 15 digits: accepted, waiting for data
    [TestCase("1;a\r\nx\r\n0\r\n\r\n")]
    [TestCase("1;a=b;c=\"\"\r\nx\r\n0\r\n\r\n")]
    [TestCase("1 ;a\r\nx\r\n0\r\n\r\n")]
    [TestCase("1;a = \"b\" ; c\r\nx\r\n0\r\n\r\n")]
    [TestCase("0\r\nTrailer-A: 1\r\nTrailer-B:\r\n\r\n")]
    public void Accepts(string body)
    {
        var d = new ChunkedDecoder();
        Assert.That(d.Skip(Bytes(body), out int consumed), Is.Not.EqualTo(ChunkStatus.Error));
        Assert.That(consumed, Is.EqualTo(body.Length));
    }

    [TestCase("\r\n")]
    [TestCase("x\r\n")]
    [TestCase("-1\r\n")]
    [TestCase("+1\r\n")]
    [TestCase(" 1\r\n")]
    [TestCase("1 \r\nx\r\n")]
    [TestCase("1\nx\r\n")]
    [TestCase("1\r\rx\r\n")]
    [TestCase("1\r\nxy\r\n")]
    [TestCase("1\r\nx\n0\r\n\r\n")]
    [TestCase("1\r\nx\r0\r\n\r\n")]
    [TestCase("1\r\nx0\r\n\r\n")]
    [TestCase("1000000000000000\r\n")] // 16 digits
    [TestCase("ffffffffffffffff\r\n")]
    [TestCase("1;\r\nx\r\n")]
    [TestCase("1;=v\r\nx\r\n")]
    [TestCase("1;a=\r\nx\r\n")]
    [TestCase("1;a b\r\nx\r\n")]
    [TestCase("1;a=\"unterminated\r\nx\r\n")]
    [TestCase("1;a=\"x\"y\r\nx\r\n")]
    [TestCase("1;a=b c\r\nx\r\n")]
    [TestCase("1;a=\x01\r\nx\r\n")]
    [TestCase("1;a \r\nx\r\n")]
    [TestCase("0\r\nTrailer\r\n\r\n")]
    [TestCase("0\r\nBad Name: v\r\n\r\n")]
    [TestCase("0\r\n folded: v\r\n\r\n")]
    [TestCase("0\r\nX: a\0b\r\n\r\n")]
    [TestCase("0\r\nX: a\nY: b\r\n\r\n")]
    [TestCase("0\r\n\n")]
    [TestCase("0\r\n\rx")]
    public void Rejects(string body)
    {
        var b = Bytes(body);
        var d = new ChunkedDecoder();
        Assert.That(d.Skip(b, out _), Is.EqualTo(ChunkStatus.Error));
        // Byte by byte reaches the same verdict, and the error sticks.
        d.Reset();
        var status = ChunkStatus.NeedMore;
        for (int i = 0; i < b.Length && status != ChunkStatus.Error; i++) status = d.Skip(b.AsSpan(i, 1), out _);
        Assert.That(status, Is.EqualTo(ChunkStatus.Error));
        Assert.That(d.Skip(Bytes("0\r\n\r\n"), out _), Is.EqualTo(ChunkStatus.Error));
    }

    [Test]
    public void ExtensionsAreBounded()
    {
        var d = new ChunkedDecoder();
        string ok = "1;n=" + new string('v', ChunkedDecoder.MaxExtensionBytes - 3) + "\r\nx\r\n0\r\n\r\n";
        Assert.That(d.Skip(Bytes(ok), out _), Is.EqualTo(ChunkStatus.Done));
        d.Reset();
        string tooLong = "1;n=" + new string('v', ChunkedDecoder.MaxExtensionBytes) + "\r\nx\r\n0\r\n\r\n";
        Assert.That(d.Skip(Bytes(tooLong), out _), Is.EqualTo(ChunkStatus.Error));
    }

    [Test]
    public void TrailersAreBounded()
    {
        var d = new ChunkedDecoder();
        string field = "X-T: " + new string('t', 90) + "\r\n"; // 97 bytes
        string ok = "0\r\n" + string.Concat(Enumerable.Repeat(field, 84)) + "\r\n"; // 8150 bytes of trailer
        Assert.That(d.Skip(Bytes(ok), out _), Is.EqualTo(ChunkStatus.Done));
        d.Reset();
        string tooLong = "0\r\n" + string.Concat(Enumerable.Repeat(field, 85)) + "\r\n";
        Assert.That(d.Skip(Bytes(tooLong), out _), Is.EqualTo(ChunkStatus.Error));
    }

    [Test]
    public void LargestChunkSize()
    {
        var d = new ChunkedDecoder();
        var b = Bytes("fffffffffffffff\r\nabc");
        Assert.That(d.Decode(b, out int consumed, out int start, out int length), Is.EqualTo(ChunkStatus.Data));
        Assert.That((consumed, start, length), Is.EqualTo((20, 17, 3)));
        Assert.That(d.Skip(new byte[100_000], out consumed), Is.EqualTo(ChunkStatus.NeedMore));
        Assert.That(consumed, Is.EqualTo(100_000));
    }

    // --- Request trailers (ChunkedDecoder.ForRequest): RFC 9110 6.5.1 ---

    /// <summary>Every name the request decoder refuses, as the docs of IsRefusedTrailer list them.</summary>
    private static readonly string[] RefusedTrailers =
    [
        "Content-Length", "Transfer-Encoding", "Trailer", "Host", "Connection", "Keep-Alive", "Proxy-Connection", "TE",
        "Upgrade", "Expect", "Max-Forwards", "Cache-Control", "Pragma", "Range", "If-Match", "If-None-Match",
        "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Authorization", "Proxy-Authorization",
        "WWW-Authenticate", "Proxy-Authenticate", "Cookie", "Set-Cookie", "Content-Type", "Content-Encoding",
        "Content-Range", "Age", "Date", "Expires", "Location", "Retry-After", "Vary", "Warning",
    ];

    [Test]
    public void RefusedTrailerNames_AreExactlyTheListedOnes_CaseInsensitive_UnderscoreAsDash()
    {
        Assert.Multiple(() =>
        {
            foreach (string name in RefusedTrailers)
            {
                Assert.That(ChunkedDecoder.IsRefusedTrailer(Bytes(name)), Is.True, name);
                Assert.That(ChunkedDecoder.IsRefusedTrailer(Bytes(name.ToUpperInvariant())), Is.True, name.ToUpperInvariant());
                Assert.That(ChunkedDecoder.IsRefusedTrailer(Bytes(name.ToLowerInvariant().Replace('-', '_'))), Is.True, name + " with '_'");
                Assert.That(ChunkedDecoder.IsRefusedTrailer(Bytes(name + "s")), Is.False, name + "s");
                Assert.That(ChunkedDecoder.IsRefusedTrailer(Bytes("X-" + name)), Is.False, "X-" + name);
            }
            Assert.That(RefusedTrailers.Max(n => n.Length), Is.EqualTo(ChunkedDecoder.LongestRefusedTrailer));
            foreach (string allowed in new[] { "X-Checksum", "Server-Timing", "Digest", "ETag", "Content-MD5", "X-Content-Length", "T", "Hos" })
                Assert.That(ChunkedDecoder.IsRefusedTrailer(Bytes(allowed)), Is.False, allowed);
        });
    }

    /// <summary>A refused trailer is an Error that consumes nothing of its line: the bytes before it
    /// (the data, the last chunk, any allowed trailer before it) are all that is ever sendable.</summary>
    [TestCase("Content-Length: 5")]
    [TestCase("transfer-encoding: chunked")]
    [TestCase("Host: evil.example")]
    [TestCase("Authorization: Basic YTpi")]
    [TestCase("Content_Type: text/html")]
    [TestCase("TE:")]
    public void RequestDecoder_RefusedTrailer_IsAnErrorAtTheStartOfItsLine(string field)
    {
        string before = "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n";
        var b = Bytes(before + field + "\r\n\r\n");
        var d = ChunkedDecoder.ForRequest();
        Assert.That(d.Skip(b, out int consumed), Is.EqualTo(ChunkStatus.Error));
        Assert.That(consumed, Is.EqualTo(before.Length), "not a byte of the refused line is consumed");
        Assert.That(d.Skip(Bytes("0\r\n\r\n"), out _), Is.EqualTo(ChunkStatus.Error), "the error sticks");

        // The plain decoder (responses) skips the same trailer as before.
        var plain = new ChunkedDecoder();
        Assert.That(plain.Skip(b, out consumed), Is.EqualTo(ChunkStatus.Done));
        Assert.That(consumed, Is.EqualTo(b.Length));
    }

    /// <summary>However the body is split across reads, what the request decoder has consumed (what the
    /// proxy may forward) never reaches into the refused line, and every split ends in the same Error.</summary>
    [Test]
    public void RequestDecoder_EverySplit_NeverConsumesARefusedLine()
    {
        string before = "5\r\nhello\r\n0\r\nX-A: 1\r\n";
        var b = Bytes(before + "Content-Length: 31337\r\nX-B: 2\r\n\r\n");
        for (int cut1 = 0; cut1 <= b.Length; cut1++)
        for (int cut2 = cut1; cut2 <= b.Length; cut2 += 3)
        {
            var (status, sendable) = SkipInReads(b, [cut1, cut2, b.Length]);
            Assert.That(status, Is.EqualTo(ChunkStatus.Error), $"cuts {cut1}, {cut2}");
            Assert.That(sendable, Is.LessThanOrEqualTo(before.Length), $"cuts {cut1}, {cut2}");
        }
    }

    /// <summary>Allowed trailers pass, split anywhere, to the same end as a whole feed; a trailer name still
    /// arriving is held back (consumed stops at its line) and fed again with what follows.</summary>
    [Test]
    public void RequestDecoder_AllowedTrailers_Pass_InAnySplit()
    {
        string body = "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=53\r\nX-A-Very-Long-Trailer-Name-Indeed: 1\r\n\r\n";
        var b = Bytes(body + "GET / HTTP/1.1\r\n");
        var whole = ChunkedDecoder.ForRequest();
        Assert.That(whole.Skip(b, out int end), Is.EqualTo(ChunkStatus.Done));
        Assert.That(end, Is.EqualTo(body.Length));
        for (int cut1 = 0; cut1 <= b.Length; cut1++)
        for (int cut2 = cut1; cut2 <= b.Length; cut2 += 5)
            Assert.That(SkipInReads(b, [cut1, cut2, b.Length]), Is.EqualTo((ChunkStatus.Done, body.Length)), $"cuts {cut1}, {cut2}");

        var d = ChunkedDecoder.ForRequest();
        var held = Bytes("5\r\nhello\r\n0\r\nX-Check");
        Assert.That(d.Skip(held, out int consumed), Is.EqualTo(ChunkStatus.NeedMore));
        Assert.That(consumed, Is.EqualTo("5\r\nhello\r\n0\r\n".Length), "the unfinished name is held back");
        Assert.That(d.Skip(Bytes("X-Checksum: 1\r\n\r\n"), out consumed), Is.EqualTo(ChunkStatus.Done));
        var longName = Bytes("X-" + new string('n', ChunkedDecoder.LongestRefusedTrailer));
        d = ChunkedDecoder.ForRequest();
        Assert.That(d.Skip(Bytes("0\r\n"), out _), Is.EqualTo(ChunkStatus.NeedMore));
        Assert.That(d.Skip(longName, out consumed), Is.EqualTo(ChunkStatus.NeedMore));
        Assert.That(consumed, Is.EqualTo(longName.Length), "a name too long to be refused is not held");
    }

    [Test]
    public void RequestDecoder_StaysOneAcrossReset()
    {
        var d = ChunkedDecoder.ForRequest();
        Assert.That(d.Skip(Bytes("0\r\n\r\n"), out _), Is.EqualTo(ChunkStatus.Done));
        d.Reset();
        Assert.That(d.Skip(Bytes("0\r\nHost: x\r\n\r\n"), out _), Is.EqualTo(ChunkStatus.Error));
    }

    /// <summary>Skips <paramref name="b"/> as the proxy does: each read appends bytes, the decoder sees what
    /// it has not consumed yet. Returns the final status and the bytes consumed (the sendable ones).</summary>
    private static (ChunkStatus Status, int Consumed) SkipInReads(byte[] b, int[] readEnds)
    {
        var d = ChunkedDecoder.ForRequest();
        int scanned = 0;
        var status = ChunkStatus.NeedMore;
        foreach (int available in readEnds)
        {
            status = d.Skip(b.AsSpan(scanned, available - scanned), out int consumed);
            Assert.That(consumed, Is.InRange(0, available - scanned));
            scanned += consumed;
            if (status != ChunkStatus.NeedMore) break;
        }
        return (status, scanned);
    }
}
