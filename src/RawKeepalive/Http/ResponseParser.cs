namespace RawKeepalive.Http;

/// <summary>Strict HTTP/1.x response-head parser over a byte span: no copies, no strings, no
/// allocation, no exceptions. An invalid head is Error (the proxy answers 502).</summary>
/// <remarks>Framing (RFC 9112 6.3): Transfer-Encoding with chunked last gives Chunked; Transfer-Encoding
/// without chunked last leaves Chunked false and ContentLength -1, so the body runs to the close of
/// the connection; either way Transfer-Encoding overrides Content-Length (and sets FramingConflict).
/// Whether the status or the request method allows a body at all is the caller's to judge.
/// With several Connection headers, ConnectionValue is the last one's value.</remarks>
public static class ResponseParser
{
    public static ParseResult Parse(ReadOnlySpan<byte> buffer, ResponseHead head)
    {
        head.Reset();
        int blank = HeadFraming.FindBlankLine(buffer);
        if (blank < 0) return HeadFraming.IsCleanPrefix(buffer) ? ParseResult.Incomplete : ParseResult.Error;

        int pos = 0;
        if (!ParseStatusLine(buffer, ref pos, head) || !ParseFields(buffer, pos, blank, head)) return ParseResult.Error;
        head.HeadLength = blank + 2;
        return ParseResult.Complete;
    }

    /// <summary>status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ] CRLF; a missing SP before an
    /// empty reason is tolerated, as many servers omit it.</summary>
    private static bool ParseStatusLine(ReadOnlySpan<byte> buffer, ref int pos, ResponseHead head)
    {
        if (buffer.Length < 14 || !buffer.StartsWith("HTTP/1."u8) || buffer[8] != HttpChars.SP) return false;
        uint minor = (uint)(buffer[7] - '0'), d0 = (uint)(buffer[9] - '0'), d1 = (uint)(buffer[10] - '0'), d2 = (uint)(buffer[11] - '0');
        if (minor > 1 || d0 > 9 || d1 > 9 || d2 > 9) return false;
        int status = (int)(d0 * 100 + d1 * 10 + d2);
        if (status is < 100 or > 599) return false;

        int reasonStart = 12;
        if (buffer[12] == HttpChars.SP) reasonStart = 13;
        else if (buffer[12] != HttpChars.CR) return false;
        // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ): the first byte outside that is the CR.
        int cr = buffer.Slice(reasonStart).IndexOfAny(HttpChars.NotFieldValue);
        if (cr < 0) return false;
        cr += reasonStart;
        if (buffer[cr] != HttpChars.CR || cr + 1 >= buffer.Length || buffer[cr + 1] != HttpChars.LF) return false;

        head.VersionMinor = (int)minor;
        head.Status = status;
        head.Reason = new Slice(reasonStart, cr - reasonStart);
        pos = cr + 2;
        return true;
    }

    private static bool ParseFields(ReadOnlySpan<byte> buffer, int pos, int blank, ResponseHead head)
    {
        bool lengthSeen = false, codingSeen = false;
        var coding = CodingState.NoChunked;
        bool otherCodings = false;
        var fields = head.Headers;
        while (pos < blank)
        {
            if (head.HeaderCount == ResponseHead.MaxHeaders) return false;
            ref HeaderField field = ref fields[head.HeaderCount];
            if (!HeadFraming.TryParseField(buffer, ref pos, ref field)) return false;
            head.HeaderCount++;
            var value = field.Value.Of(buffer);
            switch (field.Kind)
            {
                case HeaderKind.ContentLength:
                    if (!AccumulateLength(value, ref lengthSeen, ref head.ContentLength)) return false;
                    break;
                case HeaderKind.TransferEncoding:
                    codingSeen = true;
                    TransferCodings.Accumulate(value, ref coding, ref otherCodings);
                    break;
                case HeaderKind.Connection:
                    if (!ConnectionTokens.Accumulate(value, ref head.ConnectionClose, ref head.ConnectionKeepAlive,
                            ref head.ConnectionUpgrade, ref head.ConnectionNamesOthers))
                        return false;
                    head.ConnectionValue = field.Value;
                    break;
            }
        }

        if (codingSeen)
        {
            // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing; so is chunked twice.
            if (head.VersionMinor == 0 || coding == CodingState.Malformed) return false;
            head.FramingConflict = lengthSeen;
            head.ContentLength = -1;
            head.Chunked = coding == CodingState.ChunkedLast;
            head.ChunkedWithOtherCodings = head.Chunked && otherCodings;
        }
        return true;
    }

    /// <summary>RFC 9110 8.6: repeated Content-Length values (in one list or several lines) are accepted
    /// from an upstream when they are all the same number; differing ones make the length unknowable.</summary>
    private static bool AccumulateLength(ReadOnlySpan<byte> value, ref bool seen, ref long length)
    {
        if (value.IsEmpty) return false;
        var list = new ListElements(value);
        while (list.MoveNext(out var element))
        {
            if (!HttpChars.TryParseDecimal(element, out long n)) return false;
            if (seen && n != length) return false;
            length = n;
            seen = true;
        }
        return true;
    }
}
