using System.Text;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// Seeded mutations of valid HTTP messages, for the parser and end-to-end fuzz tests: bit flips,
/// byte inserts and deletes, CR/LF/NUL/SP injection, splices of whole lines (from the same message
/// or another seed), huge and negative numbers, version swaps and truncation. The same seed gives
/// the same sequence of cases, so a failure names its seed and case number and replays exactly.
/// </summary>
public sealed class HttpMutator(int seed)
{
    /// <summary>Bytes that matter to HTTP framing, injected more often than random ones.</summary>
    private static readonly byte[] Interesting =
        [(byte)'\r', (byte)'\n', 0, (byte)' ', (byte)'\t', (byte)':', (byte)';', (byte)'"', (byte)',',
         (byte)'=', (byte)'/', (byte)'?', (byte)'#', (byte)'@', 0x7F, 0x80, 0xFF, (byte)'0', (byte)'9', (byte)'f'];

    /// <summary>Replacements for a run of digits: overflows, signs, hex, spaces, lists.</summary>
    private static readonly string[] Numbers =
        ["0", "-1", "+1", "00", "4294967296", "9223372036854775807", "9223372036854775808",
         "99999999999999999999999999", "fffffffffffffff", "10000000000000000", "1 1", "1,1", "0x10", "1.0", " 1", ""];

    /// <summary>Whole header lines spliced in: framing headers above all, as a smuggler would.</summary>
    private static readonly string[] Lines =
        ["Content-Length: 0", "Content-Length: 5", "Content-Length: 18446744073709551616", "Content-Length: -1",
         "Transfer-Encoding: chunked", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked, gzip",
         "Transfer-Encoding: gzip, chunked", "Transfer-Encoding: chunked, chunked", "Transfer-Encoding:  chunked",
         "Transfer-Encoding\t: chunked", "Transfer-Encoding : chunked", " Transfer-Encoding: chunked", "\tfolded",
         "Host: other.example", "Host:", "Host: a b", "Host: [::1]:80", "Connection: close", "Connection: keep-alive",
         "Connection: Upgrade, X-Foo", "Expect: 100-continue", "X-Empty:", ":nameless", "X-Nul: a\0b",
         "X-Long: " + new string('a', 300)];

    private static readonly string[] Versions =
        ["HTTP/1.0", "HTTP/1.1", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/3", "http/1.1", "HTTP/1.10", "HTTP/11", "HTTP/1.1 "];

    private readonly Random _random = new(seed);

    public int Seed { get; } = seed;

    /// <summary>One to four stacked mutations of a copy of <paramref name="input"/>; <paramref name="other"/>
    /// is a second valid message to splice lines from.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        var bytes = new List<byte>(input);
        int count = 1 + _random.Next(4);
        for (int i = 0; i < count; i++)
            MutateOnce(bytes, other);
        return [.. bytes];
    }

    /// <summary>A random cut of <paramref name="length"/> bytes into 1 to 8 ascending cut points (pieces may be empty).</summary>
    public int[] Splits(int length)
    {
        int cuts = 1 + _random.Next(8);
        var points = new int[cuts];
        for (int i = 0; i < cuts; i++)
            points[i] = length == 0 ? 0 : _random.Next(length + 1);
        Array.Sort(points);
        return points;
    }

    public int Next(int max) => _random.Next(max);

