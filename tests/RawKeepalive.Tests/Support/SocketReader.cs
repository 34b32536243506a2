using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// Buffered, strict reads over a blocking socket: CRLF lines (a bare LF is a protocol error),
/// header blocks, exact lengths, chunked bodies and bodies delimited by the peer's close.
/// Shared by the test backend (requests) and the raw client (responses).
/// </summary>
public sealed class SocketReader
{
    private const int MaxLine = 64 * 1024;
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[128 * 1024];
    private int _start;
    private int _end;

    public SocketReader(Socket socket) => _socket = socket;

    public int Buffered => _end - _start;

    /// <summary>True when a byte is buffered or arrives (or the peer closes) within <paramref name="timeout"/>.</summary>
    public bool WaitForData(TimeSpan timeout)
    {
        if (Buffered > 0)
            return true;
        long micros = timeout == Timeout.InfiniteTimeSpan ? -1 : (long)timeout.TotalMicroseconds;
        return _socket.Poll(micros > int.MaxValue ? int.MaxValue : (int)micros, SelectMode.SelectRead);
    }

    /// <summary>Receives more bytes into the buffer; false at end of stream.</summary>
    private bool Fill()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
            throw new InvalidDataException($"line longer than {MaxLine} bytes");
        int n = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        if (n == 0)
            return false;
        _end += n;
        return true;
    }

    /// <summary>One line without its CRLF; null when the stream ends before its first byte.</summary>
    public string? ReadLine()
    {
        int scanned = 0;
        while (true)
        {
            int lf = Array.IndexOf(_buffer, (byte)'\n', _start + scanned, _end - _start - scanned);
            if (lf >= 0)
            {
                if (lf == _start || _buffer[lf - 1] != (byte)'\r')
                    throw new InvalidDataException("bare LF: line not terminated by CRLF");
                string line = Encoding.Latin1.GetString(_buffer, _start, lf - 1 - _start);
                _start = lf + 1;
                return line;
            }
            scanned = _end - _start;
            if (scanned > MaxLine)
                throw new InvalidDataException($"line longer than {MaxLine} bytes");
            if (!Fill())
            {
                if (_end == _start)
                    return null;
                throw new EndOfStreamException("connection closed in the middle of a line");
            }
        }
    }

    public string ReadRequiredLine() => ReadLine() ?? throw new EndOfStreamException("connection closed before a complete head");

    /// <summary>Header lines up to the empty line. Obsolete line folding and malformed fields are errors.</summary>
    public HeaderList ReadHeaders(StringBuilder? head = null)
    {
        var headers = new HeaderList();
        while (true)
        {
            string line = ReadRequiredLine();
            head?.Append(line).Append("\r\n");
            if (line.Length == 0)
                return headers;
            if (line[0] is ' ' or '\t')
                throw new InvalidDataException($"obsolete line folding: \"{line}\"");
            int colon = line.IndexOf(':');
            if (colon <= 0)
                throw new InvalidDataException($"header line without a name and colon: \"{line}\"");
            string name = line[..colon];
            if (!name.All(IsTokenChar))
                throw new InvalidDataException($"invalid header name: \"{name}\"");
            headers.Add(name, line[(colon + 1)..].Trim(' ', '\t'));
        }
    }

    public static bool IsTokenChar(char c) =>
        c is > ' ' and < (char)127 && "\"(),/:;<=>?@[\\]{}".IndexOf(c) < 0;

    public byte[] ReadExact(int count)
    {
        var result = new byte[count];
        int done = Math.Min(count, Buffered);
        Buffer.BlockCopy(_buffer, _start, result, 0, done);
        _start += done;
        while (done < count)
        {
            int n = _socket.Receive(result, done, count - done, SocketFlags.None);
            if (n == 0)
                throw new EndOfStreamException($"connection closed after {done} of {count} body bytes");
            done += n;
        }
        return result;
    }

    /// <summary>Everything up to the peer's close.</summary>
    public byte[] ReadToEnd()
    {
        var body = new MemoryStream();
        body.Write(_buffer, _start, Buffered);
        _start = _end = 0;
        var chunk = new byte[64 * 1024];
        while (true)
        {
            int n = _socket.Receive(chunk);
            if (n == 0)
                return body.ToArray();
            body.Write(chunk, 0, n);
        }
    }

    /// <summary>Decodes a chunked body (chunk extensions allowed, trailers read); <paramref name="raw"/> gets the bytes as sent.</summary>
    public byte[] ReadChunked(out byte[] raw, out HeaderList trailers)
    {
        var body = new MemoryStream();
        var wire = new MemoryStream();
        while (true)
        {
            string sizeLine = ReadRequiredLine();
            WriteLatin1(wire, sizeLine + "\r\n");
            string hex = sizeLine.Split(';')[0].TrimEnd(' ', '\t');
            if (hex.Length == 0 || hex.Length > 15 || !hex.All(char.IsAsciiHexDigit))
                throw new InvalidDataException($"invalid chunk size line: \"{sizeLine}\"");
            long size = long.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                var trailerText = new StringBuilder();
                trailers = ReadHeaders(trailerText);
                WriteLatin1(wire, trailerText.ToString());
                raw = wire.ToArray();
                return body.ToArray();
            }
            if (size > int.MaxValue)
                throw new InvalidDataException($"chunk too large: {size}");
            byte[] data = ReadExact((int)size);
            body.Write(data);
            wire.Write(data);
            byte[] crlf = ReadExact(2);
            if (crlf[0] != '\r' || crlf[1] != '\n')
                throw new InvalidDataException("chunk data not followed by CRLF");
            wire.Write(crlf);
        }
    }

    private static void WriteLatin1(Stream stream, string text) => stream.Write(Encoding.Latin1.GetBytes(text));
}
