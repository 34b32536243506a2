using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// One client connection over a raw blocking socket. The test writes exact bytes (so it controls
/// framing, pipelining and malformed input) and reads responses strictly. Every read has a timeout.
/// </summary>
public sealed class RawHttpClient : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly SocketReader _reader;

    public RawHttpClient(int port, TimeSpan? timeout = null)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        int ms = (int)(timeout ?? DefaultTimeout).TotalMilliseconds;
        _socket.ReceiveTimeout = ms;
        _socket.SendTimeout = ms;
        _socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        _reader = new SocketReader(_socket);
        Port = port;
    }

    public int Port { get; }

    public int LocalPort => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    /// <summary>Sends <paramref name="head"/> (Latin-1, exactly as given) followed by <paramref name="body"/>.</summary>
    public void Send(string head, byte[]? body = null)
    {
        byte[] headBytes = Encoding.Latin1.GetBytes(head);
        if (body is null || body.Length == 0)
        {
            SendRaw(headBytes);
            return;
        }
        var all = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(all, 0);
        body.CopyTo(all, headBytes.Length);
        SendRaw(all);
    }

    public void SendRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int n = _socket.Send(bytes);
            bytes = bytes[n..];
        }
    }

    /// <summary>Reads the next final response, collecting any 1xx interim responses before it.</summary>
    public HttpResponse ReadResponse(bool headRequest = false)
    {
        var interim = new List<HttpResponse>();
        while (true)
        {
            var (version, status, reason, headers, head) = ReadHead();
            if (status is >= 100 and < 200 and not 101)
            {
                interim.Add(new HttpResponse { Version = version, Status = status, Reason = reason, Headers = headers, Head = head });
                continue;
            }
            return ReadBody(version, status, reason, headers, head, headRequest, interim);
        }
    }

    /// <summary>Reads one 1xx interim response head (e.g. the 100 Continue a client waits for after Expect).</summary>
    public HttpResponse ReadInterim()
    {
        var (version, status, reason, headers, head) = ReadHead();
        if (status is < 100 or >= 200)
            throw new InvalidDataException($"expected an interim 1xx response, got:\n{head}");
        return new HttpResponse { Version = version, Status = status, Reason = reason, Headers = headers, Head = head };
    }

    private (string Version, int Status, string Reason, HeaderList Headers, string Head) ReadHead()
    {
        string statusLine = _reader.ReadLine() ?? throw new ConnectionClosedException("connection closed before a response");
        var head = new StringBuilder(statusLine).Append("\r\n");
        string[] parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || parts[0] is not ("HTTP/1.0" or "HTTP/1.1") || parts[1].Length != 3 || !int.TryParse(parts[1], out int status))
            throw new InvalidDataException($"invalid status line: \"{statusLine}\"");
        var headers = _reader.ReadHeaders(head);
        return (parts[0], status, parts.Length > 2 ? parts[2] : "", headers, head.ToString());
    }

    private HttpResponse ReadBody(string version, int status, string reason, HeaderList headers, string head, bool headRequest, List<HttpResponse> interim)
    {
        var lengths = headers.GetAll("Content-Length");
        var encodings = headers.GetAll("Transfer-Encoding");
        if (lengths.Count > 0 && encodings.Count > 0)
            throw new InvalidDataException($"response has both Content-Length and Transfer-Encoding:\n{head}");
        if (lengths.Distinct().Count() > 1)
            throw new InvalidDataException($"response has conflicting Content-Length values:\n{head}");

        byte[] body = [];
        byte[] raw = [];
        bool chunked = false;
        bool closed = false;
        if (headRequest || status is 204 or 304 || status < 200)
        {
            // no body, whatever the framing headers say
        }
        else if (encodings.Count > 0)
        {
            if (!headers.HasToken("Transfer-Encoding", "chunked"))
                throw new InvalidDataException($"unsupported Transfer-Encoding:\n{head}");
            chunked = true;
            body = _reader.ReadChunked(out raw, out _);
        }
        else if (lengths.Count > 0)
        {
            if (!int.TryParse(lengths[0], out int length) || length < 0)
                throw new InvalidDataException($"invalid Content-Length:\n{head}");
            body = raw = _reader.ReadExact(length);
        }
        else
        {
            body = raw = _reader.ReadToEnd();
            closed = true;
        }
        return new HttpResponse
        {
            Version = version, Status = status, Reason = reason, Headers = headers, Head = head,
            Body = body, RawBody = raw, Chunked = chunked, ConnectionClosedAfter = closed, Interim = interim,
        };
    }

    /// <summary>GET <paramref name="path"/> over HTTP/1.1 and read the response.</summary>
    public HttpResponse Get(string path, string host = "localhost", string extraHeaders = "")
    {
        Send($"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extraHeaders}\r\n");
        return ReadResponse();
    }

    public HttpResponse Head(string path, string host = "localhost")
    {
        Send($"HEAD {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        return ReadResponse(headRequest: true);
    }

    /// <summary>POST <paramref name="body"/> with Content-Length, or chunked in pieces of varying size.</summary>
    public HttpResponse Post(string path, byte[] body, bool chunked = false, string host = "localhost")
    {
        if (chunked)
            Send($"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n", Chunk(body));
        else
            Send($"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {body.Length}\r\n\r\n", body);
        return ReadResponse();
    }

    /// <summary>Chunked framing for <paramref name="body"/>, in chunks of varying sizes up to 8 KiB.</summary>
    public static byte[] Chunk(byte[] body)
    {
        var wire = new MemoryStream();
        int offset = 0;
        for (int i = 0; offset < body.Length; i++)
        {
            int size = Math.Min(TestBackend.ChunkSizes[i % TestBackend.ChunkSizes.Length], body.Length - offset);
            wire.Write(Encoding.ASCII.GetBytes($"{size:x}\r\n"));
            wire.Write(body, offset, size);
            wire.Write("\r\n"u8);
            offset += size;
        }
        wire.Write("0\r\n\r\n"u8);
        return wire.ToArray();
    }

    /// <summary>
    /// True when the peer has closed (or reset) the connection: readable within <paramref name="wait"/>
    /// and a peek finds end of stream. Buffered or pending data means still open.
    /// </summary>
    public bool IsClosedByPeer(TimeSpan? wait = null)
    {
        if (_reader.Buffered > 0)
            return false;
        try
        {
            if (!_socket.Poll((int)(wait ?? TimeSpan.Zero).TotalMicroseconds, SelectMode.SelectRead))
                return false;
            Span<byte> one = stackalloc byte[1];
            return _socket.Receive(one, SocketFlags.Peek) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>Half-closes: the peer reads end of stream after what was sent, and can still answer.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>True when response bytes are buffered, or bytes or a close (FIN or reset) arrive within <paramref name="wait"/>.</summary>
    public bool WaitReadable(TimeSpan wait)
    {
        if (_reader.Buffered > 0)
            return true;
        try
        {
            return _socket.Poll((int)wait.TotalMicroseconds, SelectMode.SelectRead);
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>Closes with a reset (SO_LINGER 0) instead of a FIN, as a client that crashed or gave up does.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Dispose();
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>The peer closed the connection cleanly where a response would start (no byte of one arrived).</summary>
public sealed class ConnectionClosedException(string message) : EndOfStreamException(message);
