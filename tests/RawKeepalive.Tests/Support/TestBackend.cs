using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// A real HTTP/1.1 origin over loopback, one blocking thread per connection, that counts the
/// connections it accepts and numbers them. Every response carries <c>X-Connection: N</c> (the
/// connection's number) and <c>X-Request: k</c> (the k-th request on it), so a test can tell
/// whether the proxy reused an upstream connection.
/// <para>Query parameters: <c>size=N</c> body of <see cref="Body"/>(N); <c>chunked=1</c> chunked body;
/// <c>status=S</c> (no body for 1xx, 204, 304 and HEAD); <c>close=1</c> answer with
/// <c>Connection: close</c> and close; <c>nolength=1</c> body delimited by close; <c>interim=1</c> send a
/// <c>103 Early Hints</c> first; <c>delay=MS</c> wait before answering; <c>bodydelay=MS</c> wait between head and body; <c>hold=1</c> wait until the test calls
/// <see cref="ReleaseHeld"/> (an exchange in flight for exactly as long as the test needs); <c>hang=1</c> never answer;
/// <c>extra=N</c> N bytes beyond the announced body; <c>truncate=N</c> only N body bytes, then close;
/// <c>fin=1</c> close right after the response without announcing it (no <c>Connection: close</c>) and
/// without reading on, so the FIN follows the response at once and a later request meets a reset;
/// <c>length=N</c> a <c>Content-Length: N</c> line on a response that has no body (a 304 stating its entity's
/// length); <c>pause=MS</c> the response's last two bytes (a chunked body's final CRLF) only after MS.
/// Path <c>/echo</c> answers with the request body, <c>X-Body-Length</c> and, when the body came
/// chunked, <c>X-Received-Chunked: 1</c>.</para>
/// </summary>
public sealed class TestBackend : IDisposable
{
    /// <summary>Chunk sizes used in turn for chunked bodies (backend responses and client uploads).</summary>
    public static readonly int[] ChunkSizes = [1, 10, 100, 1000, 8192, 4095, 8192, 333, 7, 8191];

    private static readonly ConcurrentDictionary<int, byte[]> Bodies = new();

    private readonly ConcurrentDictionary<int, (Socket Socket, Thread Thread)> _connections = new();
    private readonly ConcurrentQueue<BackendRequest> _requests = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private Socket? _listener;
    private Thread? _acceptThread;
    private int _accepted;
    private int _idleClosed;
    private int _resetOnReuse;
    private int _idleResets;
    private int _resetsBetweenRequests;
    private int _resetsInExchange;
    private int _open;
    private int _peakLive;
    private volatile bool _stopping;
    private readonly ManualResetEventSlim _released = new();

    public TestBackend(TimeSpan? idleTimeout = null, bool http10 = false)
    {
        IdleTimeout = idleTimeout;
        Http10 = http10;
        Listen(0);
    }

    public int Port { get; private set; }

    /// <summary>Close a connection that has waited longer than this for its next request (null: never).</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Answer HTTP/1.0, closing after each response unless the request asked for keep-alive.</summary>
    public bool Http10 { get; set; }

    /// <summary>Read a request that arrives on an already used connection, then reset the connection
    /// without answering: the upstream side of the stale keepalive race, made deterministic.</summary>
    public bool ResetReusedConnections { get; set; }

    /// <summary>Probability (0 to 1) that a kept-alive connection, after a response, waits idle for 1 to 20 ms
    /// and, if no request came in that time, is reset (RST): an origin whose idle timer fires at random.</summary>
    public double RandomIdleReset { get; set; }

    public int AcceptedConnections => Volatile.Read(ref _accepted);

    /// <summary>Connections closed by <see cref="IdleTimeout"/>.</summary>
    public int IdleClosed => Volatile.Read(ref _idleClosed);

    /// <summary>Connections reset by <see cref="ResetReusedConnections"/>.</summary>
    public int ResetOnReuse => Volatile.Read(ref _resetOnReuse);

    /// <summary>Idle connections reset by <see cref="RandomIdleReset"/>.</summary>
    public int IdleResets => Volatile.Read(ref _idleResets);

    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>Count <see cref="PeakLiveConnections"/> (a look at every open connection per accept).</summary>
    public bool TrackPeak { get; set; }

    /// <summary>With <see cref="TrackPeak"/>: the most connections alive at once, counted at each accept as the
    /// new one plus those the kernel has not yet seen closed (a poll, not the serving threads, which notice a
    /// close late): a proxy closes before it opens in a freed place, so the count never shows a close that has
    /// not happened yet, whatever the serving threads' lag.</summary>
    public int PeakLiveConnections => Volatile.Read(ref _peakLive);

