using System.Runtime.CompilerServices;
using System.Text;
using RawKeepalive.Config;
using RawKeepalive.Native;
using RawKeepalive.Transforms;

namespace RawKeepalive.Observability;

public enum LogLevel { Debug, Info, Notice, Warn, Error, Crit, Alert, Emerg }

/// <summary>nginx-format error log: "2026/11/25 01:33:40 [error] 1234#0: *5 message", to every
/// destination whose level lets the line through (error_log may be given several times: files,
/// stderr, syslog). A file line is one unbuffered O_APPEND write (a page-cache write, as nginx); a
/// syslog line is one datagram, "&lt;PRI&gt;… tag: " then the same line without its newline, with the
/// severity of the line's level. Only error paths log, so the strings built here are never per
/// successful request.</summary>
public sealed unsafe class ErrorLog : IDisposable
{
    private static readonly string[] Names = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"];

    private sealed class Destination(LogLevel level, string path, SyslogSender? syslog)
    {
        public LogLevel Level { get; } = level;
        public string Path { get; } = path;
        public SyslogSender? Syslog { get; } = syslog;
        public int Fd = -1;
        public bool IsFile => Syslog is null && Path != "stderr";
    }

    private const int StandardError = 2;
    private readonly Destination[] _destinations;
    private readonly int _pid = Environment.ProcessId;

    /// <summary>The most verbose level of any destination: a line below it is never built.</summary>
    public LogLevel Level { get; }

    /// <summary>One destination: a file path or "stderr".</summary>
    public ErrorLog(string path, LogLevel level) : this([new ErrorLogConfig { Path = path, Level = Names[(int)level] }]) { }

    /// <summary>The main level's error_log lines (<see cref="ProxyConfig.ErrorLogs"/>). A file that cannot
    /// be opened throws IOException with nginx's wording, as nginx refuses to start.</summary>
    public ErrorLog(IReadOnlyList<ErrorLogConfig> destinations)
    {
        _destinations = new Destination[destinations.Count];
        Level = LogLevel.Emerg;
        try
        {
            for (int i = 0; i < destinations.Count; i++)
            {
                var cfg = destinations[i];
                var d = new Destination(ParseLevel(cfg.Level), cfg.Path, cfg.Syslog is null ? null : new SyslogSender(cfg.Syslog));
                _destinations[i] = d;
                if (d.IsFile) d.Fd = Open(d.Path);
                else if (d.Syslog is null) d.Fd = StandardError;
                if (d.Level < Level) Level = d.Level;
            }
        }
        catch (IOException)
        {
            Dispose();
            throw;
        }
    }

    public static ErrorLog For(ProxyConfig config) => new(config.ErrorLogs);

    private static int Open(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        PosixResult fd;
        fixed (byte* p = bytes) fd = LogInterop.OpenAppend(p);
        if (fd.IsError) throw new IOException($"open() \"{path}\" failed ({fd})");
        return (int)fd.Value;
    }

    /// <summary>USR1, as nginx: open each file again by its name, so after a rotation (rename) the new
    /// lines go to a new file. Call it from the thread that writes; a file that fails keeps the old one.</summary>
    public void Reopen()
    {
        foreach (var d in _destinations)
        {
            if (!d.IsFile) continue;
            int fresh;
            try { fresh = Open(d.Path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Write(LogLevel.Alert, 0, $"could not reopen the error log: {e.Message}");
                continue;
            }
            int old = d.Fd;
            d.Fd = fresh;
            if (old >= 0) LogInterop.Close(old);
        }
        Write(LogLevel.Notice, 0, "reopening logs");
    }

    public static LogLevel ParseLevel(string name)
    {
        int i = Array.IndexOf(Names, name);
        return i < 0 ? LogLevel.Error : (LogLevel)i;
    }

    public bool Enabled(LogLevel level) => level >= Level;

    /// <summary>Logs an interpolated message: below the log level its holes are never evaluated,
    /// so a disabled debug or info line costs a comparison, not a string.</summary>
    public void Write(LogLevel level, long connection, [InterpolatedStringHandlerArgument("", "level")] ref LogMessage message)
    {
        if (level >= Level) Write(level, connection, message.ToStringAndClear());
    }

    /// <param name="connection">nginx's "*N" connection number, or 0 for none.</param>
    public void Write(LogLevel level, long connection, string message)
    {
        if (level < Level) return;
        Span<byte> time = stackalloc byte[TimeVariables.MaxLength];
        int timeLength = TimeVariables.FormatErrorLog(time);
        var text = new StringBuilder(128).Append(" [").Append(Names[(int)level]).Append("] ").Append(_pid).Append("#0: ");
        if (connection > 0) text.Append('*').Append(connection).Append(' ');
        text.Append(message).Append('\n');
        int syslogRoom = SyslogSender.MaxHeader;
        byte[] line = new byte[syslogRoom + timeLength + Encoding.UTF8.GetByteCount(text.ToString())];
        time[..timeLength].CopyTo(line.AsSpan(syslogRoom));
        Encoding.UTF8.GetBytes(text.ToString(), line.AsSpan(syslogRoom + timeLength));
        var fileLine = line.AsSpan(syslogRoom);
        Span<byte> header = stackalloc byte[SyslogSender.MaxHeader];
        foreach (var d in _destinations)
        {
            if (level < d.Level) continue;
            if (d.Syslog is { } syslog)
            {
                // The header goes just before the line, in the room left for it; the newline stays out.
                int h = syslog.WriteHeader(header, 7 - (int)level);
                header[..h].CopyTo(line.AsSpan(syslogRoom - h));
                syslog.Send(line.AsSpan(syslogRoom - h, h + fileLine.Length - 1));
                continue;
            }
            if (d.Fd < 0) continue;
            fixed (byte* p = fileLine) LogInterop.Write(d.Fd, p, fileLine.Length);
        }
    }

    public void Dispose()
    {
        foreach (var d in _destinations)
        {
            if (d is null) continue;
            if (d.IsFile && d.Fd >= 0) LogInterop.Close(d.Fd);
            d.Fd = -1;
            d.Syslog?.Dispose();
        }
    }
}

/// <summary>Builds a log message only when its level is enabled (see ErrorLog.Write).</summary>
[InterpolatedStringHandler]
public ref struct LogMessage
{
    private DefaultInterpolatedStringHandler _inner;

    public LogMessage(int literalLength, int formattedCount, ErrorLog log, LogLevel level, out bool enabled)
    {
        enabled = log.Enabled(level);
        _inner = enabled ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => _inner.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);
    public void AppendFormatted<T>(T value, string? format) => _inner.AppendFormatted(value, format);
    public void AppendFormatted(string? value) => _inner.AppendFormatted(value);
    public string ToStringAndClear() => _inner.ToStringAndClear();
}
