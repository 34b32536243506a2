using System.Text;

namespace RawKeepalive.Http;

/// <summary>Why ResponseParser refused a head: the proxy logs it (ResponseHead.ErrorMessage) and answers 502.</summary>
public enum ResponseError : byte
{
    None,
    /// <summary>A malformed status line or field line, a bad Connection header, Transfer-Encoding in HTTP/1.0.</summary>
    Invalid,
    /// <summary>A second Content-Length or Transfer-Encoding line: ErrorField, and the first one at ErrorPrevious.</summary>
    DuplicateHeader,
    /// <summary>A Content-Length that is not a plain decimal (a list "5, 5" included): ErrorField.</summary>
    InvalidContentLength,
    /// <summary>Content-Length and Transfer-Encoding both present: ErrorField is the later of the two.</summary>
    LengthAndEncoding,
    /// <summary>A Transfer-Encoding other than exactly "chunked" ("gzip", "gzip, chunked"): ErrorField.</summary>
    UnknownEncoding,
    /// <summary>More than MaxHeaders field lines.</summary>
    TooManyHeaders,
}

/// <summary>A parsed upstream response head: offsets into the upstream receive buffer.</summary>
public sealed class ResponseHead
{
    public const int MaxHeaders = 100;

    public int VersionMinor;
    public int Status;
    /// <summary>The reason phrase (may be empty).</summary>
    public Slice Reason;

    public readonly HeaderField[] Headers = new HeaderField[MaxHeaders];
    public int HeaderCount;
    /// <summary>Bytes from the start of the buffer through the blank line that ends the head.</summary>
    public int HeadLength;

    /// <summary>-1 when the response has no Content-Length.</summary>
    public long ContentLength = -1;
    public bool Chunked;
    public bool ConnectionClose, ConnectionKeepAlive;
    /// <summary>The Connection header has the "upgrade" option (e.g. a 101 Switching Protocols).</summary>
    public bool ConnectionUpgrade;
    public bool ConnectionNamesOthers;
    public Slice ConnectionValue;

    /// <summary>Set when Parse returns Error.</summary>
    public ResponseError Error;
    /// <summary>Index in Headers of the field the error is about, or -1 (Invalid, TooManyHeaders).</summary>
    public int ErrorField = -1;
    /// <summary>DuplicateHeader: index in Headers of the first line of that name; otherwise -1.</summary>
    public int ErrorPrevious = -1;

    /// <summary>Index in Headers of the first Expires line, or -1.</summary>
    public int ExpiresField = -1;
    /// <summary>Bit i set: Headers[i] is a later Expires line, dropped as nginx does ("ignoring"); the
    /// first one stays (ExpiresField). Zero for almost every response.</summary>
    public UInt128 IgnoredFields;

    /// <summary>Headers[index] is not forwarded (a duplicate of a header that may appear only once).</summary>
    public bool IsIgnored(int index) => IgnoredFields != UInt128.Zero && ((IgnoredFields >> index) & UInt128.One) != UInt128.Zero;

    public void Reset()
    {
        VersionMinor = 0;
        Status = 0;
        Reason = ConnectionValue = default;
        HeaderCount = 0;
        HeadLength = 0;
        ContentLength = -1;
        Chunked = ConnectionClose = ConnectionKeepAlive = ConnectionUpgrade = ConnectionNamesOthers = false;
        Error = ResponseError.None;
        ErrorField = ErrorPrevious = ExpiresField = -1;
        IgnoredFields = UInt128.Zero;
    }

    /// <summary>nginx's (1.23+) wording for Error, without the " while reading response header from
    /// upstream" context; <paramref name="buffer"/> is the one that was parsed. Error path only: it
    /// makes a string.</summary>
    public string ErrorMessage(ReadOnlySpan<byte> buffer) => Error switch
    {
        ResponseError.DuplicateHeader => $"upstream sent duplicate header line: \"{Line(buffer, ErrorField)}\", previous value: \"{Line(buffer, ErrorPrevious)}\"",
        ResponseError.InvalidContentLength => $"upstream sent invalid \"Content-Length\" header: \"{Line(buffer, ErrorField)}\"",
        ResponseError.LengthAndEncoding => "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time",
        ResponseError.UnknownEncoding => $"upstream sent unknown \"Transfer-Encoding\": \"{Text(buffer, Headers[ErrorField].Value)}\"",
        // nginx has no limit on the number of lines, only on the head's size; this is its wording for that.
        ResponseError.TooManyHeaders => "upstream sent too big header",
        _ => "upstream sent invalid header",
    };

    /// <summary>nginx's [warn] for an ignored field (IsIgnored(index)), without the context.</summary>
    public string IgnoredMessage(ReadOnlySpan<byte> buffer, int index) =>
        $"upstream sent duplicate header line: \"{Line(buffer, index)}\", previous value: \"{Line(buffer, ExpiresField)}\", ignoring";

    /// <summary>"Name: value" as received (value without surrounding whitespace), as nginx's "%V: %V".</summary>
    private string Line(ReadOnlySpan<byte> buffer, int index) =>
        $"{Text(buffer, Headers[index].Name)}: {Text(buffer, Headers[index].Value)}";

    private static string Text(ReadOnlySpan<byte> buffer, Slice slice) => Encoding.Latin1.GetString(slice.Of(buffer));
}
