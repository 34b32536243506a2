using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Observability;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>What a local response carries besides its status and head.</summary>
public readonly ref struct LocalContent
{
    /// <summary>A redirect's Location value.</summary>
    public ValueTemplate? Location { get; init; }
    /// <summary>return's text, evaluated into a text/plain body.</summary>
    public ValueTemplate? Text { get; init; }
    /// <summary>A text/plain body made already (stub_status).</summary>
    public ReadOnlySpan<byte> Plain { get; init; }
    /// <summary>A body made already in a pinned buffer, sent from where it is (the metrics page): its first
    /// <see cref="PinnedLength"/> bytes.</summary>
    public byte[]? Pinned { get; init; }
    public int PinnedLength { get; init; }
    /// <summary>The Content-Type line of a textual body; text/plain when empty.</summary>
    public ReadOnlySpan<byte> ContentType { get; init; }
    /// <summary>Header lines of its own, CRLF-terminated (OPTIONS *'s Allow).</summary>
    public ReadOnlySpan<byte> Lines { get; init; }

    public bool IsTextual => IsInline || Pinned is not null;
    /// <summary>Its body is written after the head, in the same area (return's text, stub_status).</summary>
    public bool IsInline => Text is not null || !Plain.IsEmpty;
    /// <summary>Nothing in it depends on the request: its head has a small fixed size.</summary>
    public bool IsFixed => Location is null && Text is null;
}

/// <summary>Responses made here rather than upstream, in one place: errors and bad requests, return
/// (text and redirects), stub_status, and OPTIONS *. Each is measured, then written into room of its
/// exact size (<see cref="GeneratedHeads"/>), and sent by the exchange like any response head.</summary>
public sealed unsafe class LocalResponder
{
    private static readonly byte[] AllowLine = PinnedBytes.Ascii("Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH\r\n");

    private readonly Worker _w;
    private readonly ClientConnection _client;
    private readonly Exchange _x;

    public LocalResponder(Worker worker, ClientConnection client, Exchange exchange)
    {
        _w = worker;
        _client = client;
        _x = exchange;
    }

    /// <summary>A response made here for an error status: an HTML error page where nginx has one.</summary>
    public void Respond(int status, bool close) => Send(status, close, default);

    /// <summary>A request that could not be parsed; RFC 9110 15.5.6: a 405 names the methods that are
    /// allowed (nginx's has no Allow).</summary>
    public void RespondBadRequest(int status) =>
        Send(status, close: true, status == 405 ? new LocalContent { Lines = AllowLine } : default);

    /// <summary>"OPTIONS *" asks about the server itself, not a resource (RFC 9110 9.3.7), so the proxy
    /// answers it and never forwards it: every method but CONNECT is proxied. nginx answers 400.</summary>
    public void RespondOptionsAsterisk() => Send(200, close: false, new LocalContent { Lines = AllowLine });

    public void RespondReturn(ReturnConfig ret)
    {
        bool redirect = ret.Status is 301 or 302 or 303 or 307 or 308;
        Send(ret.Status, close: false, redirect ? new LocalContent { Location = ret.Text } : new LocalContent { Text = ret.Text });
    }

    /// <summary>ngx_http_stub_status_module's text/plain page with the counters summed over all
    /// workers. Formatted on the stack: no allocation.</summary>
    public void RespondStubStatus()
    {
        Span<byte> page = stackalloc byte[StubStatus.MaxLength];
        int n = StubStatus.Write(_w.Segment.Sum(), page);
        if (n < 0) _x.Generated.FailInternally("the stub_status page does not fit its buffer");
        else Send(200, close: false, new LocalContent { Plain = page[..n] });
    }

    /// <summary>The metrics page (Prometheus's text format), summed over every worker: measured, then
    /// written into a pinned buffer of the worker's pool, and sent from there. A page over the room sized
    /// for it when the config loaded is never cut: the request gets a 500 and the log an [alert].</summary>
    public void RespondMetrics()
    {
        var metrics = _w.Metrics;
        int length = metrics.Measure(_w.Segment);
        if (length < 0 || length > metrics.Capacity)
        {
            _w.Log.Write(LogLevel.Alert, _client.Number, length < 0
                ? $"the metrics page has room for {metrics.MaxPeers} upstream peers, and the counters hold more{_x.Context()}"
                : $"the metrics page would take {length} bytes, over the {metrics.Capacity} sized for it{_x.Context()}");
            Respond(500, close: false);
            return;
        }
        // Twice its size: the page grows a digit at a time as the counters do, and a buffer it still fits
        // is taken again from the pool, so scrapes allocate nothing once the first has.
        byte[] page = _x.Generated.RentBody(2 * length);
        if (metrics.Write(page.AsSpan(0, length)) != length) _x.Generated.FailInternally("the metrics page differs from its measured length");
        else Send(200, close: false, new LocalContent { Pinned = page, PinnedLength = length, ContentType = MetricsPage.ContentType });
    }

