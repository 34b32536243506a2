using static Tmds.Linux.LibC;

namespace RawKeepalive.Native;

/// <summary>The errno values the proxy branches on, and their text for log lines (nginx prints
/// "(111: Connection refused)").</summary>
public static class PosixErrors
{
    public static readonly int EAGAIN = Tmds.Linux.LibC.EAGAIN;
    public static readonly int EINTR = Tmds.Linux.LibC.EINTR;
    public static readonly int EINPROGRESS = Tmds.Linux.LibC.EINPROGRESS;
    public static readonly int ECONNRESET = Tmds.Linux.LibC.ECONNRESET;
    public static readonly int ETIMEDOUT = 110;
    public static readonly int EMFILE = 24;
    public static readonly int ENFILE = 23;

    public static unsafe string Describe(int errno)
    {
        byte* s = strerror(errno);
        return s == null ? "Unknown error" : new string((sbyte*)s);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "strerror")]
    private static extern unsafe byte* strerror(int errnum);
}
