using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Native;
using RawKeepalive.Transforms;

namespace RawKeepalive.Observability;

/// <summary>An access_log whose path has variables: as nginx without open_log_file_cache, the path is
/// evaluated for each line, opened (O_APPEND, created 0644; its directory is not created), written
/// once and closed. nginx refuses a buffer for such a log, and so does the config.</summary>
internal sealed unsafe class VariablePathLogWriter(AccessLogs owner, AccessLogConfig config) : AccessLogWriter
{
    /// <summary>PATH_MAX: a longer path is not opened.</summary>
    private const int MaxPath = 4096;

    private readonly byte[] _prefix = System.Text.Encoding.UTF8.GetBytes(config.PathPrefix.Length == 0 ? "" : config.PathPrefix.TrimEnd('/') + "/");

    public override void Write(LogFormat format, IRequestVariables c)
    {
        var line = owner.FormatLine(format, c);
        if (line.IsEmpty) return;
        Span<byte> path = stackalloc byte[MaxPath + 1];
        _prefix.CopyTo(path);
        var w = new HeadWriter(path[_prefix.Length..MaxPath]);
        // A path that does not fit, or holds a NUL (a value from the request), would name another file.
        if (!VariableWriter.TryWrite(config.PathTemplate!, c, ref w) || w.Length == 0 || path.Slice(_prefix.Length, w.Length).Contains((byte)0))
        {
            owner.Log.Write(LogLevel.Error, 0, $"the access log path \"{config.Written}\" evaluated to an invalid file name, line dropped");
            return;
        }
        int length = _prefix.Length + w.Length;
        path[length] = 0;
        PosixResult fd;
        fixed (byte* p = path) fd = LogInterop.OpenAppend(p);
        if (fd.IsError)
        {
            owner.Log.Write(LogLevel.Crit, 0, $"open() \"{System.Text.Encoding.UTF8.GetString(path[..length])}\" failed ({fd})");
            return;
        }
        PosixResult r;
        fixed (byte* p = line) r = LogInterop.Write((int)fd.Value, p, line.Length);
        LogInterop.Close((int)fd.Value);
        if (r.IsError) owner.Log.Write(LogLevel.Alert, 0, $"write() to \"{System.Text.Encoding.UTF8.GetString(path[..length])}\" failed ({r})");
    }
}

/// <summary>An access_log to syslog: one datagram per line, header and line built in the shared line
/// area (no newline, as nginx sends it). A line that is not sent is dropped with nginx's [warn].</summary>
internal sealed class SyslogLogWriter(AccessLogs owner, SyslogTarget target) : AccessLogWriter
{
    private readonly SyslogSender _sender = new(target);

    public override void Write(LogFormat format, IRequestVariables c)
    {
        var datagram = owner.FormatLine(format, c, _sender);
        if (datagram.IsEmpty) return;
        int errno = _sender.Send(datagram);
        if (errno != 0) owner.Log.Write(LogLevel.Warn, 0, $"send() to syslog failed ({errno}: {PosixErrors.Describe(errno)}), server: {target.ServerText}");
    }

    public override void Dispose() => _sender.Dispose();
}
