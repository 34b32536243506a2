namespace RawKeepalive.Http;

/// <summary>Line framing shared by request and response heads: where the head ends, and whether an
/// unfinished head is already broken (so a bare LF is refused now instead of waiting for a CRLFCRLF
/// that a lenient client will never send).</summary>
internal static class HeadFraming
{
    /// <summary>Index in <paramref name="head"/> of the CRLF that is the blank line ending the head, or -1.</summary>
    public static int FindBlankLine(ReadOnlySpan<byte> head)
    {
        int end = head.IndexOf("\r\n\r\n"u8);
        return end < 0 ? -1 : end + 2;
    }

    /// <summary>True when every LF in <paramref name="partial"/> follows a CR and every CR is followed by an
    /// LF or is the last byte: the head may still complete. Runs only on the Incomplete path.</summary>
    public static bool IsCleanPrefix(ReadOnlySpan<byte> partial)
    {
        int i = 0;
        while (true)
        {
            int k = partial.Slice(i).IndexOfAny(HttpChars.CR, HttpChars.LF);
            if (k < 0) return true;
            i += k;
            if (partial[i] == HttpChars.LF) return false; // a CR would have been found first
            if (i + 1 == partial.Length) return true;
            if (partial[i + 1] != HttpChars.LF) return false;
            i += 2;
        }
    }

    /// <summary>Parses the field line at <paramref name="pos"/> (RFC 9112 5): a token name, ':' with no
    /// whitespace before it, a value free of CTLs other than HTAB, and a strict CRLF. A line starting with
    /// SP/HTAB (obs-fold) fails because its name would be empty. The caller has found the blank line, so
    /// a CR always lies ahead and the searches stop within the head.</summary>
    public static bool TryParseField(ReadOnlySpan<byte> buffer, ref int pos, ref HeaderField field)
    {
        var line = buffer.Slice(pos);
        int colon = line.IndexOfAnyExcept(HttpChars.Token);
        if (colon <= 0 || line[colon] != (byte)':') return false;
        int cr = line.Slice(colon + 1).IndexOfAny(HttpChars.NotFieldValue);
        if (cr < 0) return false;
        cr += colon + 1;
        if (line[cr] != HttpChars.CR || cr + 1 >= line.Length || line[cr + 1] != HttpChars.LF) return false;

        int valueStart = pos + colon + 1, valueEnd = pos + cr;
        HttpChars.TrimOws(buffer, ref valueStart, ref valueEnd);
        field.Name = new Slice(pos, colon);
        field.Value = new Slice(valueStart, valueEnd - valueStart);
        field.Kind = HeaderNames.Classify(line.Slice(0, colon));
        pos += cr + 2;
        return true;
    }
}
