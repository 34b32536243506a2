using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace RawKeepalive.Native;

/// <summary>Pipes and splice(2): body bytes moved socket → pipe → socket inside the kernel, never
/// copied through a user buffer. Every call returns a PosixResult; nothing throws.</summary>
public static unsafe class PipeInterop
{
    // SPLICE_F_NONBLOCK makes only the pipe side non-blocking; the sockets are O_NONBLOCK themselves.
    private static readonly uint SpliceFlags = (uint)(SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

    /// <summary>A non-blocking, close-on-exec pipe. The descriptors are -1 when the call failed.</summary>
    public static PosixResult Open(out int readFd, out int writeFd)
    {
        int* fds = stackalloc int[2] { -1, -1 };
        var r = PosixResult.From(pipe2(fds, O_NONBLOCK | O_CLOEXEC));
        readFd = fds[0];
        writeFd = fds[1];
        return r;
    }

    /// <summary>F_SETPIPE_SZ: the kernel rounds up to a power-of-two number of pages and returns the
    /// capacity it set; unprivileged callers are capped at /proc/sys/fs/pipe-max-size (1 MiB).</summary>
    public static PosixResult SetCapacity(int pipeFd, int bytes) => PosixResult.From(fcntl(pipeFd, F_SETPIPE_SZ, bytes));

    public static void Close(int readFd, int writeFd)
    {
        close(readFd);
        close(writeFd);
    }

    /// <summary>Moves up to <paramref name="length"/> bytes from <paramref name="fdIn"/> to
    /// <paramref name="fdOut"/> (one of them a pipe) at the current positions. EAGAIN: the source is
    /// empty or the destination full; 0 from a socket: the peer closed.</summary>
    public static PosixResult Splice(int fdIn, int fdOut, long length) =>
        PosixResult.From(splice(fdIn, null, fdOut, null, (size_t)(ulong)length, SpliceFlags));
}
