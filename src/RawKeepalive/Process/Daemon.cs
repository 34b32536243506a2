using System.Diagnostics;
using RawKeepalive.Native;

namespace RawKeepalive.Process;

/// <summary><c>daemon on</c>: NativeAOT cannot fork, so the process re-executes itself with the same
/// arguments and a marker in the environment, detached from the terminal (stdio to pipes it
/// closes at once, so writes go nowhere); the copy makes itself a session leader with setsid and
/// carries on as the master, and the original exits.</summary>
public static class Daemon
{
    private const string Marker = "RAWKEEPALIVE_DAEMONIZED";

    public static bool IsDaemonized => Environment.GetEnvironmentVariable(Marker) == "1";

    public static int Start(string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment[Marker] = "1";
        using var child = System.Diagnostics.Process.Start(start)!;
        child.StandardInput.Close();
        child.StandardOutput.Close();
        child.StandardError.Close();
        return 0;
    }

    /// <summary>In the re-executed copy: a new session, no controlling terminal.</summary>
    public static void Detach() => ProcessInterop.SetSid();
}
