using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Native;
using RawKeepalive.Routing;

namespace RawKeepalive.Transforms;

/// <summary>Evaluates a compiled value template for the request a client connection is on, writing
/// bytes straight into the head being generated (or counting them, with a measuring writer): no
/// strings, no allocation. Bytes that come from the client's request are appended as such, so a head
/// that grows too big can be blamed on the right party.</summary>
public static class VariableWriter
{
    /// <summary>Maps may use maps: deeper than this is a cycle (nginx: "cycle while evaluating variable"),
    /// which evaluates to empty rather than overflowing the stack.</summary>
    private const int MaxDepth = 8;

    private static readonly byte[] HostnameBytes = System.Text.Encoding.ASCII.GetBytes(Environment.MachineName.ToLowerInvariant());
    private static readonly byte[] VersionBytes = System.Text.Encoding.ASCII.GetBytes(Program.Version);

    /// <summary>Appends the value; false when it does not fit (the writer then holds part of it).</summary>
    public static bool TryWrite(ValueTemplate template, IRequestVariables c, ref HeadWriter w) => TryWrite(template, c, ref w, 0);

    /// <summary>The exact length of the value, and how much of it comes from the client.</summary>
    public static int Measure(ValueTemplate template, IRequestVariables c, out int clientBytes) => Measure(template, c, out clientBytes, 0);

    internal static int Measure(ValueTemplate template, IRequestVariables c, out int clientBytes, int depth)
    {
        var w = HeadWriter.Measuring();
        TryWrite(template, c, ref w, depth);
        clientBytes = w.ClientBytes;
        return w.Length;
    }

    /// <summary>Appends one variable's value (the log writer escapes each value on its own).</summary>
    public static bool TryWriteVariable(in TemplateSegment seg, IRequestVariables c, ref HeadWriter w) => TryWriteVariable(seg, c, ref w, 0);

    /// <summary>Whether a variable that wrote nothing has no value at all (nginx's not_found, logged as "-"
    /// under the default escaping) rather than an empty one: an absent request header, argument, cookie
    /// or query (an empty one too), no credentials for $remote_user, no proxy_pass for $proxy_host, no upstream try for an
    /// $upstream_ list, no captured response header.</summary>
    public static bool IsMissing(in TemplateSegment seg, IRequestVariables c)
    {
        var req = c.Request;
        var head = c.RequestHeadBytes;
        return seg.Variable switch
        {
            Variable.HttpHeader => !TryHeaderValue(req, head, seg.HeaderName!, out _),
            Variable.ContentLength => !TryHeaderValue(req, head, "content-length"u8, out _),
            Variable.ContentType => !TryHeaderValue(req, head, "content-type"u8, out _),
            Variable.Args => req.Query.IsEmpty,   // nginx: no args unless the query has a byte ("/?" has none)
            Variable.Arg => !TryQueryArgument(req.Query.Of(head), seg.HeaderName!, out _),
            Variable.Cookie => !TryCookieValue(req, head, seg.HeaderName!, out _),
            Variable.RemoteUser => BasicAuth.UserLength(HeaderValue(req, head, "authorization"u8)) < 0,
            Variable.ProxyHost or Variable.ProxyPort => c.Location?.Group is null,
            Variable.Request => req.MethodToken.IsEmpty && FirstLine(head).IsEmpty,
            >= Variable.Status => RecordVariables.IsMissing(seg, c.Record),
            _ => false,
        };
    }

    /// <summary>The head's first line without its line end (empty lines before it skipped, as the parser does).</summary>
    private static ReadOnlySpan<byte> FirstLine(ReadOnlySpan<byte> head)
    {
        head = head.TrimStart("\r\n"u8);
        int end = head.IndexOfAny((byte)'\r', (byte)'\n');
        return end < 0 ? head : head[..end];
    }

    internal static bool TryWrite(ValueTemplate template, IRequestVariables c, ref HeadWriter w, int depth)
    {
        if (depth > MaxDepth) return true;
        foreach (var seg in template.Segments)
            if (!(seg.IsLiteral ? w.TryAppend(seg.Literal) : TryWriteVariable(seg, c, ref w, depth))) return false;
        return true;
    }

