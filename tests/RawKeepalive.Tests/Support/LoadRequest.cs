namespace RawKeepalive.Tests.Support;

/// <summary>One request of a load run: exact bytes to send and what a correct answer looks like.</summary>
/// <param name="Head">Request head, sent as is.</param>
/// <param name="Body">Bytes sent after the head (already framed: raw, or chunk-encoded).</param>
/// <param name="IsHead">The request is HEAD (the response has no body).</param>
/// <param name="ExpectedBody">When set, the response body must equal it byte for byte.</param>
public sealed record LoadRequest(string Head, byte[]? Body = null, bool IsHead = false, int ExpectedStatus = 200, byte[]? ExpectedBody = null)
{
    public static LoadRequest Get(string path, byte[]? expectedBody = null) =>
        new($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n", ExpectedBody: expectedBody);
}