    /// <summary>Resets (ECONNRESET) met while a connection waited for its next request, no byte of it come.</summary>
    public int ResetsBetweenRequests => Volatile.Read(ref _resetsBetweenRequests);

    /// <summary>Resets met with a request or its response in flight: what a proxy must never cause.</summary>
    public int ResetsInExchange => Volatile.Read(ref _resetsInExchange);

    /// <summary>Lets every <c>hold=1</c> request be answered, those waiting and those still to come.</summary>
    public void ReleaseHeld() => _released.Set();

    public IReadOnlyList<BackendRequest> Requests => _requests.ToArray();

    /// <summary>The proxy's port of open connection <paramref name="connection"/> (numbered from 1).</summary>
    public int PeerPort(int connection) => ((System.Net.IPEndPoint)_connections[connection].Socket.RemoteEndPoint!).Port;

    public IReadOnlyList<string> ReceivedHeads => _requests.Select(r => r.Head).ToArray();

    public int RequestCount => _requests.Count;

    /// <summary>Protocol violations seen in what the proxy sent (each answered with 400 and a close).</summary>
    public IReadOnlyList<string> ProtocolErrors => _errors.ToArray();

    /// <summary>The deterministic body of <paramref name="n"/> bytes that <c>size=n</c> returns (cached, do not modify).</summary>
    public static byte[] Body(int n) => Bodies.GetOrAdd(n, static n =>
    {
        var body = new byte[n];
        for (int i = 0; i < n; i++)
            body[i] = (byte)(i % 251); // prime period: any shifted or dropped byte shows
        return body;
    });

