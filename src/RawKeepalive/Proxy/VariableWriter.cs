using System.Buffers.Text;
using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Native;

namespace RawKeepalive.Proxy;

/// <summary>Evaluates a compiled value template for the request a client connection is on,
/// writing bytes straight into the head being generated: no strings, no allocation.</summary>
public static class VariableWriter
{
    /// <summary>Maps may use maps: deeper than this is a cycle (nginx: "cycle while evaluating variable"),
    /// which evaluates to empty rather than overflowing the stack.</summary>
    private const int MaxDepth = 8;

    private static readonly byte[] HostnameBytes = System.Text.Encoding.ASCII.GetBytes(Environment.MachineName.ToLowerInvariant());
    private static readonly byte[] VersionBytes = System.Text.Encoding.ASCII.GetBytes(Program.Version);

    /// <summary>Writes the value into <paramref name="dest"/>; returns the bytes written (what does not fit is cut).</summary>
    public static int Write(ValueTemplate template, ClientConnection c, Span<byte> dest) => Write(template, c, dest, 0);

    internal static int Write(ValueTemplate template, ClientConnection c, Span<byte> dest, int depth)
    {
        if (depth > MaxDepth) return 0;
        int n = 0;
        foreach (var seg in template.Segments)
        {
            if (n >= dest.Length) break;
            n += seg.IsLiteral ? HeaderBytes.Copy(seg.Literal, dest[n..]) : WriteVariable(seg, c, dest[n..], depth);
        }
        return n;
    }

    private static int WriteVariable(TemplateSegment seg, ClientConnection c, Span<byte> dest, int depth)
    {
        var req = c.Request;
        var head = c.RequestHeadBytes;
        switch (seg.Variable)
        {
            case Variable.Host:
                return WriteHost(c, head, dest);
            case Variable.HttpHeader:
                return WriteHeader(req, head, seg.HeaderName!, dest);
            case Variable.RemoteAddr:
                return WriteRemoteAddr(c, dest);
            case Variable.RemotePort:
                return Utf8Formatter.TryFormat(SockAddr.Port(c.PeerAddress), dest, out int w) ? w : 0;
            case Variable.ServerAddr:
                return HeaderBytes.Copy(c.Listener.AddressBytes, dest);
            case Variable.ServerPort:
                return HeaderBytes.Copy(c.Listener.PortBytes, dest);
            case Variable.ServerName:
                return HeaderBytes.Copy(c.Server.FirstName, dest);
            case Variable.Scheme:
                return HeaderBytes.Copy("http"u8, dest);
            case Variable.RequestUri:
                return HeaderBytes.Copy(req.Target.Of(head), dest);
            case Variable.Uri:
                return HeaderBytes.Copy(req.Path.IsEmpty ? "/"u8 : req.Path.Of(head), dest);
            case Variable.Args:
                return HeaderBytes.Copy(req.Query.Of(head), dest);
            case Variable.RequestMethod:
                return HeaderBytes.Copy(req.MethodToken.Of(head), dest);
            case Variable.ProxyHost:
                return HeaderBytes.Copy(c.Location?.ProxyHost ?? [], dest);
            case Variable.ProxyPort:
                return HeaderBytes.Copy(c.Location?.ProxyPort ?? [], dest);
            case Variable.ProxyAddXForwardedFor:
            {
                int n = 0;
                for (int i = 0; i < req.HeaderCount; i++)
                {
                    ref var h = ref req.Headers[i];
                    if (h.Kind != HeaderKind.XForwardedFor) continue;
                    n += HeaderBytes.Copy(h.Value.Of(head), dest[n..]);
                    n += HeaderBytes.Copy(", "u8, dest[n..]);
                }
                return n + WriteRemoteAddr(c, dest[n..]);
            }
            case Variable.ServerProtocol:
                return HeaderBytes.Copy(req.VersionMinor == 1 ? "HTTP/1.1"u8 : "HTTP/1.0"u8, dest);
            case Variable.ContentLength:
                return WriteHeader(req, head, "content-length"u8, dest);
            case Variable.ContentType:
                return WriteHeader(req, head, "content-type"u8, dest);
            case Variable.Connection:
                return Utf8Formatter.TryFormat(c.Number, dest, out int cw) ? cw : 0;
            case Variable.ConnectionRequests:
                return Utf8Formatter.TryFormat(c.ConnectionRequests, dest, out int rw) ? rw : 0;
            case Variable.RequestId:
                return HeaderBytes.Copy(c.RequestId, dest);
            case Variable.Msec:
                return TimeVariables.WriteMsec(dest);
            case Variable.TimeLocal:
                return TimeVariables.WriteLocal(dest);
            case Variable.TimeIso8601:
                return TimeVariables.WriteIso8601(dest);
            case Variable.Arg:
                return HeaderBytes.Copy(QueryArgument(req.Query.Of(head), seg.HeaderName!), dest);
            case Variable.IsArgs:
                return req.Query.IsEmpty ? 0 : HeaderBytes.Copy("?"u8, dest);
            case Variable.Cookie:
                return WriteCookie(req, head, seg.HeaderName!, dest);
            case Variable.Request:
            {
                int n = HeaderBytes.Copy(req.MethodToken.Of(head), dest);
                n += HeaderBytes.Copy(" "u8, dest[n..]);
                n += HeaderBytes.Copy(req.Target.Of(head), dest[n..]);
                return n + HeaderBytes.Copy(req.VersionMinor == 1 ? " HTTP/1.1"u8 : " HTTP/1.0"u8, dest[n..]);
            }
            case Variable.Hostname:
                return HeaderBytes.Copy(HostnameBytes, dest);
            case Variable.Pid:
                return Utf8Formatter.TryFormat(Environment.ProcessId, dest, out int pw) ? pw : 0;
            case Variable.NginxVersion:
                return HeaderBytes.Copy(VersionBytes, dest);
            case Variable.Map:
                return MapRuntime.Write(seg.Map!, c, dest, depth);
        }
        return 0;
    }

