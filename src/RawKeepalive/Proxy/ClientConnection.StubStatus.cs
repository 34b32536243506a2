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
    /// workers. Formatted into scratch: no allocation.</summary>
    private void RespondStubStatus()
    {
        if (_up is not null) ReleaseUpstream(reusable: false);
        State = ClientState.Exchanging;
        _respHeadParsed = true;
        _respBodyDone = true;
        _respMode = ResponseBodyMode.None;
        _keepClient = ClientMayKeepAlive();
        _requestSent = false;

        var gen = new Span<byte>(Scratch + ResponseGenOffset, BufferSize - ResponseGenOffset);
        Span<byte> body = gen[(gen.Length / 2)..];
        var totals = _w.Segment.Sum();
        int len = StubStatus.Write(totals, body);
        int n = HeaderBytes.Copy(HeaderBytes.ResponseVersion, gen);
        n += HeaderBytes.StatusLine(200, gen[n..]);
        n += WriteServerAndDate(gen[n..]);
        n += HeaderBytes.Copy(HeaderBytes.ContentTypeText, gen[n..]);
        n += HeaderBytes.ContentLength(len, gen[n..]);
        n += HeaderBytes.Copy(_keepClient ? HeaderBytes.ConnectionKeepAlive : HeaderBytes.ConnectionClose, gen[n..]);
        n += HeaderBytes.Copy("\r\n"u8, gen[n..]);
        if (_req.Method != HttpMethod.Head)
        {
            body[..len].CopyTo(gen[n..]);
            n += len;
        }
        _respIov.Init((Iovec*)(Scratch + ResponseIovOffset), IovecCapacity);
        _respIov.Add(Scratch + ResponseGenOffset, n);
    }
}
