namespace RawKeepalive.Http;

public enum HttpMethod : byte { Unknown, Get, Head, Post, Put, Delete, Options, Patch, Trace, Connect }

public static class HttpMethods
{
    /// <summary>RFC 9110 9.2.2: the methods a proxy may replay after a stale pooled connection died.</summary>
    public static bool IsIdempotent(HttpMethod m) =>
        m is HttpMethod.Get or HttpMethod.Head or HttpMethod.Put or HttpMethod.Delete or HttpMethod.Options or HttpMethod.Trace;
}