    private void MutateOnce(List<byte> b, byte[] other)
    {
        int at = b.Count == 0 ? 0 : _random.Next(b.Count);
        switch (_random.Next(14))
        {
            case 0 when b.Count > 0: // bit flip
                b[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1: // insert a random byte
                b.Insert(at, (byte)_random.Next(256));
                break;
            case 2: // insert a framing byte
            case 3:
                b.Insert(at, Interesting[_random.Next(Interesting.Length)]);
                break;
            case 4 when b.Count > 0: // delete a byte or a short run
                b.RemoveRange(at, Math.Min(b.Count - at, 1 + _random.Next(4)));
                break;
            case 5 when b.Count > 0: // overwrite with CR, LF, NUL or SP
                b[at] = "\r\n\0 "u8[_random.Next(4)];
                break;
            case 6: // truncate
                b.RemoveRange(at, b.Count - at);
                break;
            case 7: // duplicate a line of this message
                SpliceLine(b, LinesOf([.. b]));
                break;
            case 8: // a line of the other message
                SpliceLine(b, LinesOf(other));
                break;
            case 9: // a framing header line
                SpliceLine(b, [Encoding.Latin1.GetBytes(Lines[_random.Next(Lines.Length)])]);
                break;
            case 10: // replace a run of digits with a hostile number
                ReplaceNumber(b);
                break;
            case 11: // swap the HTTP version
                ReplaceVersion(b);
                break;
            case 12: // CRLF becomes a bare LF or a bare CR
                BreakLineEnd(b);
                break;
            default: // repeat a byte many times (long tokens, many spaces)
                if (b.Count > 0)
                    b.InsertRange(at, Enumerable.Repeat(b[at], 1 + _random.Next(300)));
                break;
        }
    }

    private static List<byte[]> LinesOf(byte[] message)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i + 1 < message.Length; i++)
        {
            if (message[i] == '\r' && message[i + 1] == '\n')
            {
                if (i > start)
                    lines.Add(message[start..i]);
                start = i + 2;
            }
        }
        return lines;
    }

    /// <summary>Inserts <c>line CRLF</c> at the start of a line (or anywhere, now and then).</summary>
    private void SpliceLine(List<byte> b, List<byte[]> candidates)
    {
        if (candidates.Count == 0)
            return;
        byte[] line = candidates[_random.Next(candidates.Count)];
        var starts = new List<int>();
        for (int i = 1; i < b.Count; i++)
        {
            if (b[i - 1] == '\n')
                starts.Add(i);
        }
        int at = starts.Count > 0 && _random.Next(8) != 0 ? starts[_random.Next(starts.Count)] : _random.Next(b.Count + 1);
        b.InsertRange(at, [.. line, (byte)'\r', (byte)'\n']);
    }

    private void ReplaceNumber(List<byte> b)
    {
        var runs = new List<(int Start, int Length)>();
        for (int i = 0; i < b.Count;)
        {
            if (!char.IsAsciiDigit((char)b[i]))
            {
                i++;
                continue;
            }
            int s = i;
            while (i < b.Count && char.IsAsciiDigit((char)b[i]))
                i++;
            runs.Add((s, i - s));
        }
        if (runs.Count == 0)
            return;
        var (start, length) = runs[_random.Next(runs.Count)];
        b.RemoveRange(start, length);
        b.InsertRange(start, Encoding.ASCII.GetBytes(Numbers[_random.Next(Numbers.Length)]));
    }

    private void ReplaceVersion(List<byte> b)
    {
        byte[] all = [.. b];
        int at = all.AsSpan().IndexOf("HTTP/1."u8);
        if (at < 0 || at + 8 > all.Length)
            return;
        b.RemoveRange(at, 8);
        b.InsertRange(at, Encoding.ASCII.GetBytes(Versions[_random.Next(Versions.Length)]));
    }

    private void BreakLineEnd(List<byte> b)
    {
        var ends = new List<int>();
        for (int i = 0; i + 1 < b.Count; i++)
        {
            if (b[i] == '\r' && b[i + 1] == '\n')
                ends.Add(i);
        }
        if (ends.Count == 0)
            return;
        int at = ends[_random.Next(ends.Count)];
        b.RemoveAt(_random.Next(2) == 0 ? at : at + 1);
    }

    /// <summary>The bytes as a C# string literal body, for failure messages that replay a case.</summary>
    public static string Escape(ReadOnlySpan<byte> bytes, int max = 600)
    {
        var text = new StringBuilder();
        foreach (byte c in bytes[..Math.Min(bytes.Length, max)])
        {
            text.Append(c switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'\\' => "\\\\",
                (byte)'"' => "\\\"",
                >= 0x20 and < 0x7F => ((char)c).ToString(),
                _ => $"\\u{c:X4}", // \u, not \x: fixed width, so a following hex digit stays a character
            });
        }
        if (bytes.Length > max)
            text.Append($"... ({bytes.Length} bytes)");
        return text.ToString();
    }
}
