using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using NUnit.Framework.Interfaces;

namespace RawKeepalive.Tests.Support;

using Process = System.Diagnostics.Process;

/// <summary>
/// The only way tests start the binary. Writes the test's config into a fresh temporary prefix,
/// runs <c>RAWKEEPALIVE_BIN -p PREFIX -c CONFIG</c> in the foreground with its output captured,
/// and waits until the listen port accepts. Dispose kills it (whole process tree) and deletes the prefix.
/// <para>Template placeholders: <c>{PORT}</c>, <c>{PORT2}</c> (free ports probed for the proxy's listens),
/// <c>{BACKEND}</c>, <c>{BACKEND2}</c> (backend ports), <c>{PREFIX}</c>, <c>{ERRLOG}</c>, <c>{PIDFILE}</c>.
/// Unless the test says otherwise the config starts with
/// <c>daemon off; master_process off; error_log ERRLOG info; pid PIDFILE;</c> on its first line,
/// so later process work cannot make tests fork or leak.</para>
/// <para>As nginx's test suite checks for alerts: Dispose stops the process, then fails the test on any
/// <c>[alert]</c>, <c>[crit]</c> or <c>[emerg]</c> line, or any line naming an internal error, in the logs under
/// the prefix (master and workers alike) or in the captured output, unless the test declared it with
/// <see cref="ExpectLog(string)"/>. See <see cref="ErrorLogCheck"/>.</para>
/// </summary>
public sealed class ProxyProcess : IDisposable
{
    public const string ConfigFileName = "rawkeepalive.conf";

    private static readonly ConcurrentDictionary<ProxyProcess, byte> Live = new();
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly StringBuilder _output = new();
    private readonly List<Regex> _expectedLog = [];
    private readonly Process _process;
    private bool _disposed;

    private ProxyProcess(string template, int backend, int backend2, bool preamble, bool master = false,
        IReadOnlyList<string>? extraArgs = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Prefix = Directory.CreateTempSubdirectory("rawkeepalive-test-").FullName;
        Directory.CreateDirectory(Path.Combine(Prefix, "logs"));
        Directory.CreateDirectory(Path.Combine(Prefix, "conf"));
        Port = FreePort.ProbeOther(backend, backend2);
        Port2 = FreePort.ProbeOther(backend, backend2, Port);
        ConfigPath = Path.Combine(Prefix, "conf", ConfigFileName);
        ConfigText = Render(template, Prefix, Port, Port2, backend, backend2, preamble, master);
        File.WriteAllText(ConfigPath, ConfigText);
        _pidFileExpected = ConfigText.Contains(PidFilePath, StringComparison.Ordinal) && environment?.ContainsKey("RAWKEEPALIVE_PID") != true;

        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Prefix,
        };
        foreach (string arg in new[] { "-p", Prefix, "-c", ConfigPath }.Concat(extraArgs ?? []))
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => AppendOutput("stdout", e.Data);
        _process.ErrorDataReceived += (_, e) => AppendOutput("stderr", e.Data);
        _process.Start();
        Live[this] = 0;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Prefix { get; }

    public string ConfigPath { get; }

    public string ConfigText { get; }

    /// <summary>The port substituted for <c>{PORT}</c>.</summary>
    public int Port { get; }

    /// <summary>The port substituted for <c>{PORT2}</c>.</summary>
    public int Port2 { get; }

    public string ErrorLogPath => Path.Combine(Prefix, "logs", "error.log");

