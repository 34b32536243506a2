using RawKeepalive.Http;
using RawKeepalive.Native;
using RawKeepalive.Observability;

namespace RawKeepalive.Proxy;

/// <summary>Pages answered here: stub_status, the 403 of allow/deny, and OPTIONS *.</summary>
public sealed unsafe partial class ClientConnection
{
    private void RespondForbidden()
    {
        _w.Log.Write(LogLevel.Error, Number, $"access forbidden by rule{Context()}");
        RespondLocal(403, close: false);
    }

    /// <summary>ngx_http_stub_status_module's text/plain page with the counters summed over all
    /// workers. Formatted on the stack: no allocation.</summary>
    private void RespondStubStatus()
    {
        Span<byte> page = stackalloc byte[StubStatus.MaxLength];
        int n = StubStatus.Write(_w.Segment.Sum(), page);
        if (n < 0) FailInternally("the stub_status page does not fit its buffer");
        else SendLocal(200, close: false, new LocalContent { Plain = page[..n] });
    }

    private static readonly byte[] AllowLine = PinnedBytes.Ascii("Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH\r\n");

    /// <summary>"OPTIONS *" asks about the server itself, not a resource (RFC 9110 9.3.7), so the proxy
    /// answers it and never forwards it: every method but CONNECT is proxied. nginx answers 400.</summary>
    private void RespondOptionsAsterisk() => SendLocal(200, close: false, new LocalContent { Lines = AllowLine });
}
