namespace RawKeepalive.Http;

/// <summary>Strict HTTP/1.1 request-head parser (RFC 9112) over a byte span: no copies, no
/// strings, no allocation, no exceptions.</summary>
public static class RequestParser
{
    /// <summary>Parses the head at the start of <paramref name="buffer"/> into <paramref name="head"/>
    /// (which it resets first). Incomplete: the blank line that ends the head has not arrived.
    /// Error: head.ErrorStatus says which status to answer with.</summary>
    public static ParseResult Parse(ReadOnlySpan<byte> buffer, RequestHead head) => throw new NotImplementedException();

    /// <summary>The status for a head that did not fit in <paramref name="buffer"/> (a full buffer
    /// that Parse called Incomplete): 414 while the request line is unfinished, else 431.</summary>
    public static int OversizeStatus(ReadOnlySpan<byte> buffer) => throw new NotImplementedException();
}
