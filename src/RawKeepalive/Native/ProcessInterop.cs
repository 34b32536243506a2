using System.Runtime.InteropServices;

namespace RawKeepalive.Native;

/// <summary>The process-level calls the master and workers need: signals to other processes,
/// sessions, CPU affinity, inheritable descriptors, shared memory, limits and users. Plain libc
/// imports with blittable arguments (no marshalling), so NativeAOT binds them directly.</summary>
public static unsafe class ProcessInterop
{
    private const string Libc = "libc";

    public const int SIGKILL = 9, SIGHUP = 1, SIGQUIT = 3, SIGTERM = 15, SIGUSR1 = 10;
    private const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;
    private const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
    private const int RLIMIT_NOFILE = 7;
    private const int SOL_SOCKET = 1, SO_REUSEPORT = 15;

    [DllImport(Libc, EntryPoint = "kill", SetLastError = true)]
    private static extern int sys_kill(int pid, int sig);

    [DllImport(Libc, EntryPoint = "setsid", SetLastError = true)]
    private static extern int sys_setsid();

    [DllImport(Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int sys_sched_setaffinity(int pid, nint size, ulong* mask);

    [DllImport(Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int sys_sched_getaffinity(int pid, nint size, ulong* mask);

    [DllImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    private static extern int sys_fcntl(int fd, int cmd, int arg);

    [DllImport(Libc, EntryPoint = "memfd_create", SetLastError = true)]
    private static extern int sys_memfd_create(byte* name, uint flags);

    [DllImport(Libc, EntryPoint = "ftruncate", SetLastError = true)]
    private static extern int sys_ftruncate(int fd, long length);

    [DllImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    private static extern void* sys_mmap(void* addr, nint length, int prot, int flags, int fd, long offset);

    [DllImport(Libc, EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int sys_setrlimit(int resource, ulong* limits);

    [DllImport(Libc, EntryPoint = "geteuid")]
    private static extern uint sys_geteuid();

    [DllImport(Libc, EntryPoint = "getpwnam", SetLastError = true)]
    private static extern byte* sys_getpwnam(byte* name);

    [DllImport(Libc, EntryPoint = "getgrnam", SetLastError = true)]
    private static extern byte* sys_getgrnam(byte* name);

    [DllImport(Libc, EntryPoint = "setgid", SetLastError = true)]
    private static extern int sys_setgid(uint gid);

    [DllImport(Libc, EntryPoint = "setuid", SetLastError = true)]
    private static extern int sys_setuid(uint uid);

    [DllImport(Libc, EntryPoint = "setgroups", SetLastError = true)]
    private static extern int sys_setgroups(nint size, uint* list);

    [DllImport(Libc, EntryPoint = "read", SetLastError = true)]
    private static extern nint sys_read(int fd, byte* buffer, nint count);

    [DllImport(Libc, EntryPoint = "setsockopt", SetLastError = true)]
    private static extern int sys_setsockopt(int fd, int level, int name, int* value, uint length);

    [DllImport(Libc, EntryPoint = "signal", SetLastError = true)]
    private static extern nint sys_signal(int sig, nint handler);

    /// <summary>Puts the default action back on the signals the server is controlled by. A process
    /// started in the background by a shell inherits SIGINT and SIGQUIT ignored, and .NET leaves an
    /// inherited SIG_IGN in place when a handler is registered, so without this a master started
    /// with "&amp;" or nohup could never be told to quit, nor its workers to drain.</summary>
    public static void ResetControlSignals()
    {
        foreach (int sig in (ReadOnlySpan<int>)[SIGHUP, 2 /* SIGINT */, SIGQUIT, SIGTERM, SIGUSR1]) sys_signal(sig, 0 /* SIG_DFL */);
    }

    /// <summary>splice() into a socket has no MSG_NOSIGNAL: a client that reset its connection must
    /// give EPIPE, not kill the worker with SIGPIPE.</summary>
    public static void IgnoreBrokenPipe() => sys_signal(13 /* SIGPIPE */, 1 /* SIG_IGN */);

    private static PosixResult Result(long r) => r < 0 ? new PosixResult(-Marshal.GetLastPInvokeError()) : new PosixResult(r);

    public static PosixResult Kill(int pid, int signal) => Result(sys_kill(pid, signal));

    public static PosixResult SetSid() => Result(sys_setsid());

    /// <summary>Sets the calling thread's CPU mask (pid 0 = this thread on Linux); a child started
    /// from this thread inherits it for every thread it makes.</summary>
    public static PosixResult SetThreadAffinity(ulong mask) => Result(sys_sched_setaffinity(0, sizeof(ulong), &mask));

    public static ulong GetThreadAffinity()
    {
        ulong mask = 0;
        return sys_sched_getaffinity(0, sizeof(ulong), &mask) < 0 ? 0 : mask;
    }

    /// <summary>The CPU mask of any thread (a task id from /proc/PID/task).</summary>
    public static ulong GetAffinity(int tid)
    {
        ulong mask = 0;
        return sys_sched_getaffinity(tid, sizeof(ulong), &mask) < 0 ? 0 : mask;
    }

    /// <summary>Clears or sets close-on-exec: the descriptors a worker must inherit are the only ones without it.</summary>
    public static PosixResult SetInheritable(int fd, bool inheritable)
    {
        int flags = sys_fcntl(fd, F_GETFD, 0);
        if (flags < 0) return Result(flags);
        flags = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
        return Result(sys_fcntl(fd, F_SETFD, flags));
    }

    /// <summary>An anonymous memory file of <paramref name="size"/> bytes, close-on-exec until told otherwise.</summary>
    public static PosixResult MemfdCreate(string name, long size)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        int fd;
        fixed (byte* p = bytes) fd = sys_memfd_create(p, 1 /* MFD_CLOEXEC */);
        if (fd < 0) return Result(fd);
        if (sys_ftruncate(fd, size) < 0)
        {
            var err = Result(-1);
            SocketInterop.Close(fd);
            return err;
        }
        return new PosixResult(fd);
    }

    /// <summary>Maps <paramref name="size"/> bytes of <paramref name="fd"/> shared, read-write; null on failure.</summary>
    public static byte* MapShared(int fd, long size)
    {
        void* p = sys_mmap(null, (nint)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        return p == (void*)-1 ? null : (byte*)p;
    }

    public static PosixResult SetNofileLimit(ulong limit)
    {
        ulong* l = stackalloc ulong[2] { limit, limit };
        return Result(sys_setrlimit(RLIMIT_NOFILE, l));
    }

    public static bool IsRoot => sys_geteuid() == 0;

    /// <summary>uid and gid of a user name (passwd's pw_uid and pw_gid follow two pointers), or null.</summary>
    public static (uint Uid, uint Gid)? LookupUser(string name)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            byte* pw = sys_getpwnam(p);
            return pw == null ? null : (*(uint*)(pw + 16), *(uint*)(pw + 20));
        }
    }

    /// <summary>gid of a group name (group's gr_gid follows two pointers), or null.</summary>
    public static uint? LookupGroup(string name)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            byte* gr = sys_getgrnam(p);
            return gr == null ? null : *(uint*)(gr + 16);
        }
    }

    /// <summary>Drops to uid/gid with no supplementary groups: gid first, while still allowed to.</summary>
    public static PosixResult DropTo(uint uid, uint gid)
    {
        if (sys_setgroups(0, null) < 0) return Result(-1);
        if (sys_setgid(gid) < 0) return Result(-1);
        return Result(sys_setuid(uid));
    }

    /// <summary>Blocking read; 0 at end of file.</summary>
    public static PosixResult Read(int fd, byte* buffer, int count) => Result(sys_read(fd, buffer, count));

    public static PosixResult SetReusePort(int fd)
    {
        int one = 1;
        return Result(sys_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(int)));
    }
}
