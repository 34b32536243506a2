using System.Text;

namespace RawKeepalive.Http;

/// <summary>Strict HTTP/1.x response-head parser over a byte span: no copies, no strings, no
/// allocation, no exceptions. An invalid head is Error (the proxy answers 502).</summary>
/// <remarks>Framing as nginx 1.23 and later judges an upstream's head, line by line, the first fault
/// winning: one Content-Length, a plain decimal; one Transfer-Encoding, exactly "chunked"; never both.
/// Anything else is Error with head.Error saying which (ResponseHead.ErrorMessage words it as nginx
/// does), so the proxy answers 502 and closes that upstream connection. A later Expires line is
/// kept out of the response (head.IgnoredFields), as nginx keeps only the first.
/// Whether the status or the request method allows a body at all is the caller's to judge.
/// With several Connection headers, ConnectionValue is the last one's value.</remarks>
public static class ResponseParser
{
    public static ParseResult Parse(ReadOnlySpan<byte> buffer, ResponseHead head)
    {
        head.Reset();
        int blank = HeadFraming.FindBlankLine(buffer);
        if (blank < 0) return HeadFraming.IsCleanPrefix(buffer) ? ParseResult.Incomplete : Invalid(head);

        int pos = 0;
        if (!ParseStatusLine(buffer, ref pos, head)) return Invalid(head);
        if (!ParseFields(buffer, pos, blank, head)) return ParseResult.Error;
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

    /// <summary>Reads the field lines; false (with head.Error set) at the first fault.</summary>
    private static bool ParseFields(ReadOnlySpan<byte> buffer, int pos, int blank, ResponseHead head)
    {
        int lengthField = -1, codingField = -1;
        var fields = head.Headers;
        while (pos < blank)
        {
            if (head.HeaderCount == ResponseHead.MaxHeaders) return Fault(head, ResponseError.TooManyHeaders);
            int index = head.HeaderCount;
            ref HeaderField field = ref fields[index];
            if (!HeadFraming.TryParseField(buffer, ref pos, ref field)) return Fault(head, ResponseError.Invalid);
            head.HeaderCount++;
            var value = field.Value.Of(buffer);
            switch (field.Kind)
            {
                // nginx's order: a duplicate first, then the other framing header, then the value.
                case HeaderKind.ContentLength:
                    if (lengthField >= 0) return Fault(head, ResponseError.DuplicateHeader, index, lengthField);
                    if (codingField >= 0) return Fault(head, ResponseError.LengthAndEncoding, index);
                    if (!HttpChars.TryParseDecimal(value, out head.ContentLength)) return Fault(head, ResponseError.InvalidContentLength, index);
                    lengthField = index;
                    break;
                case HeaderKind.TransferEncoding:
                    if (codingField >= 0) return Fault(head, ResponseError.DuplicateHeader, index, codingField);
                    if (lengthField >= 0) return Fault(head, ResponseError.LengthAndEncoding, index);
                    if (!TransferCodings.IsChunkedOnly(value)) return Fault(head, ResponseError.UnknownEncoding, index);
                    codingField = index;
                    break;
                case HeaderKind.Connection:
                    if (!ConnectionTokens.Accumulate(value, ref head.ConnectionClose, ref head.ConnectionKeepAlive,
                            ref head.ConnectionUpgrade, ref head.ConnectionNamesOthers))
                        return Fault(head, ResponseError.Invalid);
                    head.ConnectionValue = field.Value;
                    break;
                case HeaderKind.Other when field.Name.Length == 7 && Ascii.EqualsIgnoreCase(field.Name.Of(buffer), "expires"u8):
                    // nginx keeps the first Expires and ignores later ones (with a warning the caller logs).
                    if (head.ExpiresField < 0) head.ExpiresField = index;
                    else head.IgnoredFields |= UInt128.One << index;
                    break;
            }
        }

        if (codingField >= 0)
        {
            // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing.
            if (head.VersionMinor == 0) return Fault(head, ResponseError.Invalid);
            head.ContentLength = -1;
            head.Chunked = true;
        }
        return true;
    }

    private static ParseResult Invalid(ResponseHead head)
    {
        Fault(head, ResponseError.Invalid);
        return ParseResult.Error;
    }

    /// <summary>Records why the head is refused; always false.</summary>
    private static bool Fault(ResponseHead head, ResponseError error, int field = -1, int previous = -1)
    {
        head.Error = error;
        head.ErrorField = field;
        head.ErrorPrevious = previous;
        return false;
    }
}
