using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace RawKeepalive.Native;

/// <summary>Non-blocking TCP sockets. Every call returns a PosixResult; nothing throws.</summary>
public static unsafe class SocketInterop
{
    private static readonly int SendFlags = MSG_NOSIGNAL;

    public static PosixResult OpenStream(int family) =>
        PosixResult.From(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));

    public static PosixResult SetReuseAddress(int fd) => SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);

    public static PosixResult SetNoDelay(int fd) => SetInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);

    private static PosixResult SetInt(int fd, int level, int name, int value) =>
        PosixResult.From(setsockopt(fd, level, name, &value, sizeof(int)));

    public static PosixResult Bind(int fd, SockAddr addr)
    {
        fixed (byte* p = addr.Bytes) return PosixResult.From(bind(fd, (sockaddr*)p, (uint)addr.Bytes.Length));
    }

    public static PosixResult Listen(int fd, int backlog) => PosixResult.From(listen(fd, backlog));

    /// <summary>Accepts one connection as non-blocking, close-on-exec; the peer address goes to
    /// <paramref name="peer"/> (128 bytes).</summary>
    public static PosixResult Accept(int fd, byte* peer, out int peerLength)
    {
        socklen_t len = 128;
        var r = PosixResult.From(accept4(fd, (sockaddr*)peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
        peerLength = (int)len;
        return r;
    }

    public static PosixResult Connect(int fd, SockAddr addr)
    {
        fixed (byte* p = addr.Bytes) return PosixResult.From(connect(fd, (sockaddr*)p, (uint)addr.Bytes.Length));
    }

    /// <summary>The pending error of a non-blocking connect (SO_ERROR), 0 when it succeeded.</summary>
    /// <summary>Whether a connect() that answered EINPROGRESS has finished by now: getpeername() fails with
    /// ENOTCONN while the handshake is on its way (SYN_SENT) or once it failed. Over loopback the handshake
    /// is usually done before connect() returns, as the SYN-ACK is handled when connect() releases the socket.</summary>
    public static bool IsConnected(int fd)
    {
        byte* addr = stackalloc byte[128];
        socklen_t len = 128;
        return getpeername(fd, (sockaddr*)addr, &len) == 0;
    }

    public static int PendingError(int fd)
    {
        int err = 0;
        socklen_t len = sizeof(int);
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ? errno : err;
    }

    public static PosixResult Receive(int fd, byte* buffer, int length) =>
        PosixResult.From(recv(fd, buffer, (size_t)length, 0));

    /// <summary>Non-blocking one-byte peek: 0 means the peer closed, EAGAIN means nothing pending.</summary>
    public static PosixResult Peek(int fd)
    {
        byte b;
        return PosixResult.From(recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT));
    }

    public static PosixResult Send(int fd, byte* buffer, int length) =>
        PosixResult.From(send(fd, buffer, (size_t)length, SendFlags));

    /// <summary>One gather write (sendmsg rather than writev, for MSG_NOSIGNAL).</summary>
    public static PosixResult SendVector(int fd, Iovec* iov, int count)
    {
        msghdr msg = default;
        msg.msg_iov = (iovec*)iov;
        msg.msg_iovlen = count;
        return PosixResult.From(sendmsg(fd, &msg, SendFlags));
    }

    public static PosixResult ShutdownWrite(int fd) => PosixResult.From(shutdown(fd, SHUT_WR));

    public static void Close(int fd) => close(fd);

    /// <summary>Closes abortively: SO_LINGER {1, 0} first, so close() sends a RST and the socket skips
    /// TIME_WAIT (its local port is free at once). Only for a connection with nothing in flight.</summary>
    public static void CloseAbortive(int fd)
    {
        Linger l = new() { OnOff = 1, Seconds = 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(Linger));
        close(fd);
    }

    /// <summary>struct linger.</summary>
    private struct Linger
    {
        public int OnOff;
        public int Seconds;
    }

    public static PosixResult LocalAddress(int fd, byte* addr, out int length)
    {
        socklen_t len = 128;
        var r = PosixResult.From(getsockname(fd, (sockaddr*)addr, &len));
        length = (int)len;
        return r;
    }
}

/// <summary>struct iovec.</summary>
public struct Iovec
{
    public unsafe byte* Base;
    public nuint Length;
}