    public string PidFilePath => Path.Combine(Prefix, "logs", "rawkeepalive.pid");

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The error log's current contents ("" before it exists).</summary>
    public string ErrorLog
    {
        get
        {
            try
            {
                using var stream = new FileStream(ErrorLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                return new StreamReader(stream).ReadToEnd();
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return "";
            }
        }
    }

    /// <summary>Captured stdout and stderr.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Declares a line this test provokes on purpose: an <c>[alert]</c>, <c>[crit]</c> or <c>[emerg]</c> line
    /// (or one naming an internal error) that contains <paramref name="text"/> (case-insensitive) does not fail the
    /// test at Dispose. It allows the line; it does not require it (assert that with <see cref="WaitForErrorLog"/>).</summary>
    public ProxyProcess ExpectLog(string text) => ExpectLog(ErrorLogCheck.Containing(text));

    /// <summary>As <see cref="ExpectLog(string)"/>, for lines matching <paramref name="pattern"/>.</summary>
    public ProxyProcess ExpectLog(Regex pattern)
    {
        lock (_expectedLog)
            _expectedLog.Add(pattern);
        return this;
    }

    /// <summary>The binary under test: <c>RAWKEEPALIVE_BIN</c>, else <c>artifacts/bin/rawkeepalive</c> above the test assembly.</summary>
    public static string BinaryPath
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("RAWKEEPALIVE_BIN");
            if (!string.IsNullOrEmpty(fromEnv))
                return fromEnv;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "artifacts", "bin", "rawkeepalive");
                if (File.Exists(candidate))
                    return candidate;
            }
            Assert.Fail("RAWKEEPALIVE_BIN is not set and no artifacts/bin/rawkeepalive was found: run the tests with `make test`.");
            return "";
        }
    }

    /// <summary>
    /// True when the binary under test is stock nginx (used to validate this suite against nginx). Stock nginx
    /// has the pre-1.29.7 defaults, which are what <c>keepalive_defaults legacy;</c> selects, so that
    /// directive is dropped from configs written for it.
    /// </summary>
    public static bool IsNginx => Path.GetFileName(BinaryPath) == "nginx";

    /// <summary>Starts the binary on <paramref name="template"/> and waits until <c>{PORT}</c> (and <c>{PORT2}</c> when used) accept.</summary>
    /// <param name="preamble">False when the test writes its own daemon/master_process/error_log/pid lines.</param>
    /// <param name="master">Master mode: the preamble says <c>master_process on</c> (still <c>daemon off</c>), so the
    /// binary runs a master and its worker processes; Dispose kills the whole tree.</param>
    /// <param name="extraArgs">Command-line arguments after <c>-p PREFIX -c CONFIG</c> (e.g. <c>-g</c>).</param>
    /// <param name="environment">Environment variables added for the process.</param>
    public static ProxyProcess Start(string template, int backend = 0, int backend2 = 0, bool preamble = true, bool master = false,
        IReadOnlyList<string>? extraArgs = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        const int attempts = 3;
        for (int attempt = 1; ; attempt++)
        {
            var proxy = new ProxyProcess(template, backend, backend2, preamble, master, extraArgs, environment);
            string? failure = proxy.WaitUntilListening(template.Contains("{PORT2}", StringComparison.Ordinal));
            if (failure is null)
                return proxy;
            string details = proxy.Describe();
            proxy.Dispose(ErrorLogCheck.Mode.Skip);   // the failure below says what the log says
            bool portRace = details.Contains("Address already in use", StringComparison.OrdinalIgnoreCase)
                || details.Contains("EADDRINUSE", StringComparison.Ordinal);
            if (!portRace || attempt == attempts)
                Assert.Fail($"{failure} (attempt {attempt})\n{details}");
        }
    }

    /// <summary>Runs <c>-t</c> on <paramref name="template"/>; returns the exit code and all output.</summary>
    public static ConfigTestResult RunConfigTest(string template, int backend = 0, int backend2 = 0, bool preamble = true) =>
        RunCommand(template, ["-t"], backend: backend, backend2: backend2, preamble: preamble);

    /// <summary>Runs the binary to completion as <c>-p PREFIX [-c CONFIG] ARGS</c> on <paramref name="template"/>
    /// (no <c>-c</c> when <paramref name="withConfigFlag"/> is false, so the default path applies) and returns
    /// the exit code and output. <paramref name="files"/> are written under the prefix first (relative path → text).</summary>
    public static ConfigTestResult RunCommand(string template, IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string>? environment = null, int backend = 0, int backend2 = 0, bool preamble = true,
        bool withConfigFlag = true, IReadOnlyDictionary<string, string>? files = null)
    {
        string prefix = Directory.CreateTempSubdirectory("rawkeepalive-test-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(prefix, "logs"));
            Directory.CreateDirectory(Path.Combine(prefix, "conf"));
            int port = FreePort.ProbeOther(backend, backend2);
            int port2 = FreePort.ProbeOther(backend, backend2, port);
            string configPath = Path.Combine(prefix, "conf", ConfigFileName);
            string text = Render(template, prefix, port, port2, backend, backend2, preamble);
            File.WriteAllText(configPath, text);
            foreach (var (relative, content) in files ?? new Dictionary<string, string>())
            {
                string full = Path.Combine(prefix, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllText(full, content.Replace("{PREFIX}", prefix, StringComparison.Ordinal));
            }

            var start = new ProcessStartInfo(BinaryPath)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = prefix,
            };
            var head = withConfigFlag ? new[] { "-p", prefix, "-c", configPath } : new[] { "-p", prefix };
            foreach (string arg in head.Concat(args))
                start.ArgumentList.Add(arg);
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
                start.Environment[name] = value;
            var (exitCode, stdout, stderr) = RunToCompletion(start, args);
            return new ConfigTestResult(exitCode, stdout + stderr)
            {
                ConfigPath = configPath, ConfigText = text,
                StandardOutput = stdout,
                Prefix = prefix,
                PrefixFiles = Directory.EnumerateFiles(prefix, "*", SearchOption.AllDirectories)
                    .Select(f => Path.GetRelativePath(prefix, f)).Order(StringComparer.Ordinal).ToList(),
            };
        }
        finally
        {
            TryDelete(prefix);
        }
    }

    internal static string Render(string template, string prefix, int port, int port2, int backend, int backend2, bool preamble, bool master = false)
    {
        string errorLog = Path.Combine(prefix, "logs", "error.log");
        string pidFile = Path.Combine(prefix, "logs", "rawkeepalive.pid");
        string text = template
            .Replace("{PORT}", port.ToString(), StringComparison.Ordinal)
            .Replace("{PORT2}", port2.ToString(), StringComparison.Ordinal)
            .Replace("{BACKEND}", backend.ToString(), StringComparison.Ordinal)
            .Replace("{BACKEND2}", backend2.ToString(), StringComparison.Ordinal)
            .Replace("{PREFIX}", prefix, StringComparison.Ordinal)
            .Replace("{ERRLOG}", errorLog, StringComparison.Ordinal)
            .Replace("{PIDFILE}", pidFile, StringComparison.Ordinal);
        if (IsNginx)
            text = text.Replace("keepalive_defaults legacy;", "", StringComparison.Ordinal);
        // One line, so a directive's line number in the written file is its template line + 1.
        return preamble ? $"daemon off; master_process {(master ? "on" : "off")}; error_log {errorLog} info; pid {pidFile};\n{text}" : text;
    }

    internal static int LineOf(string text, string needle)
    {
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains(needle, StringComparison.Ordinal))
                return i + 1;
        }
        throw new ArgumentException($"\"{needle}\" is not in the config");
    }

    /// <summary>Runs the binary to completion against this running proxy's prefix and config (e.g. <c>-s stop</c>).</summary>
    public ConfigTestResult RunCommand(params string[] args)
    {
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Prefix,
        };
        foreach (string arg in new[] { "-p", Prefix, "-c", ConfigPath }.Concat(args))
            start.ArgumentList.Add(arg);
        var (exitCode, stdout, stderr) = RunToCompletion(start, args);
        return new ConfigTestResult(exitCode, stdout + stderr)
        {
            ConfigPath = ConfigPath, ConfigText = ConfigText,
        };
    }

    /// <summary>Starts a short-lived run of the binary and waits for it (bounded: a hang fails the test).</summary>
    private static (int ExitCode, string Stdout, string Stderr) RunToCompletion(ProcessStartInfo start, IReadOnlyList<string> args)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(StartTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
            Assert.Fail($"`{string.Join(' ', args)}` did not exit within {StartTimeout.TotalSeconds} s");
        }
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
        return (process.ExitCode, stdout.IsCompletedSuccessfully ? stdout.Result : "", stderr.IsCompletedSuccessfully ? stderr.Result : "");
    }

    /// <summary>Waits (bounded) for the process to exit; its exit code, or null if it is still running.</summary>
    public int? WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout) ? _process.ExitCode : null;

    /// <summary>1-based line number of the first line of the written config that contains <paramref name="text"/>.</summary>
    public int LineOf(string text) => LineOf(ConfigText, text);

    /// <summary>Null once the listen port(s) accept; otherwise why not.</summary>
    private string? WaitUntilListening(bool port2)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
                return $"{Path.GetFileName(BinaryPath)} exited with code {_process.ExitCode} before listening on port {Port}";
            // Ready as nginx's test suite has it: listening, and the pid file written (it comes after
            // the listen sockets, while the worker is being built, so a test reading it must wait too).
            if (Accepts(Port) && (!port2 || Accepts(Port2)) && PidFileWritten())
                return null;
            Thread.Sleep(50);
        }
        return $"{Path.GetFileName(BinaryPath)} did not listen on port {Port} within {StartTimeout.TotalSeconds} s";
    }

    /// <summary>Whether <see cref="PidFilePath"/> is where this process writes its pid (the config names it
    /// and the environment does not move it).</summary>
    private readonly bool _pidFileExpected;

    /// <summary>The pid file holds a pid, or none is expected at <see cref="PidFilePath"/>.</summary>
    private bool PidFileWritten()
    {
        if (!_pidFileExpected) return true;
        try
        {
            return File.Exists(PidFilePath) && File.ReadAllText(PidFilePath).Trim().Length > 0;
        }
        catch (IOException)
        {
            return false;   // being written
        }
    }

    /// <summary>Whether something accepts TCP connections on loopback <paramref name="port"/>.</summary>
    internal static bool Accepts(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Waits (bounded) until the error log contains <paramref name="text"/>; logs may be written after the response.</summary>
    public bool WaitForErrorLog(string text, TimeSpan? timeout = null) =>
        Wait.Until(() => ErrorLog.Contains(text, StringComparison.OrdinalIgnoreCase), timeout ?? TimeSpan.FromSeconds(5));

    /// <summary>Exit state, captured output and the error log's tail, for failure messages.</summary>
    public string Describe()
    {
        string state = _process.HasExited ? $"exited with code {_process.ExitCode}" : $"running as pid {_process.Id}";
        string log = ErrorLog;
        if (log.Length > 8000)
            log = "...\n" + log[^8000..];
        return $"--- {BinaryPath} -p {Prefix} -c {ConfigPath}: {state}\n--- config:\n{ConfigText}\n--- stdout/stderr:\n{Output}\n--- error log:\n{log}";
    }

    private void AppendOutput(string stream, string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Append(stream).Append(": ").Append(line).Append('\n');
    }

    /// <summary>The live child processes of the started binary: in master mode, its workers.</summary>
    public int[] ChildPids()
    {
        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
                continue;
            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces, so parse after the last ')'.
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (rest[0] != "Z" && int.Parse(rest[1]) == ProcessId)
                    children.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // gone meanwhile
            }
        }
        return [.. children.Order()];
    }

    /// <summary>Sends <paramref name="signal"/> (a number: 1 HUP, 3 QUIT, 9 KILL, 15 TERM) to the started process.</summary>
    public void Signal(int signal) => SendSignal(ProcessId, signal);

    /// <summary>Stops the process (SIGSTOP, master_process off) once its loop is idle, and returns once every
    /// one of its threads is stopped: kill() returns before the signal takes effect, and what the test does
    /// next must find the loop still. Events for it queue up meanwhile; <see cref="Resume"/> lets it take
    /// them all in one epoll batch. Idle first: a loop stopped in the middle of a batch (say, just after
    /// answering a request) would on resuming go on reading that connection and take what arrived meanwhile
    /// before its next epoll_wait.</summary>
    public void Pause()
    {
        if (!Wait.Until(LoopIdle, TimeSpan.FromSeconds(10)))
            throw new TimeoutException($"process {ProcessId}'s loop never waited in epoll_wait");
        Signal(SigStop);
        if (!Wait.Until(AllThreadsStopped, TimeSpan.FromSeconds(10)))
            throw new TimeoutException($"process {ProcessId} did not stop");
    }

    public void Resume() => Signal(SigCont);

    private const int SigCont = 18, SigStop = 19;

    /// <summary>The loop (the main thread, master_process off) is blocked in epoll_wait: /proc's syscall file
    /// names the call a thread is blocked in (x86-64: 232 epoll_wait, 281 epoll_pwait, 441 epoll_pwait2)
    /// and says "running" while it runs.</summary>
    private bool LoopIdle()
    {
        try
        {
            string call = File.ReadAllText($"/proc/{ProcessId}/task/{ProcessId}/syscall");
            return call.Split(' ')[0] is "232" or "281" or "441";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private bool AllThreadsStopped()
    {
        foreach (var task in Directory.GetDirectories($"/proc/{ProcessId}/task"))
        {
            string stat;
            try { stat = File.ReadAllText(Path.Combine(task, "stat")); }
            catch (IOException) { continue; }   // a thread that just ended
            char state = stat[stat.LastIndexOf(')') + 2];
            if (state is not ('T' or 't')) return false;
        }
        return true;
    }

    public static void SendSignal(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>Kills every process a test left running (for the assembly teardown).</summary>
    public static int KillAll()
    {
        int killed = 0;
        foreach (var proxy in Live.Keys)
        {
            if (!proxy._process.HasExited)
                killed++;
            proxy.Dispose(ErrorLogCheck.Mode.Report);
        }
        return killed;
    }

    /// <summary>Stops the process (whole tree), checks its logs (<see cref="ErrorLogCheck"/>) and deletes the prefix.
    /// Throws <see cref="AssertionException"/> for unexpected lines unless the test has already failed.</summary>
    public void Dispose() => Dispose(ErrorLogCheck.Mode.Fail);

    /// <summary>As <see cref="Dispose()"/>; <paramref name="mode"/> says what unexpected log lines do.</summary>
    public void Dispose(ErrorLogCheck.Mode mode)
    {
        lock (_output)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        string? unexpected = null;
        try
        {
            Stop();
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        finally
        {
            try
            {
                if (mode != ErrorLogCheck.Mode.Skip)
                {
                    Regex[] expected;
                    lock (_expectedLog)
                        expected = [.. _expectedLog];
                    unexpected = ErrorLogCheck.Describe($"{Path.GetFileName(BinaryPath)} -p {Prefix}", ErrorLogCheck.Find(Prefix, Output, expected));
                }
            }
            finally
            {
                Live.TryRemove(this, out _);
                _process.Dispose();
                TryDelete(Prefix);
            }
        }
        ErrorLogCheck.Report(unexpected, mode);
    }

    /// <summary>Kills the process tree so that nothing it logs is an artefact of the killing: in master mode the
    /// master is stopped first (it cannot log its workers' deaths or respawn them) and the workers are killed
    /// before it (none can log that the master is gone). Then waits for the captured output to end.</summary>
    private void Stop()
    {
        if (!_process.HasExited)
        {
            const int sigKill = 9, sigStop = 19;
            if (kill(ProcessId, sigStop) == 0 && Wait.Until(() => StateOf(ProcessId) is 'T' or 'Z' or null, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(5)))
            {
                int[] workers = ChildPids();
                foreach (int pid in workers)
                    kill(pid, sigKill);
                Wait.Until(() => workers.All(pid => StateOf(pid) is 'Z' or null), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(5));
            }
            _process.Kill(entireProcessTree: true);
        }
        // The timed wait does not wait for the redirected output; the untimed one does (bounded here).
        if (_process.WaitForExit(10_000))
            Task.Run(() => _process.WaitForExit()).Wait(TimeSpan.FromSeconds(5));
    }

    /// <summary>The state letter in /proc/PID/stat (R, S, T, Z...); null once the process is gone.</summary>
    private static char? StateOf(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// nginx's test suite ends every test by checking the error log for alerts; this is that check. A line fails the
/// test when it is an error-log line (<c>YYYY/MM/DD HH:MM:SS [level] ...</c>) at <c>[alert]</c>, <c>[crit]</c> or
/// <c>[emerg]</c>, or one that names an internal error, in any file under the prefix (the master and its workers
/// share the error log; a test may name others), or a line of captured output with one of those levels, an
/// internal error or an unhandled exception, and no pattern the test declared matches it.
/// </summary>
public static class ErrorLogCheck
{
    /// <summary>What unexpected lines do: fail the test (unless it has already failed: then they are written to
    /// its output, so they never mask the first failure), only be written to the output, or not be looked for.</summary>
    public enum Mode { Fail, Report, Skip }

    private const int MaxListed = 20;
    private const int MaxContinuation = 12;

    private static readonly Regex LogLine = new(@"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[(?<level>[a-z]+)\] ", RegexOptions.CultureInvariant);
    private static readonly Regex BadOutput = new(@"\[(alert|crit|emerg)\]|internal error|unhandled exception", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>A pattern matching lines that contain <paramref name="text"/>, ignoring case.</summary>
    public static Regex Containing(string text) => new(Regex.Escape(text), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>Whether an error-log line (without continuation lines) is one the check looks at.</summary>
    public static bool IsAlarming(string line)
    {
        var m = LogLine.Match(line);
        return m.Success
            ? m.Groups["level"].Value is "alert" or "crit" or "emerg" || line.Contains("internal error", StringComparison.OrdinalIgnoreCase)
            : BadOutput.IsMatch(line);
    }

    /// <summary>The alarming lines under <paramref name="prefix"/> and in <paramref name="output"/> that no pattern in
    /// <paramref name="expected"/> matches, each as "file: line" with the lines that continue it (a stack trace).</summary>
    public static List<string> Find(string prefix, string output, IReadOnlyCollection<Regex> expected)
    {
        var found = new List<string>();
        bool Expected(string line) => expected.Any(p => p.IsMatch(line));
        if (Directory.Exists(prefix))
        {
            foreach (string file in Directory.EnumerateFiles(prefix, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                StringBuilder? entry = null;
                int continuation = 0;
                foreach (string line in ReadLines(file))
                {
                    if (LogLine.IsMatch(line))
                    {
                        Add(found, ref entry);
                        if (IsAlarming(line) && !Expected(line))
                        {
                            entry = new StringBuilder(Path.GetRelativePath(prefix, file)).Append(": ").Append(line);
                            continuation = 0;
                        }
                    }
                    else if (entry is not null && continuation++ < MaxContinuation)
                    {
                        entry.Append("\n        ").Append(line);
                    }
                }
                Add(found, ref entry);
            }
        }
        foreach (string line in output.Split('\n'))
        {
            // "stderr: rawkeepalive: [emerg] ...", or error-log lines under error_log stderr
            if (line.Length > 0 && IsAlarming(line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..]) && !Expected(line))
                found.Add($"output: {line}");
        }
        return found;
    }

    private static void Add(List<string> found, ref StringBuilder? entry)
    {
        if (entry is not null)
            found.Add(entry.ToString());
        entry = null;
    }

    private static IEnumerable<string> ReadLines(string file)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;   // gone meanwhile, or not ours to read
        }
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
            yield return line;
    }

    /// <summary>A failure message for <paramref name="unexpected"/> lines of <paramref name="source"/>; null when there are none.</summary>
    public static string? Describe(string source, IReadOnlyList<string> unexpected)
    {
        if (unexpected.Count == 0)
            return null;
        var message = new StringBuilder()
            .Append(source).Append(": ").Append(unexpected.Count)
            .Append(" unexpected [alert]/[crit]/[emerg] or internal-error line(s); a test that provokes one declares it with ExpectLog(...):");
        foreach (string line in unexpected.Take(MaxListed))
            message.Append("\n    ").Append(line);
        if (unexpected.Count > MaxListed)
            message.Append("\n    ... and ").Append(unexpected.Count - MaxListed).Append(" more");
        return message.ToString();
    }

    /// <summary>Fails the test with <paramref name="message"/> (unless null) as <paramref name="mode"/> says.</summary>
    public static void Report(string? message, Mode mode)
    {
        if (message is null || mode == Mode.Skip)
            return;
        if (mode == Mode.Fail && !TestHasFailed())
            throw new AssertionException(message);
        try
        {
            TestContext.Out.WriteLine(message);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            TestContext.Progress.WriteLine(message);
        }
    }

    /// <summary>True when the current test has already failed (an exception, or a recorded failed assertion).</summary>
    public static bool TestHasFailed()
    {
        var result = TestContext.CurrentContext.Result;
        return result.Outcome.Status == TestStatus.Failed
            || result.Assertions.Any(a => a.Status is AssertionStatus.Failed or AssertionStatus.Error);
    }
}