    /// <summary>A response made here, measured and then written into room of its exact size: the head,
    /// then a text/plain body if the content has one; a pinned body (nginx's HTML page for an error
    /// status, the metrics page) stays where it is.</summary>
    private void Send(int status, bool close, in LocalContent content)
    {
        if (!Begin(status, close)) return;
        byte[] page = content.Pinned ?? (!content.IsTextual && status >= 300 && status != 304 ? _w.ErrorPages.Get(status) : []);
        int pageLength = content.Pinned is null ? page.Length : content.PinnedLength;
        int textLength = content.Text is null ? content.Plain.Length : VariableWriter.Measure(content.Text, _x.Variables, out _);
        var measured = HeadWriter.Measuring();
        TryWrite(ref measured, status, content, textLength, pageLength);

        if (!_x.Generated.TryReserveLocal(measured, content.IsFixed, out byte* area)) return;
        var w = new HeadWriter(new Span<byte>(area, measured.Length));
        if (!TryWrite(ref w, status, content, textLength, pageLength) || w.Length != measured.Length)
        {
            if (status == 500) _client.Close();   // the error response itself failed: nothing else is left to say
            else _x.Generated.FailInternally("a local response differs from its measured length");
            return;
        }
        _x.ResponseHeadLength = textLength > 0 && _x.Request.Method != HttpMethod.Head ? w.Length - textLength : w.Length;
        _x.Record.Headers.CaptureGenerated(new ReadOnlySpan<byte>(area, (int)_x.ResponseHeadLength));
        ref var iov = ref _x.ResponseIov;
        _x.Generated.InitResponseIov(ref iov);
        if (!iov.Add(area, w.Length) || _x.Request.Method != HttpMethod.Head && !iov.Add(PinnedBytes.Address(page), pageLength))
            _client.Close();   // two entries in an empty list of 128: cannot happen
    }

    private bool TryWrite(ref HeadWriter w, int status, in LocalContent content, int textLength, int pageLength)
    {
        bool textual = content.IsTextual;
        var vars = _x.Variables;
        bool head = w.TryAppend(HeaderBytes.ResponseVersion) && HeaderBytes.TryWriteStatusLine(status, ref w) && _x.Generated.TryWriteServerAndDate(ref w)
            && (content.Location is null || w.TryAppend("Location: "u8) && VariableWriter.TryWrite(content.Location, vars, ref w) && w.TryAppend("\r\n"u8))
            && w.TryAppend(content.Lines)
            && (textual ? w.TryAppend(content.ContentType.IsEmpty ? HeaderBytes.ContentTypeText : content.ContentType)
                : pageLength == 0 || w.TryAppend(HeaderBytes.ContentTypeHtml))
            && HeaderBytes.TryWriteContentLength(content.IsInline ? textLength : pageLength, ref w)
            && w.TryAppend(_x.KeepClient ? HeaderBytes.ConnectionKeepAlive : HeaderBytes.ConnectionClose)
            && w.TryAppend("\r\n"u8);
        if (!head || !content.IsInline || _x.Request.Method == HttpMethod.Head) return head;
        return content.Text is null ? w.TryAppend(content.Plain) : VariableWriter.TryWrite(content.Text, vars, ref w);
    }

    /// <summary>The exchange becomes a response made here; false when no scratch buffer could be had
    /// (the connection is then closed).</summary>
    private bool Begin(int status, bool close)
    {
        if (_x.Upstream.Connection is not null) _x.Upstream.Release(reusable: false, UpstreamCloseReason.ErrorMidExchange);
        if (!_x.Generated.RentScratch())
        {
            _client.Close();
            return false;
        }
        _client.State = ClientState.Exchanging;
        _x.Status = status;
        _x.ResponseHeadParsed = true;
        _x.ResponseBody.BeginLocal();
        _x.KeepClient = !close && _x.ClientMayKeepAlive();
        _x.RequestBody.ForgetSent();
        return true;
    }
}
