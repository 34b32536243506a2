using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using RawKeepalive.Native;

namespace RawKeepalive.Benchmarks;

/// <summary>Relaying a response body from the upstream socket to the client socket: recv() into a
/// 16 KiB buffer + send() (what ClientConnection.PumpResponseOut does today), the same with a
/// 64 KiB buffer (fewer, larger calls without splice), and splice() through a pipe. Each operation moves BodySize bytes through two real loopback TCP connections:
/// the "upstream" writes into A, the relay moves A's read end to B's write end, the "client" drains
/// B, all on this thread, non-blocking, interleaved so that no step waits on another. Writing and
/// draining are the same in every method; "write+drain, no relay" measures them alone, so a
/// method's time minus the baseline is its relay cost. The time is the thread's wall time, which
/// includes the kernel's share (the copies, and loopback delivery, run inside these syscalls).</summary>
public unsafe class BodyRelayBenchmarks
{
    private const int RelayBufferSize = 16 * 1024;       // the proxy's I/O buffer (BufferSlab)
    private const int LargeRelayBufferSize = 64 * 1024;  // how much of splice's gain bigger reads alone buy
    private const int SocketBufferSize = 4 * 1024 * 1024; // a whole body fits in flight
    private const int SourceSize = 1024 * 1024;
    private const int DrainSize = 256 * 1024;
    private const int LargePipe = 1024 * 1024;

    [Params(16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024)]
    public int BodySize { get; set; }

    private readonly List<Socket> _sockets = [];
    private int _upWriter, _upReader;           // pair A: upstream → proxy
    private int _clientWriter, _clientReader;   // pair B: proxy → client
    private int _directWriter, _directReader;   // the baseline's pair: upstream → client
    private int _pipeRead, _pipeWrite;          // default capacity (64 KiB)
    private int _largePipeRead, _largePipeWrite;
    private byte[] _arrays = null!;             // one pinned array holds the three buffers below
    private byte* _source, _relay, _drain;

    private enum Relay : byte { None, RecvSend, Splice }

    [GlobalSetup]
    public void Setup()
    {
        (_upWriter, _upReader) = Connect();
        (_clientWriter, _clientReader) = Connect();
        (_directWriter, _directReader) = Connect();
        Check(PipeInterop.Open(out _pipeRead, out _pipeWrite), "pipe2");
        Check(PipeInterop.Open(out _largePipeRead, out _largePipeWrite), "pipe2");
        Check(PipeInterop.SetCapacity(_largePipeWrite, LargePipe), "F_SETPIPE_SZ");
        _arrays = GC.AllocateArray<byte>(SourceSize + LargeRelayBufferSize + DrainSize, pinned: true);
        fixed (byte* p = _arrays)
        {
            _source = p;
            _relay = p + SourceSize;
            _drain = _relay + LargeRelayBufferSize;
        }
        Random.Shared.NextBytes(_arrays.AsSpan(0, SourceSize));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (int fd in (ReadOnlySpan<int>)[_pipeRead, _pipeWrite, _largePipeRead, _largePipeWrite]) SocketInterop.Close(fd);
        foreach (var s in _sockets) s.Dispose();
        _sockets.Clear();
    }

    [Benchmark(Baseline = true, Description = "write+drain, no relay")]
    public long WriteDrain() => Move(_directWriter, _directReader, Relay.None);

    [Benchmark(Description = "recv+send, 16 KiB buffer")]
    public long RecvSend() => Move(_upWriter, _clientReader, Relay.RecvSend, bufferSize: RelayBufferSize);

    [Benchmark(Description = "recv+send, 64 KiB buffer")]
    public long RecvSendLargeBuffer() => Move(_upWriter, _clientReader, Relay.RecvSend, bufferSize: LargeRelayBufferSize);

    [Benchmark(Description = "splice, 64 KiB pipe")]
    public long SpliceDefaultPipe() => Move(_upWriter, _clientReader, Relay.Splice, pipeRead: _pipeRead, pipeWrite: _pipeWrite);

    [Benchmark(Description = "splice, 1 MiB pipe")]
    public long SpliceLargePipe() => Move(_upWriter, _clientReader, Relay.Splice, pipeRead: _largePipeRead, pipeWrite: _largePipeWrite);

