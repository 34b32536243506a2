using System.Buffers;
using System.Buffers.Text;

namespace RawKeepalive.Transforms;

/// <summary>$msec, $time_local and $time_iso8601, and the times of log lines (error log, syslog header),
/// formatted straight into bytes. Like nginx's cached times, the local-time texts are made at most once a
/// second (per thread: each worker loop has its own), so a log line costs a copy, not a time-zone
/// conversion. Each fills at most <see cref="MaxLength"/> bytes of its destination.</summary>
public static class TimeVariables
{
    public const int MaxLength = 32;

    private static ReadOnlySpan<byte> Months => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;

    /// <summary>The texts of one second, in local time.</summary>
    private sealed class Second
    {
        public long UnixSecond = long.MinValue;
        public readonly byte[] Local = new byte[26];     // "25/Nov/2026:01:33:40 +0100"
        public readonly byte[] Iso8601 = new byte[25];   // "2026-11-25T01:33:40+01:00"
        public readonly byte[] Syslog = new byte[15];    // "Nov 25 01:33:40", the day space-padded
        public readonly byte[] ErrorLog = new byte[19];  // "2026/11/25 01:33:40"
    }

    [ThreadStatic] private static Second? _second;

    private static Second Current()
    {
        var s = _second ??= new Second();
        long unixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long second = unixMs / 1000;
        if (second != s.UnixSecond)
        {
            var now = DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToLocalTime();
            FormatLocal(now, s.Local);
            FormatIso8601(now, s.Iso8601);
            FormatSyslog(now, s.Syslog);
            FormatErrorLog(now, s.ErrorLog);
            s.UnixSecond = second;
        }
        return s;
    }

    /// <summary>"1732498420.123": seconds since the epoch with milliseconds.</summary>
    public static int FormatMsec(Span<byte> tmp)
    {
        long ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Utf8Formatter.TryFormat(ms / 1000, tmp, out int n);
        tmp[n++] = (byte)'.';
        Utf8Formatter.TryFormat(ms % 1000, tmp[n..], out int w, new StandardFormat('D', 3));
        return n + w;
    }

    /// <summary>"25/Nov/2026:01:33:40 +0100" (the common log format's time).</summary>
    public static int FormatLocal(Span<byte> tmp) => Copy(Current().Local, tmp);

    /// <summary>"2026-11-25T01:33:40+01:00".</summary>
    public static int FormatIso8601(Span<byte> tmp) => Copy(Current().Iso8601, tmp);

    /// <summary>"Nov  5 01:33:40": a syslog header's time (RFC 3164, nginx's ngx_cached_syslog_time).</summary>
    public static int FormatSyslog(Span<byte> tmp) => Copy(Current().Syslog, tmp);

    /// <summary>"2026/11/25 01:33:40": an error log line's time.</summary>
    public static int FormatErrorLog(Span<byte> tmp) => Copy(Current().ErrorLog, tmp);

    private static int Copy(byte[] text, Span<byte> tmp)
    {
        text.CopyTo(tmp);
        return text.Length;
    }

    private static void FormatLocal(DateTimeOffset now, Span<byte> tmp)
    {
        int n = Two(now.Day, tmp, 0);
        tmp[n++] = (byte)'/';
        Months.Slice((now.Month - 1) * 3, 3).CopyTo(tmp[n..]);
        n += 3;
        tmp[n++] = (byte)'/';
        n += Four(now.Year, tmp[n..]);
        tmp[n++] = (byte)':';
        n = Clock(now, tmp, n);
        tmp[n++] = (byte)' ';
        Offset(now.Offset, tmp, n, colon: false);
    }

    private static void FormatIso8601(DateTimeOffset now, Span<byte> tmp) =>
        Offset(now.Offset, tmp, DateAndClock(now, tmp, '-', 'T'), colon: true);

    private static void FormatSyslog(DateTimeOffset now, Span<byte> tmp)
    {
        Months.Slice((now.Month - 1) * 3, 3).CopyTo(tmp);
        tmp[3] = (byte)' ';
        tmp[4] = now.Day < 10 ? (byte)' ' : (byte)('0' + now.Day / 10);
        tmp[5] = (byte)('0' + now.Day % 10);
        tmp[6] = (byte)' ';
        Clock(now, tmp, 7);
    }

    private static void FormatErrorLog(DateTimeOffset now, Span<byte> tmp) => DateAndClock(now, tmp, '/', ' ');

    /// <summary>"2026-11-25T01:33:40" or "2026/11/25 01:33:40": year, month, day, then the clock.</summary>
    private static int DateAndClock(DateTimeOffset now, Span<byte> tmp, char dateSeparator, char beforeClock)
    {
        int n = Four(now.Year, tmp);
        tmp[n++] = (byte)dateSeparator;
        n = Two(now.Month, tmp, n);
        tmp[n++] = (byte)dateSeparator;
        n = Two(now.Day, tmp, n);
        tmp[n++] = (byte)beforeClock;
        return Clock(now, tmp, n);
    }

    private static int Clock(DateTimeOffset t, Span<byte> tmp, int n)
    {
        n = Two(t.Hour, tmp, n);
        tmp[n++] = (byte)':';
        n = Two(t.Minute, tmp, n);
        tmp[n++] = (byte)':';
        return Two(t.Second, tmp, n);
    }

    private static int Offset(TimeSpan offset, Span<byte> tmp, int n, bool colon)
    {
        tmp[n++] = offset < TimeSpan.Zero ? (byte)'-' : (byte)'+';
        var abs = offset.Duration();
        n = Two(abs.Hours, tmp, n);
        if (colon) tmp[n++] = (byte)':';
        return Two(abs.Minutes, tmp, n);
    }

    private static int Two(int value, Span<byte> tmp, int n)
    {
        tmp[n] = (byte)('0' + value / 10);
        tmp[n + 1] = (byte)('0' + value % 10);
        return n + 2;
    }

    private static int Four(int value, Span<byte> tmp)
    {
        Utf8Formatter.TryFormat(value, tmp, out int w, new StandardFormat('D', 4));
        return w;
    }
}