    private static bool TryWriteVariable(in TemplateSegment seg, IRequestVariables c, ref HeadWriter w, int depth)
    {
        var req = c.Request;
        var head = c.RequestHeadBytes;
        switch (seg.Variable)
        {
            case Variable.Host:
                return TryWriteHost(c, head, ref w);
            case Variable.HttpHeader:
                return w.TryAppendClient(HeaderValue(req, head, seg.HeaderName!));
            case Variable.RemoteAddr:
                return TryWriteRemoteAddr(c, ref w);
            case Variable.RemotePort:
                return w.TryAppendDecimal(SockAddr.Port(c.PeerAddress));
            case Variable.ServerAddr:
                return w.TryAppend(c.Listener.AddressBytes);
            case Variable.ServerPort:
                return w.TryAppend(c.Listener.PortBytes);
            case Variable.ServerName:
                return w.TryAppend(c.Server.FirstName);
            case Variable.Scheme:
                return w.TryAppend("http"u8);
            case Variable.RequestUri:
                return w.TryAppendClient(req.Target.Of(head));
            case Variable.Uri:
                return req.Path.IsEmpty ? w.TryAppend("/"u8) : w.TryAppendClient(req.Path.Of(head));
            case Variable.Args:
                return w.TryAppendClient(req.Query.Of(head));
            case Variable.RequestMethod:
                return w.TryAppendClient(req.MethodToken.Of(head));
            case Variable.ProxyHost:
                return w.TryAppend(c.Location?.ProxyHost ?? []);
            case Variable.ProxyPort:
                return w.TryAppend(c.Location?.ProxyPort ?? []);
            case Variable.ProxyAddXForwardedFor:
                for (int i = 0; i < req.HeaderCount; i++)
                {
                    ref var h = ref req.Headers[i];
                    if (h.Kind == HeaderKind.XForwardedFor && !(w.TryAppendClient(h.Value.Of(head)) && w.TryAppend(", "u8))) return false;
                }
                return TryWriteRemoteAddr(c, ref w);
            case Variable.ServerProtocol:
                return w.TryAppend(req.VersionMinor == 1 ? "HTTP/1.1"u8 : "HTTP/1.0"u8);
            case Variable.ContentLength:
                return w.TryAppendClient(HeaderValue(req, head, "content-length"u8));
            case Variable.ContentType:
                return w.TryAppendClient(HeaderValue(req, head, "content-type"u8));
            case Variable.Connection:
                return w.TryAppendDecimal(c.ConnectionNumber);
            case Variable.ConnectionRequests:
                return w.TryAppendDecimal(c.ConnectionRequests);
            case Variable.RequestId:
                return w.TryAppend(c.RequestId);
            case Variable.Msec:
            case Variable.TimeLocal:
            case Variable.TimeIso8601:
            {
                Span<byte> tmp = stackalloc byte[TimeVariables.MaxLength];
                int n = seg.Variable switch
                {
                    Variable.Msec => TimeVariables.FormatMsec(tmp),
                    Variable.TimeLocal => TimeVariables.FormatLocal(tmp),
                    _ => TimeVariables.FormatIso8601(tmp),
                };
                return w.TryAppend(tmp[..n]);
            }
            case Variable.Arg:
                return w.TryAppendClient(QueryArgument(req.Query.Of(head), seg.HeaderName!));
            case Variable.IsArgs:
                return req.Query.IsEmpty || w.TryAppend("?"u8);
            case Variable.Cookie:
                return w.TryAppendClient(CookieValue(req, head, seg.HeaderName!));
            case Variable.Request:
                if (req.MethodToken.IsEmpty) return w.TryAppendClient(FirstLine(head));   // a request line that did not parse: as received, as nginx logs it
                return w.TryAppendClient(req.MethodToken.Of(head)) && w.TryAppend(" "u8) && w.TryAppendClient(req.Target.Of(head))
                    && w.TryAppend(req.VersionMinor == 1 ? " HTTP/1.1"u8 : " HTTP/1.0"u8);
            case Variable.Hostname:
                return w.TryAppend(HostnameBytes);
            case Variable.Pid:
                return w.TryAppendDecimal(Environment.ProcessId);
            case Variable.NginxVersion:
                return w.TryAppend(VersionBytes);
            case Variable.Map:
                return MapRuntime.TryWrite(seg.Map!, c, ref w, depth);
            case Variable.RemoteUser:
            {
                var authorization = HeaderValue(req, head, "authorization"u8);
                int user = BasicAuth.UserLength(authorization);
                return user <= 0 || BasicAuth.TryWriteUser(authorization, user, ref w);
            }
            default:   // Status and after: the request record's
                return RecordVariables.TryWrite(seg, c, ref w);
        }
    }

