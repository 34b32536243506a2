namespace RawKeepalive.Http;

/// <summary>Method token to HttpMethod. Methods are case-sensitive (RFC 9110 9.1): "get" is an
/// unknown method, not GET.</summary>
internal static class HttpMethodNames
{
    public static HttpMethod Classify(ReadOnlySpan<byte> m) => m.Length switch
    {
        3 => m.SequenceEqual("GET"u8) ? HttpMethod.Get : m.SequenceEqual("PUT"u8) ? HttpMethod.Put : HttpMethod.Unknown,
        4 => m.SequenceEqual("HEAD"u8) ? HttpMethod.Head : m.SequenceEqual("POST"u8) ? HttpMethod.Post : HttpMethod.Unknown,
        5 => m.SequenceEqual("PATCH"u8) ? HttpMethod.Patch : m.SequenceEqual("TRACE"u8) ? HttpMethod.Trace : HttpMethod.Unknown,
        6 => m.SequenceEqual("DELETE"u8) ? HttpMethod.Delete : HttpMethod.Unknown,
        7 => m.SequenceEqual("OPTIONS"u8) ? HttpMethod.Options : m.SequenceEqual("CONNECT"u8) ? HttpMethod.Connect : HttpMethod.Unknown,
        _ => HttpMethod.Unknown,
    };
}
