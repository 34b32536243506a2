using System.Diagnostics;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Http;
using RawKeepalive.Tests.Support;
using static RawKeepalive.Tests.Http.HttpText;

namespace RawKeepalive.Tests.Http;

/// <summary>
/// Issue 5, "Fuzzing": seeded mutations of valid requests, responses and chunked bodies fed to the
/// parsers whole and in random splits (as the proxy feeds them: a growing prefix for heads, successive
/// pieces for the chunked decoder). No exception escapes, no case hangs, every request verdict is
/// accept, wait, or a status in <see cref="RequestStatuses"/>, a Complete head's slices lie inside it,
/// and a split feed reaches the same verdict as the whole feed.
/// <para>Bounded: <see cref="Cases"/> cases per parser or <see cref="Budget"/>, whichever ends first; a
/// failure names the seed and case and the input as a C# literal. <c>RAWKEEPALIVE_FUZZ_SEED</c> and
/// <c>RAWKEEPALIVE_FUZZ_CASES</c> replay another seed or run longer.</para>
/// </summary>
[TestFixture, CancelAfter(60_000)]
public class ParserFuzzTests
{
    private const int DefaultSeed = 5_2026;
    private const int DefaultCases = 20_000;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    /// <summary>A case is a few KiB at most and parses in microseconds: this only catches a real hang.</summary>
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    /// <summary>The statuses a request head may be refused with (issue 5: framing, limits, versions; 405 for CONNECT).</summary>
    private static readonly int[] RequestStatuses = [400, 405, 413, 414, 431, 501, 505];

    private static readonly string[] RequestSeeds =
    [
        Curl,
        Browser,
        "POST /submit?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\":\"hello\"}",
        "PUT /upload HTTP/1.1\r\nHost: example.com:8080\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET http://example.com:81/abs?q HTTP/1.1\r\nHost: ignored.example\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "PROPFIND /dav/a%20b?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\nDepth: 1\r\nX_Custom: 1\r\n\r\n",
        "\r\nHEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close, X-Trace\r\nX-Trace: 1\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
    ];

    private static readonly string[] ResponseSeeds =
    [
        Response,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nExpires: A\r\nExpires: B\r\n\r\nabc",
        "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
    ];

