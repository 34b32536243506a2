using System.Buffers;
using System.Buffers.Text;

namespace RawKeepalive.Transforms;

/// <summary>$msec, $time_local and $time_iso8601 formatted straight into bytes (no DateTime formatting
/// strings, no allocation). Each fills at most <see cref="MaxLength"/> bytes of its destination.</summary>
internal static class TimeVariables
{
    public const int MaxLength = 32;

    private static ReadOnlySpan<byte> Months => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;

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
    public static int FormatLocal(Span<byte> tmp)
    {
        var now = DateTimeOffset.Now;
        int n = Two(now.Day, tmp, 0);
        tmp[n++] = (byte)'/';
        Months.Slice((now.Month - 1) * 3, 3).CopyTo(tmp[n..]);
        n += 3;
        tmp[n++] = (byte)'/';
        n += Four(now.Year, tmp[n..]);
        tmp[n++] = (byte)':';
        n = Clock(now, tmp, n, ':');
        tmp[n++] = (byte)' ';
        n = Offset(now.Offset, tmp, n, colon: false);
        return n;
    }

    /// <summary>"2026-11-25T01:33:40+01:00".</summary>
    public static int FormatIso8601(Span<byte> tmp)
    {
        var now = DateTimeOffset.Now;
        int n = Four(now.Year, tmp);
        tmp[n++] = (byte)'-';
        n = Two(now.Month, tmp, n);
        tmp[n++] = (byte)'-';
        n = Two(now.Day, tmp, n);
        tmp[n++] = (byte)'T';
        n = Clock(now, tmp, n, ':');
        n = Offset(now.Offset, tmp, n, colon: true);
        return n;
    }

    private static int Clock(DateTimeOffset t, Span<byte> tmp, int n, char sep)
    {
        n = Two(t.Hour, tmp, n);
        tmp[n++] = (byte)sep;
        n = Two(t.Minute, tmp, n);
        tmp[n++] = (byte)sep;
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
