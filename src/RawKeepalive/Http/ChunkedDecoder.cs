namespace RawKeepalive.Http;

public enum ChunkStatus : byte { NeedMore, Data, Done, Error }

/// <summary>Incremental decoder of a chunked body (RFC 9112 7.1) that may arrive in any number of
/// pieces. It finds where the body ends (for pass-through) and where chunk data lies (for
/// de-chunking), without copying.</summary>
/// <remarks>Framing bytes go through a byte-at-a-time state machine, so a piece may end anywhere;
/// chunk data is handed out in whole runs. Chunk extensions are checked against their grammar
/// and ignored; trailer fields are checked as field lines and skipped. default(ChunkedDecoder) is
/// ready to decode; <see cref="ForRequest"/> makes one that also refuses request trailer fields that
/// no recipient may act on (RFC 9110 6.5.1).</remarks>
public struct ChunkedDecoder
{
    /// <summary>15 hex digits is under 2^60: the size can never overflow a long.</summary>
    public const int MaxSizeDigits = 15;
    /// <summary>Bound on the bytes after the chunk-size on one line, so extensions cannot stall us forever.</summary>
    public const int MaxExtensionBytes = 4096;
    /// <summary>Bound on the trailer section, including its final CRLF.</summary>
    public const int MaxTrailerBytes = 8192;

    private enum State : byte
    {
        Size,            // first hex digit of a chunk-size (0 so that default is ready)
        SizeDigits,      // more hex digits, ';', BWS or CR
        SizeWs,          // BWS after the size: only ';' may follow
        ExtNameStart,    // BWS, then a chunk-ext-name
        ExtName,
        ExtAfterName,    // BWS before '=' or ';'
        ExtValueStart,   // BWS, then a token or a quoted-string
        ExtToken,
        ExtQuoted,
        ExtQuotedEscape,
        ExtAfterValue,   // BWS before ';'
        ExtAfterQuoted,  // closing quote seen
        SizeLf,          // CR of the chunk-size line seen
        Data,
        DataCr,
        DataLf,
        TrailerLine,     // a trailer field or the final CRLF
        TrailerName,
        TrailerValue,
        TrailerLf,
        FinalLf,
        Done,
        Error,
    }

    /// <summary>Trailer field names are judged (see <see cref="ForRequest"/>).</summary>
    private bool _refuseTrailers;
    private State _state;
    /// <summary>The chunk-size being read, then the data bytes of the chunk still due.</summary>
    private long _size;
    /// <summary>Hex digits in the chunk-size, then bytes of the line's extensions.</summary>
    private int _lineBytes;
    private int _trailerBytes;

    /// <summary>A decoder for a request body forwarded unchanged: a trailer field whose name governs
    /// framing, routing, authentication or content handling (<see cref="IsRefusedTrailer"/>) is an Error
    /// that consumes nothing of its line, and the start of a trailer line whose name has not wholly
    /// arrived is held back (NeedMore consumes up to it), so not a byte of a refused field is ever
    /// counted as sendable.</summary>
    public static ChunkedDecoder ForRequest() => new() { _refuseTrailers = true };

    /// <summary>Starts a new body; a request decoder stays one.</summary>
    public void Reset() => this = new ChunkedDecoder { _refuseTrailers = _refuseTrailers };

    /// <summary>True once the last chunk, the trailer section and the final CRLF were consumed.</summary>
    public readonly bool IsDone => _state == State.Done;

    /// <summary>Chunk data bytes decoded so far (for client_max_body_size).</summary>
    public readonly long DataBytes => _dataBytes;

    /// <summary>Data bytes decoded plus those the current chunk-size announces but have not come yet:
    /// a body over the limit is refused as soon as its size line says so.</summary>
    public readonly long AnnouncedBytes => _dataBytes + _size;
    private long _dataBytes;

    /// <summary>Decodes from the start of <paramref name="input"/>, stopping at the first run of chunk data.
    /// Data: input[dataStart..dataStart+dataLength) is chunk data and consumed == dataStart + dataLength.
    /// NeedMore: all of input was consumed (framing only, no data), except that a request decoder holds
    /// back an unfinished trailer field name (consumed stops at its line; feed those bytes again with what
    /// follows). Done: the body ended and consumed counts the bytes through its final CRLF (bytes after it
    /// belong to the next message). Error: malformed framing, or a refused request trailer field
    /// (consumed stops at the start of its line).</summary>
    public ChunkStatus Decode(ReadOnlySpan<byte> input, out int consumed, out int dataStart, out int dataLength)
    {
        dataStart = dataLength = 0;
        int i = 0;
        if (_state == State.Done) { consumed = 0; return ChunkStatus.Done; }
        while (i < input.Length)
        {
            if (_state == State.Data)
            {
                int n = (int)Math.Min(_size, input.Length - i);
                dataStart = i;
                dataLength = n;
                _size -= n;
                _dataBytes += n;
                if (_size == 0) _state = State.DataCr;
                consumed = i + n;
                return ChunkStatus.Data;
            }
            if (_state == State.TrailerLine && _refuseTrailers && input[i] != HttpChars.CR)
            {
                // The first byte of a trailer field line: judge its name before consuming any of it.
                var rest = input.Slice(i);
                int name = rest.IndexOfAnyExcept(HttpChars.Token);
                if (name < 0 && rest.Length <= LongestRefusedTrailer)
                {
                    consumed = i;   // may still become a refused name: hold the line back
                    return ChunkStatus.NeedMore;
                }
                if (name > 0 && rest[name] == (byte)':' && IsRefusedTrailer(rest.Slice(0, name)))
                {
                    _state = State.Error;
                    consumed = i;
                    return ChunkStatus.Error;
                }
                // Otherwise the state machine reads the line (and refuses one that is not a field line).
            }
            if (!Step(input[i]))
            {
                _state = State.Error;
                consumed = i;
                return ChunkStatus.Error;
            }
            i++;
            if (_state == State.Done)
            {
                consumed = i;
                return ChunkStatus.Done;
            }
        }
        consumed = i;
        return _state == State.Error ? ChunkStatus.Error : ChunkStatus.NeedMore;
    }

