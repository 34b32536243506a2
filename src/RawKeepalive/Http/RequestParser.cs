using System.Text;

namespace RawKeepalive.Http;

/// <summary>Strict HTTP/1.1 request-head parser (RFC 9112) over a byte span: no copies, no
/// strings, no allocation, no exceptions.</summary>
public static class RequestParser
{
    /// <summary>RFC 9112 2.2 asks servers to ignore at least one empty line before the request-line (left
    /// over from a client that ended a body with an extra CRLF); more than a few is not a request.</summary>
    public const int MaxLeadingEmptyLines = 4;

    /// <summary>A method with more token bytes than this is answered 501 (RFC 9112 3), as soon as they arrive.</summary>
    public const int MaxMethodLength = RequestLine.MaxMethodLength;

    /// <summary>Parses the head at the start of <paramref name="buffer"/> into <paramref name="head"/>
    /// (which it resets first). Incomplete: the blank line that ends the head has not arrived.
    /// Error: head.ErrorStatus says which status to answer with.</summary>
    /// <remarks>With several Connection headers the flags cover all of them, and ConnectionValue is the
    /// last one's value. An HTTP/1.1 request needs a Host header even when its target is absolute-form
    /// (RFC 9112 3.2); the target's authority then replaces it in <see cref="RequestHead.Host"/>.</remarks>
    public static ParseResult Parse(ReadOnlySpan<byte> buffer, RequestHead head)
    {
        head.Reset();
        int start = SkipEmptyLines(buffer, out int emptyLines);
        if (emptyLines > MaxLeadingEmptyLines) return Fail(head, 400);

        var rest = buffer.Slice(start);
        int blank = HeadFraming.FindBlankLine(rest);
        if (blank < 0) return ParsePartial(buffer, start, head);
        blank += start;

        int pos = start;
        Slice authority = default;
        int status = RequestLine.Parse(buffer, ref pos, head);
        if (status == 0) status = RequestTarget.Parse(buffer, head, out authority);
        if (status == 0) status = ParseFields(buffer, pos, blank, head, authority);
        if (status != 0) return Fail(head, status);
        head.HeadLength = blank + 2;
        return ParseResult.Complete;
    }

    /// <summary>A head without its blank line yet. A finished request line is judged at once: an
    /// HTTP/0.9 client ("GET /\r\n") never sends a blank line, and a refusal must not depend on
    /// how the head was split across reads.</summary>
    private static ParseResult ParsePartial(ReadOnlySpan<byte> buffer, int start, RequestHead head)
    {
        // A method is judged by its first 33 bytes, however long the line turns out (RFC 9112 3: 501).
        var line = buffer.Slice(start);
        if (RequestLine.IsMethodTooLong(line, line.IndexOfAnyExcept(HttpChars.Token))) return Fail(head, 501);
        int lineEnd = line.IndexOf((byte)'\n');
        if (lineEnd >= 0)
        {
            int pos = start;
            int status = RequestLine.Parse(buffer.Slice(0, start + lineEnd + 1), ref pos, head);
            head.Reset();
            if (status != 0) return Fail(head, status);
        }
        return HeadFraming.IsCleanPrefix(buffer.Slice(start)) ? ParseResult.Incomplete : Fail(head, 400);
    }

    /// <summary>The status for a head that did not fit in <paramref name="buffer"/> (a full buffer
    /// that Parse called Incomplete): 414 while the request line is unfinished, else 431.</summary>
    public static int OversizeStatus(ReadOnlySpan<byte> buffer)
    {
        int start = SkipEmptyLines(buffer, out _);
        return buffer.Slice(start).Contains(HttpChars.LF) ? 431 : 414;
    }

    private static int SkipEmptyLines(ReadOnlySpan<byte> buffer, out int lines)
    {
        int start = 0;
        lines = 0;
        while (start + 1 < buffer.Length && buffer[start] == HttpChars.CR && buffer[start + 1] == HttpChars.LF)
        {
            start += 2;
            // Stop counting past the limit: the caller refuses the request, no need to walk further.
            if (++lines > MaxLeadingEmptyLines) break;
        }
        return start;
    }

