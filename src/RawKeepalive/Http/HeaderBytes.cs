using System.Buffers.Text;
using RawKeepalive.Loop;

namespace RawKeepalive.Http;

/// <summary>The fixed pieces of the heads we generate, pinned so iovecs can point at them, and
/// small writers for the variable ones. Writers return bytes written and never allocate.</summary>
public static class HeaderBytes
{
    public static readonly byte[] Slash = PinnedBytes.Ascii("/");
    public static readonly byte[] RequestVersion11 = PinnedBytes.Ascii(" HTTP/1.1\r\n");
    public static readonly byte[] RequestVersion10 = PinnedBytes.Ascii(" HTTP/1.0\r\n");
    public static readonly byte[] ResponseVersion = PinnedBytes.Ascii("HTTP/1.1 ");
    public static readonly byte[] ServerAndDatePrefix = PinnedBytes.Ascii("Server: rawkeepalive\r\nDate: ");
    public static readonly byte[] TransferEncodingChunked = PinnedBytes.Ascii("Transfer-Encoding: chunked\r\n");
    public static readonly byte[] ConnectionKeepAlive = PinnedBytes.Ascii("Connection: keep-alive\r\n");
    public static readonly byte[] ConnectionClose = PinnedBytes.Ascii("Connection: close\r\n");
    public static readonly byte[] ContentTypeHtml = PinnedBytes.Ascii("Content-Type: text/html\r\n");
    public static readonly byte[] ContentTypeText = PinnedBytes.Ascii("Content-Type: text/plain\r\n");

    /// <summary>Copies as much as fits (a head that outgrows its scratch is cut, never overrun).</summary>
    public static int Copy(ReadOnlySpan<byte> src, Span<byte> dest)
    {
        int n = Math.Min(src.Length, dest.Length);
        src[..n].CopyTo(dest);
        return n;
    }

    public static int ContentLength(long length, Span<byte> dest)
    {
        int n = Copy("Content-Length: "u8, dest);
        if (!Utf8Formatter.TryFormat(length, dest[n..], out int w)) return n;
        n += w;
        return n + Copy("\r\n"u8, dest[n..]);
    }

    /// <summary>"200 OK\r\n" for a status of our own.</summary>
    public static int StatusLine(int status, Span<byte> dest)
    {
        Utf8Formatter.TryFormat(status, dest, out int n);
        n += Copy(" "u8, dest[n..]);
        foreach (char c in StatusText.Reason(status))
            if (n < dest.Length) dest[n++] = (byte)c;
        return n + Copy("\r\n"u8, dest[n..]);
    }
}