    /// <summary>Runs Decode over all of input, ignoring where the data is: for forwarding a chunked body
    /// unchanged. Returns Done (consumed = bytes through the end of the body), NeedMore (consumed = input.Length)
    /// or Error.</summary>
    public ChunkStatus Skip(ReadOnlySpan<byte> input, out int consumed)
    {
        int total = 0;
        while (true)
        {
            var status = Decode(input.Slice(total), out int used, out _, out _);
            total += used;
            if (status != ChunkStatus.Data)
            {
                consumed = total;
                return status;
            }
        }
    }

    /// <summary>Advances the framing state machine by one byte; false when the byte breaks the grammar.</summary>
    private bool Step(byte b)
    {
        switch (_state)
        {
            case State.Size:
                if (!TryHex(b, out int first)) return false;
                _size = first;
                _lineBytes = 1;
                _state = State.SizeDigits;
                return true;
            case State.SizeDigits:
                if (TryHex(b, out int digit))
                {
                    if (++_lineBytes > MaxSizeDigits) return false;
                    _size = (_size << 4) | (uint)digit;
                    return true;
                }
                _lineBytes = 0;
                return b switch
                {
                    HttpChars.CR => Go(State.SizeLf),
                    (byte)';' => Go(State.ExtNameStart),
                    HttpChars.SP or HttpChars.HTAB => Go(State.SizeWs),
                    _ => false,
                };
            case State.SizeLf:
                if (b != HttpChars.LF) return false;
                _state = _size == 0 ? State.TrailerLine : State.Data;
                return true;
            case State.DataCr:
                return b == HttpChars.CR && Go(State.DataLf);
            case State.DataLf:
                return b == HttpChars.LF && Go(State.Size);
            case State.TrailerLine:
            case State.TrailerName:
            case State.TrailerValue:
            case State.TrailerLf:
            case State.FinalLf:
                return ++_trailerBytes <= MaxTrailerBytes && StepTrailer(b);
            case State.Done:
            case State.Error:
            case State.Data:
                return false;
            default:
                return ++_lineBytes <= MaxExtensionBytes && StepExtension(b);
        }
    }

    /// <summary>chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
    /// chunk-ext-val = token / quoted-string.</summary>
    private bool StepExtension(byte b)
    {
        bool ows = HttpChars.IsOws(b), token = IsTokenByte(b);
        switch (_state)
        {
            case State.SizeWs:
                return ows || (b == (byte)';' && Go(State.ExtNameStart));
            case State.ExtNameStart:
                return ows || (token && Go(State.ExtName));
            case State.ExtName:
                if (token) return true;
                return b switch
                {
                    HttpChars.CR => Go(State.SizeLf),
                    (byte)';' => Go(State.ExtNameStart),
                    (byte)'=' => Go(State.ExtValueStart),
                    HttpChars.SP or HttpChars.HTAB => Go(State.ExtAfterName),
                    _ => false,
                };
            case State.ExtAfterName:
                return ows || (b == (byte)';' && Go(State.ExtNameStart)) || (b == (byte)'=' && Go(State.ExtValueStart));
            case State.ExtValueStart:
                return ows || (b == (byte)'"' && Go(State.ExtQuoted)) || (token && Go(State.ExtToken));
            case State.ExtToken:
                if (token) return true;
                return b switch
                {
                    HttpChars.CR => Go(State.SizeLf),
                    (byte)';' => Go(State.ExtNameStart),
                    HttpChars.SP or HttpChars.HTAB => Go(State.ExtAfterValue),
                    _ => false,
                };
            case State.ExtQuoted:
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                if (b == (byte)'"') return Go(State.ExtAfterQuoted);
                if (b == (byte)'\\') return Go(State.ExtQuotedEscape);
                return b == HttpChars.HTAB || (b >= 0x20 && b != 0x7F);
            case State.ExtQuotedEscape:
                return (b == HttpChars.HTAB || (b >= 0x20 && b != 0x7F)) && Go(State.ExtQuoted);
            case State.ExtAfterQuoted:
                return b switch
                {
                    HttpChars.CR => Go(State.SizeLf),
                    (byte)';' => Go(State.ExtNameStart),
                    HttpChars.SP or HttpChars.HTAB => Go(State.ExtAfterValue),
                    _ => false,
                };
            case State.ExtAfterValue:
                return ows || (b == (byte)';' && Go(State.ExtNameStart));
            default:
                return false;
        }
    }