    /// <summary>$host: the Host header lower-cased without its port or trailing dot, else the server's first name.</summary>
    private static bool TryWriteHost(IRequestVariables c, ReadOnlySpan<byte> head, ref HeadWriter w)
    {
        var req = c.Request;
        var host = req.HasHost ? ServerNameMatcher.Normalise(req.Host.Of(head)) : default;
        return host.IsEmpty ? w.TryAppend(c.Server.FirstName) : w.TryAppendClientLower(host);
    }

    /// <summary>$http_NAME: the first header of that name (nginx joins only cookies; the rest take the first).</summary>
    private static ReadOnlySpan<byte> HeaderValue(RequestHead req, ReadOnlySpan<byte> head, ReadOnlySpan<byte> name) =>
        TryHeaderValue(req, head, name, out var value) ? value : default;

    private static bool TryHeaderValue(RequestHead req, ReadOnlySpan<byte> head, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < req.HeaderCount; i++)
        {
            ref var h = ref req.Headers[i];
            if (System.Text.Ascii.EqualsIgnoreCase(h.Name.Of(head), name))
            {
                value = h.Value.Of(head);
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>$arg_NAME as ngx_http_arg: the raw value of the first "NAME=" at the start of the query or
    /// after a "&amp;", the name compared case-insensitively; empty when absent.</summary>
    internal static ReadOnlySpan<byte> QueryArgument(ReadOnlySpan<byte> query, ReadOnlySpan<byte> name) =>
        TryQueryArgument(query, name, out var value) ? value : default;

    private static bool TryQueryArgument(ReadOnlySpan<byte> query, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        while (!query.IsEmpty)
        {
            int amp = query.IndexOf((byte)'&');
            var pair = amp < 0 ? query : query[..amp];
            if (pair.Length > name.Length && pair[name.Length] == (byte)'=' && System.Text.Ascii.EqualsIgnoreCase(pair[..name.Length], name))
            {
                value = pair[(name.Length + 1)..];
                return true;
            }
            if (amp < 0) break;
            query = query[(amp + 1)..];
        }
        value = default;
        return false;
    }

    /// <summary>$cookie_NAME: the value of the first cookie NAME (exact name) in any Cookie header.</summary>
    private static ReadOnlySpan<byte> CookieValue(RequestHead req, ReadOnlySpan<byte> head, ReadOnlySpan<byte> name) =>
        TryCookieValue(req, head, name, out var value) ? value : default;

    private static bool TryCookieValue(RequestHead req, ReadOnlySpan<byte> head, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < req.HeaderCount; i++)
        {
            ref var h = ref req.Headers[i];
            if (System.Text.Ascii.EqualsIgnoreCase(h.Name.Of(head), "cookie"u8) && TryCookie(h.Value.Of(head), name, out value))
                return true;
        }
        value = default;
        return false;
    }

    internal static bool TryCookie(ReadOnlySpan<byte> header, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        foreach (var range in header.Split((byte)';'))
        {
            var pair = header[range].TrimStart((byte)' ');
            if (pair.Length > name.Length && pair[name.Length] == (byte)'=' && pair.StartsWith(name))
            {
                value = pair[(name.Length + 1)..].TrimEnd((byte)' ');
                return true;
            }
        }
        value = default;
        return false;
    }

    private static bool TryWriteRemoteAddr(IRequestVariables c, ref HeadWriter w)
    {
        Span<byte> tmp = stackalloc byte[64];
        int n = SockAddr.FormatAddress(c.PeerAddress, tmp);
        return w.TryAppend(tmp[..n]);
    }
}
