using System.Runtime.CompilerServices;
using System.Text;

namespace RawKeepalive.Observability;

public enum LogLevel { Debug, Info, Notice, Warn, Error, Crit, Alert, Emerg }

/// <summary>nginx-format error log: "2026/11/25 01:33:40 [error] 1234#0: *5 message". Lines are
/// written with one unbuffered append each (a page-cache write, as nginx does); only error paths
/// log, so the strings built here are never per successful request.</summary>
public sealed class ErrorLog : IDisposable
{
    private static readonly string[] Names = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"];
    private Stream _out;
    private readonly bool _ownsStream;
    private readonly string _path;
    private readonly int _pid = Environment.ProcessId;

    public LogLevel Level { get; }

    public ErrorLog(string path, LogLevel level)
    {
        Level = level;
        _path = path;
        if (path == "stderr")
        {
            _out = Console.OpenStandardError();
        }
        else
        {
            _out = Open(path);
            _ownsStream = true;
        }
    }

    private static FileStream Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // O_APPEND: the master and its workers share this file (FileMode.Append only seeks once).
        var fd = Native.ProcessInterop.OpenAppend(path);
        if (fd.IsError) throw new IOException($"open() \"{path}\" failed ({fd})");
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle((IntPtr)fd.Value, ownsHandle: true), FileAccess.Write, 1);
    }

    /// <summary>USR1, as nginx: open the file again by its name, so after a rotation (rename) the new
    /// lines go to a new file. Call it from the thread that writes; on failure the old file stays.</summary>
    public void Reopen()
    {
        if (!_ownsStream) return;
        FileStream fresh;
        try
        {
            fresh = Open(_path);
        }
        catch (IOException e)
        {
            Write(LogLevel.Alert, 0, $"could not reopen the error log: {e.Message}");
            return;
        }
        var old = _out;
        _out = fresh;
        old.Dispose();
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
        var line = new StringBuilder(128);
        line.Append(DateTime.Now.ToString("yyyy/MM/dd HH:mm:ss")).Append(" [").Append(Names[(int)level]).Append("] ")
            .Append(_pid).Append("#0: ");
        if (connection > 0) line.Append('*').Append(connection).Append(' ');
        line.Append(message).Append('\n');
        var bytes = Encoding.UTF8.GetBytes(line.ToString());
        try { _out.Write(bytes); } catch (IOException) { }
    }

    public void Dispose()
    {
        if (_ownsStream) _out.Dispose();
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