    /// <summary>Reads the field lines between <paramref name="pos"/> and the blank line, classifying and
    /// checking the framing headers, then judges the message framing as a whole. Returns 0 or a status.</summary>
    private static int ParseFields(ReadOnlySpan<byte> buffer, int pos, int blank, RequestHead head, Slice authority)
    {
        bool hostSeen = false, lengthSeen = false, codingSeen = false;
        var coding = CodingState.NoChunked;
        bool otherCodings = false;
        var fields = head.Headers;
        while (pos < blank)
        {
            if (head.HeaderCount == RequestHead.MaxHeaders) return 431;
            ref HeaderField field = ref fields[head.HeaderCount];
            if (!HeadFraming.TryParseField(buffer, ref pos, ref field)) return 400;
            head.HeaderCount++;
            var value = field.Value.Of(buffer);
            switch (field.Kind)
            {
                case HeaderKind.Other:
                    // A name with '_' is a valid token, classified here once so the rewriter can drop it
                    // (underscores_in_headers off) without comparing names; one that reads as framing,
                    // hop-by-hop or Host with '_' as '-' is refused outright, whatever the setting.
                    if (field.Name.Of(buffer).Contains((byte)'_'))
                    {
                        field.Kind = HeaderNames.ClassifyUnderscored(field.Name.Of(buffer));
                        if (field.Kind != HeaderKind.Underscored) return 400;
                    }
                    break;
                case HeaderKind.Host:
                    // Two Hosts, or one that is not a host[:port], could route differently here and upstream.
                    // An empty Host is refused too (as nginx): every target we accept has an authority or
                    // is "*", so RFC 9112 3.2's empty Host for a target without one never applies.
                    if (hostSeen || !HttpChars.IsAuthority(value)) return 400;
                    hostSeen = true;
                    head.Host = field.Value;
                    head.HasHost = true;
                    break;
                case HeaderKind.ContentLength:
                    // Stricter than RFC 9110 8.6: even equal duplicates or a list are refused in a request,
                    // since the request is what a smuggling attack crafts.
                    if (lengthSeen || !HttpChars.TryParseDecimal(value, out head.ContentLength)) return 400;
                    lengthSeen = true;
                    break;
                case HeaderKind.TransferEncoding:
                    codingSeen = true;
                    TransferCodings.Accumulate(value, ref coding, ref otherCodings);
                    break;
                case HeaderKind.Connection:
                    if (!ConnectionTokens.Accumulate(value, ref head.ConnectionClose, ref head.ConnectionKeepAlive,
                            ref head.ConnectionUpgrade, ref head.ConnectionNamesOthers))
                        return 400;
                    head.ConnectionValue = field.Value;
                    break;
                case HeaderKind.Expect:
                    // RFC 9110 10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
                    if (head.VersionMinor >= 1 && Ascii.EqualsIgnoreCase(value, "100-continue"u8)) head.ExpectContinue = true;
                    break;
            }
        }

        if (head.VersionMinor >= 1 && !hostSeen) return 400;
        if (codingSeen)
        {
            // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 or beside Content-Length means faulty framing.
            if (head.VersionMinor == 0 || lengthSeen || coding == CodingState.Malformed) return 400;
            // RFC 9112 6.3: when chunked is not the final coding (gzip, "chunked, gzip", identity, an empty
            // list, "chunked;x") the body length cannot be known: 400 and close (nginx: 501).
            if (coding != CodingState.ChunkedLast) return 400;
            // Chunked framing around codings we do not implement ("gzip, chunked"): forwarding it as plain
            // chunked would lose them. 501, as nginx.
            if (otherCodings) return 501;
            head.Chunked = true;
        }
        if (!authority.IsEmpty)
        {
            head.Host = authority;
            head.HasHost = true;
        }
        return 0;
    }

    private static ParseResult Fail(RequestHead head, int status)
    {
        head.ErrorStatus = status;
        return ParseResult.Error;
    }
}
