
namespace RawKeepalive.Http;

/// <summary>The fixed pieces of the heads we generate, pinned so iovecs can point at them, and
/// small writers for the variable ones, which report whether they fit and never allocate.</summary>
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

    /// <summary>"Content-Length: N\r\n".</summary>
    public static bool TryWriteContentLength(long length, ref HeadWriter w) =>
        w.TryAppend("Content-Length: "u8) && w.TryAppendDecimal(length) && w.TryAppend("\r\n"u8);

    /// <summary>"200 OK\r\n" for a status of our own.</summary>
    public static bool TryWriteStatusLine(int status, ref HeadWriter w)
    {
        if (!w.TryAppendDecimal(status) || !w.TryAppendByte((byte)' ')) return false;
        foreach (char c in StatusText.Reason(status))
            if (!w.TryAppendByte((byte)c)) return false;
        return w.TryAppend("\r\n"u8);
    }
}
