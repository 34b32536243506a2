using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// An upstream that answers each request head with the raw bytes a test scripts for its path, for
/// what a well-behaved backend never sends: conflicting framing, an interim response followed by a
/// reset, a close before any byte. <c>{CONN}</c> in the answer becomes the connection's number. An
/// answer of null closes the connection without a byte (FIN); an answer ending in <see cref="Reset"/>
/// sends what comes before it, then resets the connection. Request bodies are not read (GET, or a
/// body the answer closes on).
/// </summary>
public sealed class ScriptedBackend : IDisposable
{
    /// <summary>Ends an answer: what comes before it is sent, then the connection is reset (RST).</summary>
    public const string Reset = "{RESET}";

    private readonly Socket _listener;
    private readonly Func<string, string?> _respond;
    private readonly ConcurrentDictionary<int, Socket> _open = new();
    private readonly ConcurrentQueue<(int Connection, string Path)> _requests = new();
    private readonly ConcurrentQueue<int> _closed = new();
    private int _accepted;

    public ScriptedBackend(Func<string, string?> respond)
    {
        _respond = respond;
        _listener = LoopbackListener.Start("scripted-backend", Serve);
        Port = LoopbackListener.PortOf(_listener);
    }

    public int Port { get; }

    public int AcceptedConnections => Volatile.Read(ref _accepted);

    /// <summary>(connection, path) of every request, in arrival order.</summary>
    public IReadOnlyList<(int Connection, string Path)> Requests => _requests.ToArray();

    /// <summary>Connections that ended (end of stream or reset seen here, or closed by the script).</summary>
    public IReadOnlyList<int> ClosedConnections => _closed.ToArray();

    private void Serve(Socket socket, int number)
    {
        Interlocked.Increment(ref _accepted);
        _open[number] = socket;
        var pending = new List<byte>();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int end;
                while ((end = HeadEnd(pending)) < 0)
                {
                    int n = socket.Receive(buffer);
                    if (n == 0)
                    {
                        _closed.Enqueue(number);
                        return;
                    }
                    pending.AddRange(buffer.AsSpan(0, n));
                }
                string head = Encoding.Latin1.GetString(pending.GetRange(0, end).ToArray());
                pending.RemoveRange(0, end);
                string path = head.Split(' ', 3)[1];
                _requests.Enqueue((number, path));
                string? answer = _respond(path)?.Replace("{CONN}", number.ToString(), StringComparison.Ordinal);
                if (answer is null)
                {
                    _closed.Enqueue(number);
                    socket.Shutdown(SocketShutdown.Both);
                    socket.Close();
                    return;
                }
                bool reset = answer.EndsWith(Reset, StringComparison.Ordinal);
                if (reset) answer = answer[..^Reset.Length];
                socket.Send(Encoding.Latin1.GetBytes(answer));
                if (reset)
                {
                    _closed.Enqueue(number);
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _closed.Enqueue(number);
        }
    }

    /// <summary>Length of the request head at the start of <paramref name="bytes"/>, or -1.</summary>
    private static int HeadEnd(List<byte> bytes)
    {
        for (int i = 3; i < bytes.Count; i++)
        {
            if (bytes[i] == '\n' && bytes[i - 1] == '\r' && bytes[i - 2] == '\n' && bytes[i - 3] == '\r')
                return i + 1;
        }
        return -1;
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (var socket in _open.Values)
            socket.Dispose();
    }
}
