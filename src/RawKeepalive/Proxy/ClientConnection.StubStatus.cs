using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;

namespace RawKeepalive.Proxy;

/// <summary>The locally answered pages of the processes work: stub_status and the 403 of allow/deny.</summary>
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
        else SendLocal(200, close: false, location: null, text: null, plain: page[..n]);
    }
}