    /// <summary>One body from <paramref name="writer"/> to <paramref name="reader"/>: write what the
    /// socket takes, relay until stuck, drain until empty, again until every byte arrived. Returns the
    /// relay's syscall count.</summary>
    private long Move(int writer, int reader, Relay relay, int bufferSize = 0, int pipeRead = -1, int pipeWrite = -1)
    {
        long written = 0, drained = 0, calls = 0;
        var state = new RelayState();
        while (drained < BodySize)
        {
            if (written < BodySize)
                written += Progress(SocketInterop.Send(writer, _source + written, (int)(BodySize - written)), "send upstream");
            if (relay == Relay.RecvSend) calls += RecvSendStep(ref state, bufferSize);
            else if (relay == Relay.Splice) calls += SpliceStep(ref state, pipeRead, pipeWrite);
            long got;
            while ((got = Progress(SocketInterop.Receive(reader, _drain, DrainSize), "drain")) > 0) drained += got;
        }
        return calls;
    }

    private struct RelayState
    {
        public long RelayedIn;   // bytes taken from the upstream socket
        public int Start, End;   // recv+send: the unsent bytes in the relay buffer
        public long InPipe;      // splice: bytes in the pipe, not yet sent
    }

    /// <summary>As PumpResponseOut: send what the buffer holds, read when it holds nothing, stop at
    /// the first EAGAIN. Returns the syscalls made.</summary>
    private int RecvSendStep(ref RelayState s, int bufferSize)
    {
        for (int calls = 1; ; calls++)
        {
            if (s.Start < s.End)
            {
                long n = Progress(SocketInterop.Send(_clientWriter, _relay + s.Start, s.End - s.Start), "send to client");
                if (n == 0) return calls;
                s.Start += (int)n;
            }
            else if (s.RelayedIn < BodySize)
            {
                long n = Progress(SocketInterop.Receive(_upReader, _relay, bufferSize), "recv from upstream");
                if (n == 0) return calls;
                s.Start = 0;
                s.End = (int)n;
                s.RelayedIn += n;
            }
            else return calls - 1;
        }
    }

    /// <summary>The same steps with the pipe in place of the buffer: empty the pipe into the client,
    /// fill it from the upstream when it is empty.</summary>
    private int SpliceStep(ref RelayState s, int pipeRead, int pipeWrite)
    {
        for (int calls = 1; ; calls++)
        {
            if (s.InPipe > 0)
            {
                long n = Progress(PipeInterop.Splice(pipeRead, _clientWriter, s.InPipe), "splice to client");
                if (n == 0) return calls;
                s.InPipe -= n;
            }
            else if (s.RelayedIn < BodySize)
            {
                long n = Progress(PipeInterop.Splice(_upReader, pipeWrite, BodySize - s.RelayedIn), "splice from upstream");
                if (n == 0) return calls;
                s.InPipe += n;
                s.RelayedIn += n;
            }
            else return calls - 1;
        }
    }

    /// <summary>The bytes a call moved; 0 for EAGAIN (the loop moves on to another step).</summary>
    private static long Progress(PosixResult r, string what)
    {
        if (r.IsAgain) return 0;
        if (r.IsError || r.Value == 0) Fail(r, what);
        return r.Value;
    }

    private static void Fail(PosixResult r, string what) => throw new InvalidOperationException($"{what} failed ({r})");

    private static void Check(PosixResult r, string what)
    {
        if (r.IsError) Fail(r, what);
    }

    /// <summary>A loopback TCP connection: non-blocking, TCP_NODELAY like the proxy's, buffers set
    /// before connect so the window scale allows them.</summary>
    private (int Writer, int Reader) Connect()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.ReceiveBufferSize = SocketBufferSize;
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var writer = Configure(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        writer.Connect(listener.LocalEndPoint!);
        var reader = Configure(listener.Accept());
        writer.Blocking = reader.Blocking = false;
        return ((int)writer.Handle, (int)reader.Handle);
    }

    private Socket Configure(Socket s)
    {
        s.SendBufferSize = s.ReceiveBufferSize = SocketBufferSize;
        s.NoDelay = true;
        _sockets.Add(s);
        return s;
    }
}
