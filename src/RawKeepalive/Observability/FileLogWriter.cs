using System.IO.Compression;
using RawKeepalive.Config;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Transforms;

namespace RawKeepalive.Observability;

/// <summary>Where an access log line goes: formatted by <see cref="Write"/>, kept or sent at once.</summary>
internal abstract class AccessLogWriter : IDisposable
{
    /// <summary>Formats the line of <paramref name="format"/> for <paramref name="c"/> and writes or buffers it.</summary>
    public abstract void Write(LogFormat format, IRequestVariables c);

    /// <summary>When the buffer must be written (flush=), or long.MaxValue when nothing waits.</summary>
    public virtual long FlushDueMs => long.MaxValue;

    public virtual void Flush() { }

    public virtual void Reopen() { }

    public virtual void Dispose() { }
}

/// <summary>A file named without variables (one per path, shared by every access_log naming it, as
/// nginx shares one open file): O_APPEND, and with <c>buffer=</c> one buffer lines are formatted straight
/// into, written in one write(2) when the next line does not fit, when <c>flush=</c> passes since its
/// first line, on reopen and on exit. <c>gzip</c>: each write is a whole gzip member (concatenated
/// members are one valid gzip file). Unbuffered, each line is one write of its own.</summary>
internal sealed unsafe class FileLogWriter : AccessLogWriter
{
    private readonly AccessLogs _owner;
    private readonly string _path;
    private readonly byte[]? _buffer;
    private readonly long _flushMs;
    private readonly int _gzipLevel;
    private MemoryStream? _compressed;
    private int _fd = -1;
    private int _used;
    private long _dueMs = long.MaxValue;
    private long _lastAlertMs = long.MinValue;

    public FileLogWriter(AccessLogs owner, string path, int bufferSize, long flushMs, int gzipLevel)
    {
        _owner = owner;
        _path = path;
        _buffer = bufferSize > 0 ? GC.AllocateArray<byte>(bufferSize, pinned: true) : null;
        _flushMs = flushMs;
        _gzipLevel = gzipLevel;
        _fd = Open(owner, path);
    }

    /// <summary>Writes lost (a line, or a buffer of lines) to a file that failed to open or to take them.</summary>
    public long Dropped { get; private set; }

    public override long FlushDueMs => _dueMs;

    /// <summary>Opens for appending; -1 after logging why not (lines are then dropped, counted, until a reopen succeeds).</summary>
    private static int Open(AccessLogs owner, string path)
    {
        int fd = TryOpen(path, out string? error);
        if (fd < 0) owner.Log.Write(LogLevel.Emerg, 0, error!);
        return fd;
    }

    /// <summary>Opens <paramref name="path"/> for appending, creating its directory as the error log does;
    /// -1 and nginx's wording ("open() \"PATH\" failed (13: Permission denied)") when it cannot.</summary>
    public static int TryOpen(string path, out string? error)
    {
        try { Directory.CreateDirectory(Path.GetDirectoryName(path)!); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* open() says why below */ }
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        PosixResult r;
        fixed (byte* p = bytes) r = LogInterop.OpenAppend(p);
        error = r.IsError ? $"open() \"{path}\" failed ({r})" : null;
        return r.IsError ? -1 : (int)r.Value;
    }

    public override void Write(LogFormat format, IRequestVariables c)
    {
        if (_buffer is not null)
        {
            int n = AccessLogLine.TryFormat(format, c, _buffer.AsSpan(_used));
            if (n < 0 && _used > 0)
            {
                Flush();
                n = AccessLogLine.TryFormat(format, c, _buffer);
            }
            if (n >= 0)
            {
                if (_used == 0 && _flushMs > 0) _owner.FlushDueAt(_dueMs = MonotonicClock.NowMs + _flushMs);
                _used += n;
                return;
            }
        }
        // Unbuffered, or longer than the whole buffer: formatted apart and written on its own.
        var line = _owner.FormatLine(format, c);
        if (!line.IsEmpty) WriteOut(line);
    }

    public override void Flush()
    {
        _dueMs = long.MaxValue;
        if (_used == 0) return;
        WriteOut(_buffer.AsSpan(0, _used));
        _used = 0;
    }

    /// <summary>USR1: the buffer goes to the file it was written for, then the path is opened anew, so after
    /// a rename new lines go to a new file and none is lost. On failure the old file stays.</summary>
    public override void Reopen()
    {
        Flush();
        int fresh = Open(_owner, _path);
        if (fresh < 0) return;
        if (_fd >= 0) LogInterop.Close(_fd);
        _fd = fresh;
    }

    public override void Dispose()
    {
        Flush();
        if (_fd >= 0) LogInterop.Close(_fd);
        _fd = -1;
    }

    private void WriteOut(ReadOnlySpan<byte> bytes)
    {
        if (_gzipLevel > 0) bytes = Compress(bytes);
        if (_fd < 0)
        {
            Dropped++;
            return;
        }
        PosixResult r;
        fixed (byte* p = bytes) r = LogInterop.Write(_fd, p, bytes.Length);
        if (r.IsError || r.Value != bytes.Length) Failed(r, bytes.Length);
    }

    /// <summary>As nginx: an [alert] at most once a minute per file, so a full disk does not flood the error log.</summary>
    private void Failed(PosixResult r, int length)
    {
        Dropped++;
        long now = MonotonicClock.NowMs;
        if (_lastAlertMs != long.MinValue && now - _lastAlertMs < 60_000) return;
        _lastAlertMs = now;
        _owner.Log.Write(LogLevel.Alert, 0, r.IsError
            ? $"write() to \"{_path}\" failed ({r})"
            : $"write() to \"{_path}\" was incomplete: {r.Value} of {length}");
    }

    /// <summary>One gzip member of <paramref name="bytes"/> at the configured level (written at flush time,
    /// off the per-line path; the stream is kept and reused).</summary>
    private ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> bytes)
    {
        _compressed ??= new MemoryStream(bytes.Length / 2 + 64);
        _compressed.SetLength(0);
        using (var gzip = new GZipStream(_compressed, new ZLibCompressionOptions { CompressionLevel = _gzipLevel }, leaveOpen: true))
            gzip.Write(bytes);
        return _compressed.GetBuffer().AsSpan(0, (int)_compressed.Length);
    }
}
