using System.Buffers.Text;
using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Native;

namespace RawKeepalive.Proxy;

/// <summary>Evaluates a compiled value template for the request a client connection is on,
/// writing bytes straight into the head being generated: no strings, no allocation.</summary>
public static class VariableWriter
{
    /// <summary>Writes the value into <paramref name="dest"/>; returns the bytes written (what does not fit is cut).</summary>
    public static int Write(ValueTemplate template, ClientConnection c, Span<byte> dest)
    {
        int n = 0;
        foreach (var seg in template.Segments)
        {
            if (n >= dest.Length) break;
            n += seg.IsLiteral ? HeaderBytes.Copy(seg.Literal, dest[n..]) : WriteVariable(seg, c, dest[n..]);
        }
        return n;
    }

    private static int WriteVariable(TemplateSegment seg, ClientConnection c, Span<byte> dest)
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
        }
        return 0;
    }

    /// <summary>$host: the Host header lower-cased without its port, else the server's first name.</summary>
    private static int WriteHost(ClientConnection c, ReadOnlySpan<byte> head, Span<byte> dest)
    {
        var req = c.Request;
        if (!req.HasHost || req.Host.IsEmpty) return HeaderBytes.Copy(c.Server.FirstName, dest);
        var host = req.Host.Of(head);
        if (host[0] != (byte)'[')
        {
            int colon = host.LastIndexOf((byte)':');
            if (colon >= 0) host = host[..colon];
        }
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

    private static int WriteRemoteAddr(ClientConnection c, Span<byte> dest)
    {
        Span<byte> tmp = stackalloc byte[64];
        int n = SockAddr.FormatAddress(c.PeerAddress, tmp);
        return HeaderBytes.Copy(tmp[..n], dest);
    }
}
