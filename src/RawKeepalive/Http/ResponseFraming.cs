namespace RawKeepalive.Http;

/// <summary>What a response head means for the exchange: how its body is framed to the client,
/// whether the upstream connection may carry another request, whether the client's may.</summary>
/// <param name="Mode">How the body reaches the client.</param>
/// <param name="UpstreamReusable">The wire allows another request on the upstream connection once
/// this body is read: the caller still requires a pool, and later faults (bytes past the body, a
/// malformed chunk, an early close) still take it back.</param>
/// <param name="ClientKeepAlive">The client's connection stays open after this response (the head
/// says "Connection: keep-alive"); later faults still close it.</param>
public readonly record struct FramingDecision(ResponseBodyMode Mode, bool UpstreamReusable, bool ClientKeepAlive);

/// <summary>The response-framing decision, from the request and the final response head alone:
/// pure, no allocation. What is not wire format (the upstream's pool, keepalive_requests,
/// keepalive_timeout, a stopping worker) is the caller's to combine with it.</summary>
public static class ResponseFraming
{
    /// <summary>Decides the body mode (RFC 9112 6.3), upstream reuse and client keep-alive.</summary>
    /// <param name="method">The request's method: a response to HEAD has no body.</param>
    /// <param name="requestMinor">The client's HTTP/1.x minor version: a chunked body goes to an
    /// HTTP/1.0 client as its data only (Dechunk), and that client's connection then closes.</param>
    /// <param name="requestBodySent">The whole request, body included (trivially when it has none),
    /// has gone to the upstream so far, when the response head is decided. The body may still be
    /// going out after the head arrives, so this is "sent so far", not "sent in the end": an
    /// upstream that answers before it has the whole body is never reused here, and the caller
    /// checks again when the exchange ends, for a body left unsent.</param>
    /// <param name="clientWantsKeepAlive">The request asked for keep-alive and the caller's limits
    /// (keepalive_requests, keepalive_timeout, a stopping worker) allow another request.</param>
    /// <param name="response">A final head, parsed without error: ResponseParser refuses framing
    /// conflicts (Content-Length with Transfer-Encoding, two of either, a coding other than chunked),
    /// so none reaches here. A 1xx is interim and the caller never decides on one (101 is refused,
    /// the others dropped); given one, it is bodiless, as RFC 9112 6.3 says.</param>
    public static FramingDecision Decide(HttpMethod method, int requestMinor, bool requestBodySent, bool clientWantsKeepAlive, ResponseHead response)
    {
        bool bodiless = method == HttpMethod.Head || response.Status is < 200 or 204 or 304;
        ResponseBodyMode mode =
            bodiless ? ResponseBodyMode.None
            : response.Chunked ? (requestMinor == 1 ? ResponseBodyMode.ChunkedPassthrough : ResponseBodyMode.Dechunk)
            : response.ContentLength >= 0 ? ResponseBodyMode.Length
            : ResponseBodyMode.UntilClose;

        // HTTP/1.1 is persistent unless it says close; HTTP/1.0 only when it says keep-alive (RFC 9112 9.3).
        bool upstreamKeepAlive = !response.ConnectionClose && (response.VersionMinor == 1 || response.ConnectionKeepAlive);
        bool upstreamReusable = upstreamKeepAlive && mode != ResponseBodyMode.UntilClose && requestBodySent;
        bool clientKeepAlive = clientWantsKeepAlive && mode is not (ResponseBodyMode.UntilClose or ResponseBodyMode.Dechunk);
        return new FramingDecision(mode, upstreamReusable, clientKeepAlive);
    }
}