    /// <summary>trailer-section = *( field-line CRLF ) CRLF, with the same field-line rules as a head.</summary>
    private bool StepTrailer(byte b)
    {
        switch (_state)
        {
            case State.TrailerLine:
                if (b == HttpChars.CR) return Go(State.FinalLf);
                return IsTokenByte(b) && Go(State.TrailerName);
            case State.TrailerName:
                return IsTokenByte(b) || (b == (byte)':' && Go(State.TrailerValue));
            case State.TrailerValue:
                if (b == HttpChars.CR) return Go(State.TrailerLf);
                return b == HttpChars.HTAB || (b >= 0x20 && b != 0x7F);
            case State.TrailerLf:
                return b == HttpChars.LF && Go(State.TrailerLine);
            case State.FinalLf:
                return b == HttpChars.LF && Go(State.Done);
            default:
                return false;
        }
    }

    private bool Go(State next)
    {
        _state = next;
        return true;
    }

    /// <summary>The longest name <see cref="IsRefusedTrailer"/> refuses ("proxy-authorization", "if-unmodified-since").</summary>
    public const int LongestRefusedTrailer = 19;

    /// <summary>Trailer fields a request must not carry to an upstream (RFC 9110 6.5.1: fields needed before
    /// the content is processed cannot be sent in trailers, and 6.5.2: a recipient must not merge one into
    /// the header section, which an upstream that does not know the rule might do). Case-insensitive, with
    /// '_' read as '-' (an upstream that folds underscores would read Content_Length as Content-Length):
    /// message framing (Content-Length, Transfer-Encoding, Trailer), routing (Host), connection handling
    /// (Connection, Keep-Alive, Proxy-Connection, TE, Upgrade), request modifiers (Expect, Max-Forwards,
    /// Cache-Control, Pragma, Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
    /// If-Range), authentication and state (Authorization, Proxy-Authorization, WWW-Authenticate,
    /// Proxy-Authenticate, Cookie, Set-Cookie), content handling (Content-Type, Content-Encoding,
    /// Content-Range), and response control (Age, Date, Expires, Location, Retry-After, Vary, Warning).</summary>
    public static bool IsRefusedTrailer(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => Is(name, "te"u8),
        3 => Is(name, "age"u8),
        4 => Is(name, "host"u8) || Is(name, "date"u8) || Is(name, "vary"u8),
        5 => Is(name, "range"u8),
        6 => Is(name, "cookie"u8) || Is(name, "expect"u8) || Is(name, "pragma"u8),
        7 => Is(name, "trailer"u8) || Is(name, "upgrade"u8) || Is(name, "expires"u8) || Is(name, "warning"u8),
        8 => Is(name, "if-match"u8) || Is(name, "if-range"u8) || Is(name, "location"u8),
        10 => Is(name, "connection"u8) || Is(name, "keep-alive"u8) || Is(name, "set-cookie"u8),
        11 => Is(name, "retry-after"u8),
        12 => Is(name, "content-type"u8) || Is(name, "max-forwards"u8),
        13 => Is(name, "authorization"u8) || Is(name, "cache-control"u8) || Is(name, "content-range"u8) || Is(name, "if-none-match"u8),
        14 => Is(name, "content-length"u8),
        16 => Is(name, "content-encoding"u8) || Is(name, "proxy-connection"u8) || Is(name, "www-authenticate"u8),
        17 => Is(name, "transfer-encoding"u8) || Is(name, "if-modified-since"u8),
        18 => Is(name, "proxy-authenticate"u8),
        19 => Is(name, "proxy-authorization"u8) || Is(name, "if-unmodified-since"u8),
        _ => false,
    };

    /// <summary><paramref name="name"/> equals <paramref name="lower"/> ignoring ASCII case, '_' standing for '-'.</summary>
    private static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lower)
    {
        for (int i = 0; i < name.Length; i++)
        {
            byte b = name[i];
            byte folded = b == (byte)'_' ? (byte)'-' : (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;
            if (folded != lower[i]) return false;
        }
        return true;
    }

    private static bool IsTokenByte(byte b) => HttpChars.Token.Contains(b);

    private static bool TryHex(byte b, out int value)
    {
        uint d = (uint)(b - '0');
        if (d <= 9) { value = (int)d; return true; }
        uint l = (uint)((b | 0x20) - 'a');
        value = (int)l + 10;
        return l <= 5;
    }
}
