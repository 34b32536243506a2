using RawKeepalive.Native;

namespace RawKeepalive.Loop;

/// <summary>
/// The worker's pipes for splice(2): a response body big enough to pay for it goes upstream socket
/// → pipe → client socket inside the kernel, never through a user buffer (perf/README.md, "splice()":
/// at 64 KiB and up it costs about half of recv+send through a 16 KiB buffer).
/// A pipe is lent to one exchange at a time, because bytes in a pipe cannot be handed back: an
/// exchange whose client reads slowly keeps its pipe until it drains. Pipes open on first need
/// and are kept; when all are lent, an exchange relays through its buffer as usual.
/// </summary>
public sealed class SplicePipes : IDisposable
{
    /// <summary>Bytes per pipe asked of F_SETPIPE_SZ. Pipe memory is charged per user against
    /// fs.pipe-user-pages-soft (64 MiB by default) whether it holds bytes or not, so MaxPipes ×
    /// Capacity stays small enough for several workers.</summary>
    public const int Capacity = 256 * 1024;
    public const int MaxPipes = 16;

    private readonly int[] _readFd = new int[MaxPipes];
    private readonly int[] _writeFd = new int[MaxPipes];
    private readonly int[] _capacity = new int[MaxPipes];
    private readonly int[] _free = new int[MaxPipes];
    private int _freeCount;

    /// <summary>Body bytes moved through the pipes since the worker started (for tests and perf).</summary>
    public long SplicedBytes;

    public SplicePipes()
    {
        for (int i = 0; i < MaxPipes; i++)
        {
            _readFd[i] = _writeFd[i] = -1;
            _free[_freeCount++] = MaxPipes - 1 - i;   // lends pipe 0 first
        }
    }

    public int ReadFd(int pipe) => _readFd[pipe];
    public int WriteFd(int pipe) => _writeFd[pipe];
    public int CapacityOf(int pipe) => _capacity[pipe];

    /// <summary>A free pipe, opened if it is not yet; -1 when all are lent or none can be opened
    /// (out of descriptors): the caller relays through its buffer instead.</summary>
    public int TryTake()
    {
        if (_freeCount == 0) return -1;
        int pipe = _free[_freeCount - 1];
        if (_readFd[pipe] < 0)
        {
            if (PipeInterop.Open(out int r, out int w).IsError) return -1;
            var set = PipeInterop.SetCapacity(w, Capacity);
            _readFd[pipe] = r;
            _writeFd[pipe] = w;
            _capacity[pipe] = set.IsError ? 65536 : (int)set.Value;   // the default when the user is over its pipe quota
        }
        _freeCount--;
        return pipe;
    }

    /// <summary>Takes a pipe back. One still holding bytes (the exchange was aborted) is closed, so
    /// its stale bytes can never reach another client; it reopens when next needed.</summary>
    public void Return(int pipe, bool empty)
    {
        if (!empty) ClosePipe(pipe);
        _free[_freeCount++] = pipe;
    }

    private void ClosePipe(int pipe)
    {
        if (_readFd[pipe] < 0) return;
        PipeInterop.Close(_readFd[pipe], _writeFd[pipe]);
        _readFd[pipe] = _writeFd[pipe] = -1;
    }

    public void Dispose()
    {
        for (int i = 0; i < MaxPipes; i++) ClosePipe(i);
    }
}
