using System.Buffers;
using System.Buffers.Text;

namespace RawKeepalive.Proxy;

/// <summary>$msec, $time_local and $time_iso8601 written straight into bytes (no DateTime formatting
/// strings, no allocation).</summary>
internal static class TimeVariables
{
    private static ReadOnlySpan<byte> Months => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;

    /// <summary>"1732498420.123": seconds since the epoch with milliseconds.</summary>
    public static int WriteMsec(Span<byte> dest)
    {
        long ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Span<byte> tmp = stackalloc byte[32];
        Utf8Formatter.TryFormat(ms / 1000, tmp, out int n);
        tmp[n++] = (byte)'.';
        Utf8Formatter.TryFormat(ms % 1000, tmp[n..], out int w, new StandardFormat('D', 3));
        return Http.HeaderBytes.Copy(tmp[..(n + w)], dest);
    }

    /// <summary>"25/Nov/2026:01:33:40 +0100" (the common log format's time).</summary>
    public static int WriteLocal(Span<byte> dest)
    {
        var now = DateTimeOffset.Now;
        Span<byte> tmp = stackalloc byte[32];
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
        return Http.HeaderBytes.Copy(tmp[..n], dest);
    }

    /// <summary>"2026-11-25T01:33:40+01:00".</summary>
    public static int WriteIso8601(Span<byte> dest)
    {
        var now = DateTimeOffset.Now;
        Span<byte> tmp = stackalloc byte[32];
        int n = Four(now.Year, tmp);
        tmp[n++] = (byte)'-';
        n = Two(now.Month, tmp, n);
        tmp[n++] = (byte)'-';
        n = Two(now.Day, tmp, n);
        tmp[n++] = (byte)'T';
        n = Clock(now, tmp, n, ':');
        n = Offset(now.Offset, tmp, n, colon: true);
        return Http.HeaderBytes.Copy(tmp[..n], dest);
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
