using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Transforms;

namespace RawKeepalive.Observability;

/// <summary>Formats one access log line straight into the bytes it will be written from (a log buffer,
/// a syslog datagram), as ngx_http_log_handler: the format's text as is, each variable's value escaped
/// on its own; a variable with no value at all is "-" under the default escaping and nothing under json
/// and none. Nothing is allocated: a line that does not fit is reported, never cut.</summary>
public static class AccessLogLine
{
    /// <summary>Writes the line and its "\n" (<paramref name="newline"/>; syslog lines have none); the
    /// bytes written, or -1 when the line does not fit <paramref name="dest"/>.</summary>
    public static int TryFormat(LogFormat format, IRequestVariables c, Span<byte> dest, bool newline = true)
    {
        int pos = 0;
        foreach (ref readonly var seg in format.Template.Segments.AsSpan())
        {
            if (seg.IsLiteral)
            {
                if (seg.Literal!.Length > dest.Length - pos) return -1;
                seg.Literal.CopyTo(dest[pos..]);
                pos += seg.Literal.Length;
                continue;
            }
            var area = dest[pos..];
            var w = new HeadWriter(area);
            if (!VariableWriter.TryWriteVariable(seg, c, ref w)) return -1;
            int length = w.Length;
            if (length == 0)
            {
                if (format.Escape != LogEscape.Default || !VariableWriter.IsMissing(seg, c)) continue;
                if (area.IsEmpty) return -1;
                area[0] = (byte)'-';
                pos++;
                continue;
            }
            length = LogEscaping.Apply(area, length, format.Escape);
            if (length < 0) return -1;
            pos += length;
        }
        if (!newline) return pos;
        if (pos == dest.Length) return -1;
        dest[pos++] = (byte)'\n';
        return pos;
    }

    /// <summary>access_log's if=: false (skip the line) when the condition evaluates to "" or "0".</summary>
    public static bool ConditionHolds(ValueTemplate? condition, IRequestVariables c)
    {
        if (condition is null) return true;
        // Two bytes tell every case apart: a value that does not fit them is longer than "0".
        Span<byte> two = stackalloc byte[2];
        var w = new HeadWriter(two);
        if (!VariableWriter.TryWrite(condition, c, ref w)) return true;
        return !(w.Length == 0 || (w.Length == 1 && two[0] == (byte)'0'));
    }
}