    /// <summary>$host: the Host header lower-cased without its port or trailing dot, else the server's first name.</summary>
    private static int WriteHost(ClientConnection c, ReadOnlySpan<byte> head, Span<byte> dest)
    {
        var req = c.Request;
        var host = req.HasHost ? ServerNameMatcher.Normalise(req.Host.Of(head)) : default;
        if (host.IsEmpty) return HeaderBytes.Copy(c.Server.FirstName, dest);
        int n = HeaderBytes.Copy(host, dest);
        System.Text.Ascii.ToLowerInPlace(dest[..n], out _);
        return n;
    }

    /// <summary>$http_NAME: the first header of that name (nginx joins only cookies; the rest take the first).</summary>
    private static int WriteHeader(RequestHead req, ReadOnlySpan<byte> head, ReadOnlySpan<byte> name, Span<byte> dest)
    {
        for (int i = 0; i < req.HeaderCount; i++)
        {
            ref var h = ref req.Headers[i];
            if (System.Text.Ascii.EqualsIgnoreCase(h.Name.Of(head), name)) return HeaderBytes.Copy(h.Value.Of(head), dest);
        }
        return 0;
    }

    /// <summary>$arg_NAME as ngx_http_arg: the raw value of the first "NAME=" at the start of the query or
    /// after a "&amp;", the name compared case-insensitively; empty when absent.</summary>
    internal static ReadOnlySpan<byte> QueryArgument(ReadOnlySpan<byte> query, ReadOnlySpan<byte> name)
    {
        while (!query.IsEmpty)
        {
            int amp = query.IndexOf((byte)'&');
            var pair = amp < 0 ? query : query[..amp];
            if (pair.Length > name.Length && pair[name.Length] == (byte)'=' && System.Text.Ascii.EqualsIgnoreCase(pair[..name.Length], name))
                return pair[(name.Length + 1)..];
            if (amp < 0) break;
            query = query[(amp + 1)..];
        }
        return default;
    }

    /// <summary>$cookie_NAME: the value of the first cookie NAME (exact name) in any Cookie header.</summary>
    private static int WriteCookie(RequestHead req, ReadOnlySpan<byte> head, ReadOnlySpan<byte> name, Span<byte> dest)
    {
        for (int i = 0; i < req.HeaderCount; i++)
        {
            ref var h = ref req.Headers[i];
            if (System.Text.Ascii.EqualsIgnoreCase(h.Name.Of(head), "cookie"u8) && TryCookie(h.Value.Of(head), name, out var value))
                return HeaderBytes.Copy(value, dest);
        }
        return 0;
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

    private static int WriteRemoteAddr(ClientConnection c, Span<byte> dest)
    {
        Span<byte> tmp = stackalloc byte[64];
        int n = SockAddr.FormatAddress(c.PeerAddress, tmp);
        return HeaderBytes.Copy(tmp[..n], dest);
    }
}
