namespace RawKeepalive.Http;

public enum ChunkStatus : byte { NeedMore, Data, Done, Error }

/// <summary>Incremental decoder of a chunked body (RFC 9112 7.1) that may arrive in any number of
/// pieces. It finds where the body ends (for pass-through) and where chunk data lies (for
/// de-chunking), without copying.</summary>
/// <remarks>Framing bytes go through a byte-at-a-time state machine, so a piece may end anywhere;
/// chunk data is handed out in whole runs. Chunk extensions are checked against their grammar
/// and ignored; trailer fields are checked as field lines and skipped. default(ChunkedDecoder) is
/// ready to decode.</remarks>
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

    private State _state;
    /// <summary>The chunk-size being read, then the data bytes of the chunk still due.</summary>
    private long _size;
    /// <summary>Hex digits in the chunk-size, then bytes of the line's extensions.</summary>
    private int _lineBytes;
    private int _trailerBytes;

    public void Reset() => this = default;

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
    /// NeedMore: all of input was consumed (framing only, no data). Done: the body ended and
    /// consumed counts the bytes through its final CRLF (bytes after it belong to the next message).
    /// Error: malformed framing.</summary>
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
