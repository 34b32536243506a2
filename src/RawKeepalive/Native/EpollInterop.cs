using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace RawKeepalive.Native;

/// <summary>epoll, edge-triggered; the event data is a 64-bit token chosen by the caller.</summary>
public static unsafe class EpollInterop
{
    public static readonly uint In = (uint)EPOLLIN;
    public static readonly uint Out = (uint)EPOLLOUT;
    public static readonly uint RdHup = (uint)EPOLLRDHUP;
    public static readonly uint Err = (uint)EPOLLERR;
    public static readonly uint Hup = (uint)EPOLLHUP;
    public static readonly uint EdgeTriggered = (uint)EPOLLET;

    public static PosixResult Create() => PosixResult.From(epoll_create1(EPOLL_CLOEXEC));

    public static PosixResult Add(int epfd, int fd, uint events, ulong token) => Control(epfd, EPOLL_CTL_ADD, fd, events, token);

    public static PosixResult Modify(int epfd, int fd, uint events, ulong token) => Control(epfd, EPOLL_CTL_MOD, fd, events, token);

    public static PosixResult Remove(int epfd, int fd) => Control(epfd, EPOLL_CTL_DEL, fd, 0, 0);

    private static PosixResult Control(int epfd, int op, int fd, uint events, ulong token)
    {
        epoll_event ev;
        ev.events = (int)events;
        ev.data.u64 = token;
        return PosixResult.From(epoll_ctl(epfd, op, fd, &ev));
    }

    public static PosixResult Wait(int epfd, EpollEvent* events, int max, int timeoutMs) =>
        PosixResult.From(epoll_wait(epfd, (epoll_event*)events, max, timeoutMs));
}

/// <summary>Our view of struct epoll_event (packed on x86-64: 4 + 8 bytes).</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Pack = 4)]
public struct EpollEvent
{
    public uint Events;
    public ulong Token;
}
