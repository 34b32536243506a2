namespace RawKeepalive.Native;

/// <summary>kill(2), for "-s stop|quit|reopen|reload": the signal goes to the pid in the pid file.</summary>
public static class KillInterop
{
    public const int SIGHUP = 1;
    public const int SIGQUIT = 3;
    public const int SIGUSR1 = 10;
    public const int SIGTERM = 15;

    public static PosixResult Kill(int pid, int signal) => PosixResult.From(Tmds.Linux.LibC.kill(pid, signal));
}