    private void Listen(int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            listener.Listen(1024);
        }
        catch (SocketException)
        {
            listener.Dispose();
            throw;
        }
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _stopping = false;
        _listener = listener;
        _acceptThread = new Thread(() => AcceptLoop(listener)) { IsBackground = true, Name = $"backend-{Port}-accept" };
        _acceptThread.Start();
    }

    private void AcceptLoop(Socket listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            socket.NoDelay = true;
            if (TrackPeak) CountLive();
            int number = Interlocked.Increment(ref _accepted);
            Interlocked.Increment(ref _open);
            var thread = new Thread(() => Serve(socket, number)) { IsBackground = true, Name = $"backend-{Port}-conn-{number}" };
            _connections[number] = (socket, thread);
            thread.Start();
        }
    }

    /// <summary>On the accept thread, before the new connection joins the others: it and every connection not closed.</summary>
    private void CountLive()
    {
        int live = 1;
        foreach (var (socket, _) in _connections.Values)
        {
            try
            {
                // readable with nothing to read: the peer's FIN or reset
                if (!socket.Poll(0, SelectMode.SelectRead) || socket.Available > 0) live++;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // closed meanwhile
            }
        }
        if (live > _peakLive) Volatile.Write(ref _peakLive, live);
    }

    private void Serve(Socket socket, int connection)
    {
        bool graceful = true;
        bool inExchange = false;
        try
        {
            var reader = new SocketReader(socket);
            for (int number = 1; ; number++)
            {
                if (number > 1 && RandomIdleReset > 0 && Random.Shared.NextDouble() < RandomIdleReset
                    && !reader.WaitForData(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 21))))
                {
                    graceful = false;
                    socket.LingerState = new LingerOption(true, 0); // the close below sends RST
                    Interlocked.Increment(ref _idleResets);
                    return;
                }
                if (IdleTimeout is { } idle && !reader.WaitForData(idle))
                {
                    graceful = false; // as a real server's idle close: no draining, so a late request meets a reset
                    Interlocked.Increment(ref _idleClosed);
                    return;
                }
                // Between requests until a byte of the next one is here (a reset or EOF wakes the poll too).
                inExchange = false;
                if (reader.WaitForData(Timeout.InfiniteTimeSpan) && (reader.Buffered > 0 || socket.Available > 0))
                    inExchange = true;
                BackendRequest? request;
                byte[] body;
                try
                {
                    (request, body) = ReadRequest(socket, reader, connection, number);
                }
                catch (InvalidDataException e)
                {
                    _errors.Enqueue($"connection {connection} request {number}: {e.Message}");
                    SendAll(socket, Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                    return;
                }
                if (request is null)
                    return;
                if (ResetReusedConnections && number > 1)
                {
                    graceful = false;
                    Interlocked.Increment(ref _resetOnReuse);
                    return;
                }
                _requests.Enqueue(request);
                if (!Respond(socket, reader, request, body))
                    return;
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            graceful = false;
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionReset })
                Interlocked.Increment(ref inExchange ? ref _resetsInExchange : ref _resetsBetweenRequests);
        }
        finally
        {
            Close(socket, graceful && !_stopping);
            _connections.TryRemove(connection, out _);
            Interlocked.Decrement(ref _open);
        }
    }

    private (BackendRequest?, byte[]) ReadRequest(Socket socket, SocketReader reader, int connection, int number)
    {
        string? line = reader.ReadLine();
        if (line is null)
            return (null, []);
        var head = new StringBuilder(line).Append("\r\n");
        string[] parts = line.Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !parts[0].All(SocketReader.IsTokenChar) || parts[1].Length == 0)
            throw new InvalidDataException($"invalid request line: \"{line}\"");
        string version = parts[2];
        if (version is not ("HTTP/1.0" or "HTTP/1.1"))
            throw new InvalidDataException($"unsupported version in request line: \"{line}\"");
        var headers = reader.ReadHeaders(head);
        if (version == "HTTP/1.1" && headers.GetAll("Host").Count != 1)
            throw new InvalidDataException($"HTTP/1.1 request needs exactly one Host header:\n{head}");

        var lengths = headers.GetAll("Content-Length");
        var encodings = headers.GetAll("Transfer-Encoding");
        if (lengths.Count > 0 && encodings.Count > 0)
            throw new InvalidDataException($"request has both Content-Length and Transfer-Encoding:\n{head}");
        if (lengths.Distinct().Count() > 1)
            throw new InvalidDataException($"request has conflicting Content-Length values:\n{head}");

        if (headers.HasToken("Expect", "100-continue") && version == "HTTP/1.1" && !Http10)
            SendAll(socket, "HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray());

        byte[] body = [];
        bool chunked = false;
        if (encodings.Count > 0)
        {
            if (encodings.Count != 1 || !string.Equals(encodings[0].Trim(), "chunked", StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"unsupported Transfer-Encoding:\n{head}");
            if (version == "HTTP/1.0")
                throw new InvalidDataException($"chunked request body in HTTP/1.0:\n{head}");
            chunked = true;
            body = reader.ReadChunked(out _, out _);
        }
        else if (lengths.Count > 0)
        {
            if (!int.TryParse(lengths[0], out int length) || length < 0 || !lengths[0].All(char.IsAsciiDigit))
                throw new InvalidDataException($"invalid Content-Length:\n{head}");
            body = reader.ReadExact(length);
        }
        var request = new BackendRequest(connection, number, parts[0], parts[1], version, headers, head.ToString(), body.Length, chunked);
        return (request, body);
    }

    /// <summary>Writes the response; false when the connection is to be closed after it.</summary>
    private bool Respond(Socket socket, SocketReader reader, BackendRequest request, byte[] requestBody)
    {
        var query = ParseQuery(request.Target);
        int Query(string name, int fallback) => query.TryGetValue(name, out var v) && int.TryParse(v, out int n) ? n : fallback;

        if (Query("hang", 0) == 1)
        {
            while (!_stopping && !reader.WaitForData(TimeSpan.FromMilliseconds(200))) { }
            return false;
        }
        if (Query("delay", 0) is > 0 and int delay)
            Thread.Sleep(delay);
        if (Query("hold", 0) == 1)
        {
            while (!_stopping && !_released.Wait(TimeSpan.FromMilliseconds(200))) { }
        }

        bool echo = request.Path == "/echo";
        byte[] body = echo ? requestBody : Body(Query("size", 0));
        int status = Query("status", 200);
        bool bodiless = status is < 200 or 204 or 304;
        bool sendBody = !bodiless && request.Method != "HEAD";
        bool chunked = Query("chunked", 0) == 1 && !Http10 && request.Version == "HTTP/1.1";
        bool noLength = Query("nolength", 0) == 1;

        bool keepAlive = request.Version == "HTTP/1.1" && !Http10
            ? !request.Headers.HasToken("Connection", "close")
            : request.Headers.HasToken("Connection", "keep-alive");
        if (Query("close", 0) == 1 || noLength)
            keepAlive = false;

        string version = Http10 ? "HTTP/1.0" : "HTTP/1.1";
        var head = new StringBuilder();
        if (Query("interim", 0) == 1 && !Http10)
            head.Append("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
        head.Append(version).Append(' ').Append(status).Append(' ').Append(Reason(status)).Append("\r\n");
        head.Append("Server: TestBackend\r\n");
        head.Append("X-Connection: ").Append(request.Connection).Append("\r\n");
        head.Append("X-Request: ").Append(request.Number).Append("\r\n");
        if (echo)
        {
            head.Append("X-Body-Length: ").Append(requestBody.Length).Append("\r\n");
            if (request.BodyChunked)
                head.Append("X-Received-Chunked: 1\r\n");
        }
        if (!bodiless && !noLength)
            head.Append(chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {body.Length}\r\n");
        else if (bodiless && Query("length", -1) is >= 0 and int announced)
            head.Append("Content-Length: ").Append(announced).Append("\r\n");
        if (!keepAlive)
            head.Append("Connection: close\r\n");
        else if (version == "HTTP/1.0" || request.Version == "HTTP/1.0")
            head.Append("Connection: keep-alive\r\n");
        head.Append("\r\n");

        var wire = new MemoryStream();
        wire.Write(Encoding.Latin1.GetBytes(head.ToString()));
        if (sendBody)
            wire.Write(chunked && !noLength ? RawHttpClient.Chunk(body) : body);
        // Misbehaving upstreams: extra=N sends N bytes more than the framing announces;
        // truncate=N sends only the first N body bytes, then closes.
        if (Query("extra", 0) is > 0 and int extra)
            wire.Write(new byte[extra].AsSpan());
        int length = (int)wire.Length;
        if (Query("truncate", -1) is >= 0 and int truncate)
        {
            SendAll(socket, wire.GetBuffer().AsSpan(0, Math.Min(length, head.Length + truncate)));
            return false;
        }
        int split = length, lateMs = 0;
        if (Query("bodydelay", 0) is > 0 and int bodyDelay && sendBody)
            (split, lateMs) = (Encoding.Latin1.GetByteCount(head.ToString()), bodyDelay);   // the head now, the body later: header and response times differ
        else if (Query("pause", 0) is > 0 and int pause && length > 2)
            (split, lateMs) = (length - 2, pause);   // all but the last two bytes now: a chunked body's final CRLF late
        SendAll(socket, wire.GetBuffer().AsSpan(0, split));
        if (split < length)
        {
            Thread.Sleep(lateMs);
            SendAll(socket, wire.GetBuffer().AsSpan(split, length - split));
        }
        if (Query("fin", 0) == 1)
            socket.Dispose();   // a plain close() (the graceful close in Serve finds it closed already)
        return keepAlive;
    }

    private static Dictionary<string, string> ParseQuery(string target)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        int q = target.IndexOf('?');
        if (q < 0)
            return query;
        foreach (string pair in target[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            query[eq < 0 ? pair : pair[..eq]] = eq < 0 ? "" : pair[(eq + 1)..];
        }
        return query;
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK", 201 => "Created", 204 => "No Content", 301 => "Moved Permanently", 302 => "Found",
        304 => "Not Modified", 400 => "Bad Request", 404 => "Not Found", 500 => "Internal Server Error",
        502 => "Bad Gateway", 503 => "Service Unavailable", _ => "Status",
    };

    private static void SendAll(Socket socket, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
            bytes = bytes[socket.Send(bytes)..];
    }

    /// <summary>
    /// Graceful: FIN first, then drain what the peer still sends, so unread input cannot turn the close into a
    /// reset that destroys the response in flight. Otherwise an immediate close.
    /// </summary>
    private static void Close(Socket socket, bool graceful)
    {
        try
        {
            if (graceful)
            {
                socket.Shutdown(SocketShutdown.Send);
                socket.ReceiveTimeout = 1000;
                var sink = new byte[16 * 1024];
                while (socket.Receive(sink) > 0) { }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>Closes the listener and every connection, and joins their threads.</summary>
    public void Stop()
    {
        _stopping = true;
        _listener?.Dispose();
        _acceptThread?.Join(TimeSpan.FromSeconds(5));
        foreach (var (socket, _) in _connections.Values)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            socket.Dispose();
        }
        foreach (var (_, thread) in _connections.Values)
            thread.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>After <see cref="Stop"/>: listens again on the same port (counters and records are kept).
    /// Retries for a while if the port is briefly taken, as it may be by an outgoing connection's ephemeral port.</summary>
    public void Start()
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); ; )
        {
            try
            {
                Listen(Port);
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>Stops, then listens again on the same port (counters and records are kept).</summary>
    public void Restart()
    {
        Stop();
        Listen(Port);
    }

    public void Dispose() => Stop();
}
