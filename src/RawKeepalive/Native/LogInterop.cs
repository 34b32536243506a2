using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace RawKeepalive.Native;

/// <summary>What the log writers call: appends to files opened with O_APPEND (every process of the server
/// writes the same files, and only O_APPEND puts each write at the end), and connected non-blocking UDP
/// sockets for syslog. Every call returns a PosixResult; nothing throws or blocks on the network.</summary>
public static unsafe class LogInterop
{
    /// <summary>Opens <paramref name="path"/> (NUL-terminated bytes) for appending, creating it 0644.
    /// Taking bytes lets a path made per line (access_log with variables) be opened without a string.</summary>
    public static PosixResult OpenAppend(byte* path) =>
        PosixResult.From(open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 420 /* 0644 */));

    /// <summary>One write(2); on a regular file it lands in the page cache and returns at once.</summary>
    public static PosixResult Write(int fd, byte* buffer, int length) => PosixResult.From(write(fd, buffer, (size_t)length));

    public static void Close(int fd) => close(fd);

    /// <summary>A non-blocking UDP socket connected to <paramref name="server"/>: each send is one
    /// datagram, and a send that would block fails with EAGAIN instead (the line is dropped).</summary>
    public static PosixResult OpenDatagram(SockAddr server)
    {
        var fd = PosixResult.From(socket(server.Family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (fd.IsError) return fd;
        var connected = SocketInterop.Connect((int)fd.Value, server);
        if (!connected.IsError) return fd;
        close((int)fd.Value);
        return connected;
    }
}
