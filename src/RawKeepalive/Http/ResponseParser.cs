namespace RawKeepalive.Http;

/// <summary>Strict HTTP/1.x response-head parser over a byte span: no copies, no strings, no
/// allocation, no exceptions. An invalid head is Error (the proxy answers 502).</summary>
public static class ResponseParser
{
    public static ParseResult Parse(ReadOnlySpan<byte> buffer, ResponseHead head) => throw new NotImplementedException();
}