    private static readonly string[] ChunkedSeeds =
    [
        "5\r\nhello\r\n0\r\n\r\n",
        "1\r\na\r\n10\r\n0123456789abcdef\r\nA; name=value; q=\"quoted \\\" text\"\r\n0123456789\r\n0\r\n\r\n",
        "3 ; ext\r\nabc\r\n0\r\nTrailer-A: 1\r\nTrailer-B: two\r\n\r\nGET / HTTP/1.1\r\n",
        "0\r\n\r\n",
        "FFF\r\n" + new string('x', 0xFFF) + "\r\n0;last\r\n\r\n",
    ];

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("RAWKEEPALIVE_FUZZ_SEED"), out int s) ? s : DefaultSeed;

    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("RAWKEEPALIVE_FUZZ_CASES"), out int n) ? n : DefaultCases;

    [Test]
    public void Seeds_AreValid_SoMutationsStartFromGoodInput()
    {
        var head = new RequestHead();
        foreach (string seed in RequestSeeds)
            Assert.That(RequestParser.Parse(Bytes(seed), head), Is.EqualTo(ParseResult.Complete), () => $"{seed} -> {head.ErrorStatus}");
        var response = new ResponseHead();
        foreach (string seed in ResponseSeeds)
            Assert.That(ResponseParser.Parse(Bytes(seed), response), Is.EqualTo(ParseResult.Complete), seed);
        foreach (string seed in ChunkedSeeds)
            Assert.That(Chunked(Bytes(seed), []).Status, Is.EqualTo(ChunkStatus.Done), seed);
    }

    [Test]
    public void Requests_Mutated_VerdictIsAcceptOrAnIssueStatus_AndSplitFeedAgrees()
    {
        var head = new RequestHead();
        var verdicts = new Dictionary<string, int>();
        int earlyRefusals = 0;
        int ran = Fuzz(RequestSeeds, (input, mutator) =>
        {
            var whole = RequestVerdict(input, input.Length, head);
            string key = whole.Result == ParseResult.Error ? $"Error {whole.Status}" : whole.Result.ToString();
            verdicts[key] = verdicts.GetValueOrDefault(key) + 1;

            // The proxy re-parses a growing prefix after every read; it acts on the first verdict that is not Incomplete.
            RequestOutcome split = default;
            int stop = 0;
            foreach (int cut in mutator.Splits(input.Length).Append(input.Length))
            {
                split = RequestVerdict(input, cut, head);
                stop = cut;
                if (split.Result != ParseResult.Incomplete)
                    break;
            }
            if (split == whole)
                return null;
            // Known divergence, pinned by SplitFeed_BareCrAfterForeignVersion_SameStatusAsWholeFeed (ignored: a bug):
            // an unfinished head with a bare CR or LF is refused with 400 at once, while the whole head is judged
            // line by line and may be refused for its version (505) or coding (501) first. Still a refusal either way.
            if (whole.Result == ParseResult.Error && split is { Result: ParseResult.Error, Status: 400 } && IsUnfinished(input.AsSpan(0, stop)))
            {
                earlyRefusals++;
                return null;
            }
            return $"whole feed: {whole}; split feed: {split} (after {stop} bytes)";
        });
        TestContext.Out.WriteLine($"{ran} request cases, seed {Seed}: " + string.Join(", ", verdicts.OrderBy(v => v.Key).Select(v => $"{v.Key} ×{v.Value}"))
            + $"; {earlyRefusals} refused with 400 on a bare CR/LF before the whole head arrived, with another status when whole");
    }

    /// <summary>The status of a refused head must not depend on how its bytes were split across reads.</summary>
    [Test]
    public void SplitFeed_BareCrAfterForeignVersion_SameStatusAsWholeFeed()
    {
        byte[] input = Bytes("GET / HTTP/2.0\r\nHost: a\rX\r\n\r\n");
        var head = new RequestHead();
        Assert.That(RequestParser.Parse(input, head), Is.EqualTo(ParseResult.Error));
        int whole = head.ErrorStatus;
        int firstRead = "GET / HTTP/2.0\r\nHost: a\rX".Length;
        Assert.That(RequestParser.Parse(input.AsSpan(0, firstRead), head), Is.EqualTo(ParseResult.Error));
        Assert.That(head.ErrorStatus, Is.EqualTo(whole), "split after the bare CR vs whole");
    }

    /// <summary>No blank line ends the head yet (after the empty lines a request may start with).</summary>
    private static bool IsUnfinished(ReadOnlySpan<byte> prefix)
    {
        while (prefix.StartsWith("\r\n"u8))
            prefix = prefix[2..];
        return prefix.IndexOf("\r\n\r\n"u8) < 0;
    }

    [Test]
    public void Responses_Mutated_NoException_SlicesInBounds_AndSplitFeedAgrees()
    {
        var head = new ResponseHead();
        int ran = Fuzz(ResponseSeeds, (input, mutator) =>
        {
            var whole = ResponseVerdict(input, input.Length, head);
            ResponseOutcome split = default;
            foreach (int cut in mutator.Splits(input.Length).Append(input.Length))
            {
                split = ResponseVerdict(input, cut, head);
                if (split.Result != ParseResult.Incomplete)
                    break;
            }
            return split == whole ? null : $"whole feed: {whole}; split feed: {split}";
        });
        TestContext.Out.WriteLine($"{ran} response cases, seed {Seed}");
    }

    [Test]
    public void ChunkedBodies_Mutated_NoHang_AndEveryPieceSplitGivesTheSameEndAndData()
    {
        int ran = Fuzz(ChunkedSeeds, (input, mutator) =>
        {
            var whole = Chunked(input, []);
            var split = Chunked(input, mutator.Splits(input.Length));
            if (whole != split)
                return $"whole feed: {whole}; split feed: {split}";

            // Skip (pass-through) must find the same end as Decode (de-chunking).
            var skipper = default(ChunkedDecoder);
            var skipped = skipper.Skip(input, out int consumed);
            var expected = whole.Status == ChunkStatus.NeedMore ? input.Length : whole.End;
            return skipped == whole.Status && consumed == expected ? null : $"Decode: {whole}; Skip: {skipped} at {consumed}";
        });
        TestContext.Out.WriteLine($"{ran} chunked cases, seed {Seed}");
    }

    /// <summary>Runs mutated cases of <paramref name="seeds"/> on a thread of its own, so a parser that
    /// loops forever fails the test (naming the case) instead of hanging the run. Returns the cases run.</summary>
    private static int Fuzz(string[] seeds, Func<byte[], HttpMutator, string?> check)
    {
        var mutator = new HttpMutator(Seed);
        byte[][] valid = [.. seeds.Select(Bytes)];
        int current = -1;
        byte[] input = [];
        string? failure = null;
        var clock = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            for (int i = 0; i < Cases && clock.Elapsed < Budget && failure is null; i++)
            {
                byte[] seed = valid[mutator.Next(valid.Length)];
                byte[] other = valid[mutator.Next(valid.Length)];
                var mutated = mutator.Mutate(seed, other);
                Volatile.Write(ref input, mutated);
                Volatile.Write(ref current, i);
                try
                {
                    failure = check(mutated, mutator);
                }
                catch (Exception e) when (e is not AssertionException)
                {
                    failure = $"{e.GetType().Name} escaped: {e.Message}\n{e.StackTrace}";
                }
                catch (AssertionException e)
                {
                    failure = e.Message;
                }
            }
        }, 16 * 1024 * 1024) { IsBackground = true, Name = "parser-fuzz" };
        thread.Start();
        bool finished = thread.Join(HangLimit);
        int ran = Volatile.Read(ref current) + 1;
        string replay = $"seed {Seed}, case {Volatile.Read(ref current)}: \"{HttpMutator.Escape(Volatile.Read(ref input))}\"";
        Assert.That(finished, Is.True, $"a parser did not return within {HangLimit.TotalSeconds} s on {replay}");
        Assert.That(failure, Is.Null, replay);
        Assert.That(ran, Is.GreaterThan(1000), "the budget ran out before the fuzz meant anything");
        return ran;
    }

    private readonly record struct RequestOutcome(ParseResult Result, int Status, string Parsed)
    {
        public override string ToString() => Result == ParseResult.Error ? $"Error {Status}" : $"{Result} {Parsed}";
    }

    /// <summary>Parses input[..length] and checks the verdict's own invariants (throws an assertion on a broken one).</summary>
    private static RequestOutcome RequestVerdict(byte[] input, int length, RequestHead head)
    {
        var buffer = input.AsSpan(0, length);
        var result = RequestParser.Parse(buffer, head);
        switch (result)
        {
            case ParseResult.Incomplete:
                int oversize = RequestParser.OversizeStatus(buffer);
                Assert.That(oversize, Is.AnyOf(414, 431), "OversizeStatus of an unfinished head");
                return new RequestOutcome(result, 0, "");
            case ParseResult.Error:
                Assert.That(RequestStatuses, Does.Contain(head.ErrorStatus), "ErrorStatus of a refused request");
                return new RequestOutcome(result, head.ErrorStatus, "");
        }

        int end = head.HeadLength;
        Assert.That(end, Is.InRange(4, length), "HeadLength");
        Assert.That(buffer[(end - 4)..end].SequenceEqual("\r\n\r\n"u8), Is.True, "a head ends with its blank line");
        Assert.That(head.HeaderCount, Is.InRange(0, RequestHead.MaxHeaders));
        Assert.That(head.VersionMinor, Is.AnyOf(0, 1));
        Assert.That(head.ContentLength, Is.GreaterThanOrEqualTo(-1));
        Assert.That(head.Chunked && head.ContentLength >= 0, Is.False, "Content-Length beside chunked was accepted");
        Assert.That(head.Chunked && head.VersionMinor == 0, Is.False, "chunked HTTP/1.0 request was accepted");
        Assert.That(head.VersionMinor == 1 && !head.HasHost, Is.False, "HTTP/1.1 request without a host was accepted");
        Assert.That(head.MethodToken.Length, Is.GreaterThan(0));
        Assert.That(head.Target.Length, Is.GreaterThan(0));
        var parsed = new StringBuilder();
        void Part(string name, Slice s) => AppendSlice(parsed, input, end, name, s);
        Part("method", head.MethodToken);
        Part("target", head.Target);
        Part("path", head.Path);
        Part("query", head.Query);
        Part("host", head.Host);
        Part("connection", head.ConnectionValue);
        for (int i = 0; i < head.HeaderCount; i++)
        {
            Part("name", head.Headers[i].Name);
            Part("value", head.Headers[i].Value);
        }
        parsed.Append($"length={end} version=1.{head.VersionMinor} cl={head.ContentLength} chunked={head.Chunked} keepalive={head.KeepAlive}");
        return new RequestOutcome(result, 0, parsed.ToString());
    }

    private readonly record struct ResponseOutcome(ParseResult Result, string Parsed)
    {
        public override string ToString() => $"{Result} {Parsed}";
    }

    private static ResponseOutcome ResponseVerdict(byte[] input, int length, ResponseHead head)
    {
        var buffer = input.AsSpan(0, length);
        var result = ResponseParser.Parse(buffer, head);
        if (result != ParseResult.Complete)
            return new ResponseOutcome(result, "");
        int end = head.HeadLength;
        Assert.That(end, Is.InRange(4, length), "HeadLength");
        Assert.That(buffer[(end - 4)..end].SequenceEqual("\r\n\r\n"u8), Is.True, "a head ends with its blank line");
        Assert.That(head.Status, Is.InRange(100, 599));
        Assert.That(head.VersionMinor, Is.AnyOf(0, 1));
        Assert.That(head.HeaderCount, Is.InRange(0, ResponseHead.MaxHeaders));
        Assert.That(head.ContentLength, Is.GreaterThanOrEqualTo(-1));
        Assert.That(head.Chunked && head.ContentLength >= 0, Is.False, "a chunked response keeps a Content-Length");
        var parsed = new StringBuilder();
        void Part(string name, Slice s) => AppendSlice(parsed, input, end, name, s);
        Part("reason", head.Reason);
        Part("connection", head.ConnectionValue);
        for (int i = 0; i < head.HeaderCount; i++)
        {
            Part("name", head.Headers[i].Name);
            Part("value", head.Headers[i].Value);
        }
        parsed.Append($"length={end} status={head.Status} cl={head.ContentLength} chunked={head.Chunked} close={head.ConnectionClose}");
        return new ResponseOutcome(result, parsed.ToString());
    }

    /// <summary>Checks that <paramref name="s"/> lies inside the head [0, end) and appends it to the fingerprint.</summary>
    private static void AppendSlice(StringBuilder parsed, byte[] input, int end, string name, Slice s)
    {
        Assert.That(s.Start >= 0 && s.Length >= 0 && s.End <= end, Is.True, $"{name} [{s.Start}, {s.End}) lies outside the head [0, {end})");
        parsed.Append(name).Append('=').Append(Encoding.Latin1.GetString(input, s.Start, s.Length)).Append(' ');
    }

    private readonly record struct ChunkedOutcome(ChunkStatus Status, int End, string Data)
    {
        public override string ToString() => $"{Status} at {End}, {Data.Length} data bytes";
    }

    /// <summary>Decodes <paramref name="input"/> in the pieces <paramref name="cuts"/> makes, carrying the
    /// decoder across pieces as the proxy does. End: the offset of the byte after the body (Done) or of the
    /// first bad byte (Error).</summary>
    private static ChunkedOutcome Chunked(byte[] input, int[] cuts)
    {
        var decoder = default(ChunkedDecoder);
        var data = new StringBuilder();
        int from = 0;
        foreach (int cut in cuts.Append(input.Length))
        {
            var piece = input.AsSpan(from, cut - from);
            int offset = 0;
            // Each Data verdict consumes at least one byte, so a piece takes at most Length + 1 calls.
            for (int calls = 0; ; calls++)
            {
                Assert.That(calls, Is.LessThanOrEqualTo(piece.Length + 1), "Decode made no progress");
                var status = decoder.Decode(piece[offset..], out int consumed, out int dataStart, out int dataLength);
                Assert.That(consumed, Is.InRange(0, piece.Length - offset), $"{status}: consumed");
                switch (status)
                {
                    case ChunkStatus.Data:
                        Assert.That(dataLength, Is.GreaterThan(0), "Data with no data");
                        Assert.That(dataStart + dataLength, Is.EqualTo(consumed), "Data ends where consumption ends");
                        data.Append(Encoding.Latin1.GetString(piece.Slice(offset + dataStart, dataLength)));
                        offset += consumed;
                        if (offset < piece.Length)
                            continue;
                        break;
                    case ChunkStatus.NeedMore:
                        Assert.That(offset + consumed, Is.EqualTo(piece.Length), "NeedMore consumes the whole piece");
                        break;
                    case ChunkStatus.Done:
                        Assert.That(decoder.IsDone, Is.True);
                        Assert.That(decoder.Decode("0\r\n\r\n"u8, out int after, out _, out _), Is.EqualTo(ChunkStatus.Done), "Done is final");
                        Assert.That(after, Is.Zero);
                        return new ChunkedOutcome(status, from + offset + consumed, data.ToString());
                    case ChunkStatus.Error:
                        Assert.That(decoder.Decode("0\r\n\r\n"u8, out _, out _, out _), Is.EqualTo(ChunkStatus.Error), "Error is final");
                        return new ChunkedOutcome(status, from + offset + consumed, data.ToString());
                }
                break;
            }
            from = cut;
        }
        return new ChunkedOutcome(ChunkStatus.NeedMore, input.Length, data.ToString());
    }
}
