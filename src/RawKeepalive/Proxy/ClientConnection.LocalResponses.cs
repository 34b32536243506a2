using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Upstream;
using RawKeepalive.Transforms;

namespace RawKeepalive.Proxy;

/// <summary>This file: responses made here rather than upstream, in one place: errors and bad
/// requests, return (text and redirects), stub_status, the 403 of allow/deny, and OPTIONS *.</summary>
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

    /// <summary>What a local response carries besides its status and head.</summary>
    private readonly ref struct LocalContent
    {
        /// <summary>A redirect's Location value.</summary>
        public ValueTemplate? Location { get; init; }
        /// <summary>return's text, evaluated into a text/plain body.</summary>
        public ValueTemplate? Text { get; init; }
        /// <summary>A text/plain body made already (stub_status).</summary>
        public ReadOnlySpan<byte> Plain { get; init; }
        /// <summary>Header lines of its own, CRLF-terminated (OPTIONS *'s Allow).</summary>
        public ReadOnlySpan<byte> Lines { get; init; }

        public bool IsTextual => Text is not null || !Plain.IsEmpty;
        /// <summary>Nothing in it depends on the request: its head has a small fixed size.</summary>
        public bool IsFixed => Location is null && Text is null;
    }

    /// <summary>A response made here for an error status: an HTML error page where nginx has one.</summary>
    private void RespondLocal(int status, bool close) => SendLocal(status, close, default);

    private void RespondReturn(ReturnConfig ret)
    {
        bool redirect = ret.Status is 301 or 302 or 303 or 307 or 308;
        SendLocal(ret.Status, close: false, redirect ? new LocalContent { Location = ret.Text } : new LocalContent { Text = ret.Text });
    }

    /// <summary>A response made here, measured and then written into room of its exact size: the head,
    /// then a text/plain body if the content has one, else nginx's HTML page for an error status,
    /// which stays pinned where it is.</summary>
    private void SendLocal(int status, bool close, in LocalContent content)
    {
        if (!BeginLocalResponse(close)) return;
        byte[] page = !content.IsTextual && status >= 300 && status != 304 ? _w.ErrorPages.Get(status) : [];
        int textLength = content.Text is null ? content.Plain.Length : VariableWriter.Measure(content.Text, this, out _);
        var measured = HeadWriter.Measuring();
        TryWriteLocal(ref measured, status, content, textLength, page.Length);

        byte* area;
        if (content.IsFixed) area = Scratch + ResponseGenOffset;   // always fits, never capped
        else if (!TryReserve(measured, "local response", ResponseGenOffset, ResponseGenSize, ref _largeResponseGen, out area)) return;
        var w = new HeadWriter(new Span<byte>(area, measured.Length));
        if (!TryWriteLocal(ref w, status, content, textLength, page.Length) || w.Length != measured.Length)
        {
            if (status == 500) Close();   // the error response itself failed: nothing else is left to say
            else FailInternally("a local response differs from its measured length");
            return;
        }
        _respIov.Init((Iovec*)(Scratch + ResponseIovOffset), IovecCapacity);
        if (!_respIov.Add(area, w.Length) || _req.Method != HttpMethod.Head && !_respIov.Add(PinnedBytes.Address(page), page.Length))
            Close();   // two entries in an empty list of 128: cannot happen
    }

    private bool TryWriteLocal(ref HeadWriter w, int status, in LocalContent content, int textLength, int pageLength)
    {
        bool textual = content.IsTextual;
        bool head = w.TryAppend(HeaderBytes.ResponseVersion) && HeaderBytes.TryWriteStatusLine(status, ref w) && TryWriteServerAndDate(ref w)
            && (content.Location is null || w.TryAppend("Location: "u8) && VariableWriter.TryWrite(content.Location, this, ref w) && w.TryAppend("\r\n"u8))
            && w.TryAppend(content.Lines)
            && (textual ? w.TryAppend(HeaderBytes.ContentTypeText) : pageLength == 0 || w.TryAppend(HeaderBytes.ContentTypeHtml))
            && HeaderBytes.TryWriteContentLength(textual ? textLength : pageLength, ref w)
            && w.TryAppend(_keepClient ? HeaderBytes.ConnectionKeepAlive : HeaderBytes.ConnectionClose)
            && w.TryAppend("\r\n"u8);
        if (!head || !textual || _req.Method == HttpMethod.Head) return head;
        return content.Text is null ? w.TryAppend(content.Plain) : VariableWriter.TryWrite(content.Text, this, ref w);
    }

    /// <summary>The exchange becomes a response made here; false when no scratch buffer could be had
    /// (the connection is then closed).</summary>
    private bool BeginLocalResponse(bool close)
    {
        if (_up is not null) ReleaseUpstream(reusable: false, UpstreamCloseReason.ErrorMidExchange);
        if (_scratch < 0 && (_scratch = _w.Slab.Rent()) < 0)
        {
            Close();
            return false;
        }
        State = ClientState.Exchanging;
        _respHeadParsed = true;
        _body.BeginLocal();
        _keepClient = !close && ClientMayKeepAlive();
        _reqBody.ForgetSent();
        return true;
    }

    private void RespondToBadRequest(int status)
    {
        _w.Log.Write(LogLevel.Info, Number, $"client sent invalid request, answering {status}");
        _location = null;
        _w.Counters.Enter(ref Phase, ClientPhase.Writing);
        _headBuffered = false;
        _req.Method = HttpMethod.Get;
        // The bad head is consumed; only bytes still arriving make the close linger.
        _reqBody.Consume(_end);
        _start = _end;
        // RFC 9110 15.5.6: a 405 names the methods that are allowed (nginx's has no Allow).
        SendLocal(status, close: true, status == 405 ? new LocalContent { Lines = AllowLine } : default);
    }
}
