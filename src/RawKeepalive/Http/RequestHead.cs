namespace RawKeepalive.Http;

/// <summary>A parsed request head: offsets into the client's receive buffer. One instance per
/// client connection slot, reset and refilled for every request.</summary>
public sealed class RequestHead
{
    public const int MaxHeaders = 100;

    public HttpMethod Method;
    public Slice MethodToken;
    /// <summary>The request-target as sent (origin-form, absolute-form, asterisk or authority form).</summary>
    public Slice Target;
    /// <summary>The path part of the target (absolute-form: the path after the authority; "/" is
    /// implied and Path is empty when an absolute-form target has no path).</summary>
    public Slice Path;
    /// <summary>The query without its '?'; HasQuery tells an empty query from none.</summary>
    public Slice Query;
    public bool HasQuery;
    /// <summary>"OPTIONS * HTTP/1.x": a question about the server itself (RFC 9110 9.3.7), which names no
    /// resource to route. Set only for the asterisk-form target (which only OPTIONS may use); the
    /// connection answers it locally instead of forwarding it. Path is then the "*".</summary>
    public bool IsAsteriskOptions;
    /// <summary>0 for HTTP/1.0, 1 for HTTP/1.1 and any higher HTTP/1.x (served as HTTP/1.1).</summary>
    public int VersionMinor;

    public readonly HeaderField[] Headers = new HeaderField[MaxHeaders];
    public int HeaderCount;
    /// <summary>Bytes from the start of the buffer through the blank line that ends the head
    /// (includes any empty lines skipped before the request line).</summary>
    public int HeadLength;

    /// <summary>-1 when the request has no Content-Length.</summary>
    public long ContentLength = -1;
    public bool Chunked;
    /// <summary>The Host header's value, or the authority of an absolute-form target.</summary>
    public Slice Host;
    public bool HasHost;
    public bool ExpectContinue;
    /// <summary>Connection tokens seen.</summary>
    public bool ConnectionClose, ConnectionKeepAlive, ConnectionUpgrade;
    /// <summary>True when the Connection header names headers other than close/keep-alive/upgrade;
    /// the rewriter then drops every header so named.</summary>
    public bool ConnectionNamesOthers;
    public Slice ConnectionValue;

    /// <summary>The status to answer with when Parse returned Error: 400, 405 (CONNECT), 414, 431, 501 or 505.</summary>
    public int ErrorStatus;

    /// <summary>HTTP/1.1 keeps the connection unless "close"; HTTP/1.0 only with "keep-alive".</summary>
    public bool KeepAlive => VersionMinor >= 1 ? !ConnectionClose : ConnectionKeepAlive && !ConnectionClose;

    public bool HasBody => Chunked || ContentLength > 0;

    /// <summary>The head's bytes are gone (the client buffer started over for a long body): every offset
    /// into them is cleared, so what reads them finds nothing; the parsed facts (method, version,
    /// framing, keep-alive) stay.</summary>
    public void ForgetBytes()
    {
        MethodToken = Target = Path = Query = Host = ConnectionValue = default;
        HasQuery = HasHost = false;
        HeaderCount = 0;
        HeadLength = 0;
    }

    public void Reset()
    {
        Method = HttpMethod.Unknown;
        MethodToken = Target = Path = Query = Host = ConnectionValue = default;
        HasQuery = IsAsteriskOptions = HasHost = ExpectContinue = Chunked = false;
        ConnectionClose = ConnectionKeepAlive = ConnectionUpgrade = ConnectionNamesOthers = false;
        VersionMinor = 0;
        HeaderCount = 0;
        HeadLength = 0;
        ContentLength = -1;
        ErrorStatus = 0;
    }
}
