using static Tmds.Linux.LibC;

namespace RawKeepalive.Native;

/// <summary>eventfd(2): how another thread (a signal handler's) wakes a worker blocked in epoll_wait.</summary>
public static unsafe class EventFdInterop
{
    /// <summary>A non-blocking, close-on-exec eventfd; -1 on failure.</summary>
    public static int Open() => eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    /// <summary>Adds one to the counter: an edge for an edge-triggered epoll registration. The counter
    /// is never read; it cannot reach 2^64 - 1 in any process's life.</summary>
    public static void Signal(int fd)
    {
        ulong one = 1;
        write(fd, &one, 8);
    }
}
