using RawKeepalive.Config;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;

namespace RawKeepalive.Observability;

/// <summary>A worker's access logs: a writer per destination (one per file path, shared by every
/// access_log naming it; one per syslog or variable-path access_log), and for every access-log list of
/// the config (<see cref="HttpConfig.AccessLogLists"/>, by its Id) the writers, formats and if=
/// conditions it names. The log phase calls <see cref="Record(LocationRuntime?, IRequestVariables)"/>
/// once per finished request. The loop folds <see cref="NextFlushDueMs"/> into its epoll timeout and
/// calls <see cref="FlushDue"/> when it passes, <see cref="Reopen"/> on USR1, and disposes it on exit
/// (every buffer is written). Single-threaded like the loop; nothing here allocates per line.</summary>
public sealed class AccessLogs : IDisposable
{
    /// <summary>The longest line written: past it a line is dropped with an [alert] (the shared line area
    /// grows up to this, by doubling, for lines longer than any seen before).</summary>
    public const int MaxLine = 1 << 20;

    private readonly record struct Entry(AccessLogWriter Writer, LogFormat Format, ValueTemplate? Condition);

    private readonly Entry[][] _lists;
    private readonly List<AccessLogWriter> _writers = [];
    private byte[] _line = new byte[16 * 1024];

    public ErrorLog Log { get; }

    /// <summary>When the earliest flush= buffer must be written; long.MaxValue when none waits.</summary>
    public long NextFlushDueMs { get; private set; } = long.MaxValue;

    /// <summary>Lines dropped because they were longer than <see cref="MaxLine"/>.</summary>
    public long DroppedLines { get; private set; }

    public AccessLogs(HttpConfig http, ErrorLog log)
    {
        Log = log;
        var files = new Dictionary<string, FileLogWriter>(StringComparer.Ordinal);
        // One buffer per file: the parameters of whichever access_log gives it one (the config made sure
        // every buffered access_log of a file gives the same), also for its unbuffered access_logs.
        var buffers = new Dictionary<string, AccessLogConfig>(StringComparer.Ordinal);
        foreach (var cfg in http.AccessLogLists.SelectMany(l => l.Logs))
            if (cfg.Path is { } path && (cfg.BufferSize > 0 || !buffers.ContainsKey(path))) buffers[path] = cfg;
        _lists = new Entry[http.AccessLogLists.Count][];
        foreach (var list in http.AccessLogLists)
        {
            var entries = new Entry[list.Logs.Count];
            for (int i = 0; i < entries.Length; i++)
            {
                var cfg = list.Logs[i];
                entries[i] = new Entry(WriterFor(cfg, files, buffers), cfg.Format, cfg.Condition);
            }
            _lists[list.Id] = entries;
        }
    }

    private AccessLogWriter WriterFor(AccessLogConfig cfg, Dictionary<string, FileLogWriter> files, Dictionary<string, AccessLogConfig> buffers)
    {
        if (cfg.Path is { } path)
        {
            if (files.TryGetValue(path, out var shared)) return shared;
            var buffered = buffers[path];
            var file = new FileLogWriter(this, path, buffered.BufferSize, buffered.FlushMs, buffered.GzipLevel);
            files[path] = file;
            _writers.Add(file);
            return file;
        }
        AccessLogWriter writer = cfg.Syslog is { } syslog ? new SyslogLogWriter(this, syslog) : new VariablePathLogWriter(this, cfg);
        _writers.Add(writer);
        return writer;
    }

    /// <summary>The log phase's call: the request is recorded in the access logs of its location, or of
    /// its server when it was answered before a location was chosen (a 400, a 408 …), or of the listen
    /// address's default server when it never had one (as nginx logs with the default server's config).</summary>
    public void Record(LocationRuntime? location, IRequestVariables request) =>
        Write(location?.Config.AccessLogs ?? (request.Server ?? request.Listener.DefaultServer).Config.AccessLogs, request);

    /// <summary>Writes the request's line to every log of <paramref name="list"/> whose if= holds.</summary>
    public void Write(AccessLogList list, IRequestVariables request)
    {
        var entries = _lists[list.Id];
        for (int i = 0; i < entries.Length; i++)
        {
            ref readonly var e = ref entries[i];
            if (AccessLogLine.ConditionHolds(e.Condition, request)) e.Writer.Write(e.Format, request);
        }
    }

    /// <summary>Formats a line outside any log buffer (unbuffered files, lines longer than a buffer, paths
    /// with variables, syslog datagrams after their <paramref name="syslog"/> header); empty when dropped.
    /// Valid until the next call.</summary>
    internal ReadOnlySpan<byte> FormatLine(LogFormat format, IRequestVariables c, SyslogSender? syslog = null)
    {
        while (true)
        {
            int header = syslog?.WriteHeader(_line, syslog.Target.Severity) ?? 0;
            int n = AccessLogLine.TryFormat(format, c, _line.AsSpan(header), newline: syslog is null);
            if (n >= 0) return _line.AsSpan(0, header + n);
            if (_line.Length >= MaxLine)
            {
                DroppedLines++;
                Log.Write(LogLevel.Alert, 0, $"an access log line longer than {MaxLine} bytes was dropped");
                return default;
            }
            _line = new byte[_line.Length * 2];   // rare: a line longer than any before; kept for the next
        }
    }

    /// <summary>A buffer that became non-empty must be written by <paramref name="dueMs"/>.</summary>
    internal void FlushDueAt(long dueMs)
    {
        if (dueMs < NextFlushDueMs) NextFlushDueMs = dueMs;
    }

    /// <summary>Writes every buffer whose flush= time has come.</summary>
    public void FlushDue(long nowMs)
    {
        long next = long.MaxValue;
        foreach (var w in _writers)
        {
            if (w.FlushDueMs <= nowMs) w.Flush();
            next = Math.Min(next, w.FlushDueMs);
        }
        NextFlushDueMs = next;
    }

    /// <summary>USR1: every buffer is written to its file, then each file is opened again by its name.</summary>
    public void Reopen()
    {
        foreach (var w in _writers) w.Reopen();
        NextFlushDueMs = long.MaxValue;
    }

    /// <summary>On exit: every buffer is written, every file and socket closed.</summary>
    public void Dispose()
    {
        foreach (var w in _writers) w.Dispose();
        _writers.Clear();
        NextFlushDueMs = long.MaxValue;
    }
}
