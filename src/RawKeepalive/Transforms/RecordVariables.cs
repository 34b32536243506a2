using System.Buffers;
using System.Buffers.Text;
using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Observability;

namespace RawKeepalive.Transforms;

/// <summary>The variables read from the request record (<see cref="RequestRecord"/>), in nginx's formats:
/// sizes as decimals, $status as three digits, times as seconds with milliseconds ("%T.%03M"), and the
/// $upstream_ ones as one entry per try joined by ", " (ngx_http_upstream.c; we have no internal
/// redirects, so never nginx's " : ").</summary>
internal static class RecordVariables
{
    public static bool TryWrite(in TemplateSegment seg, IRequestVariables c, ref HeadWriter w)
    {
        var r = c.Record;
        switch (seg.Variable)
        {
            case Variable.Status: return TryAppendStatus(r.Status, ref w);
            case Variable.BodyBytesSent: return w.TryAppendDecimal(r.BodyBytesSent);
            case Variable.BytesSent: return w.TryAppendDecimal(r.BytesSent);
            case Variable.RequestLength: return w.TryAppendDecimal(r.RequestLength);
            case Variable.RequestTime: return TryAppendSeconds(MonotonicClock.NowMs - r.StartMs, ref w);
            case Variable.ConnectionTime: return TryAppendSeconds(MonotonicClock.NowMs - r.ConnectionStartMs, ref w);
            case Variable.SentHttp or Variable.UpstreamHttp:
                return !r.Headers.TryGet(seg.Slot, out var value) || w.TryAppend(value);
            default: return TryWriteTries(seg.Variable, r, ref w);
        }
    }

    /// <summary>Whether the variable has no value at all (nginx's not_found: "-" in a log line), as
    /// opposed to an empty one: no try for an $upstream_ list, no captured header.</summary>
    public static bool IsMissing(in TemplateSegment seg, RequestRecord r) => seg.Variable switch
    {
        Variable.SentHttp or Variable.UpstreamHttp => !r.Headers.TryGet(seg.Slot, out _),
        >= Variable.UpstreamAddr and <= Variable.UpstreamConnectionRequests => r.TryCount == 0,
        _ => false,
    };

    private static bool TryWriteTries(Variable v, RequestRecord r, ref HeadWriter w)
    {
        var tries = r.Tries;
        for (int i = 0; i < tries.Length; i++)
        {
            if (i > 0 && !w.TryAppend(", "u8)) return false;
            ref readonly var t = ref tries[i];
            bool ok = v switch
            {
                Variable.UpstreamAddr => t.Peer is null || w.TryAppend(t.Peer),
                Variable.UpstreamStatus => t.Status == 0 ? w.TryAppendByte((byte)'-') : w.TryAppendDecimal(t.Status),
                Variable.UpstreamConnectTime => TryAppendTime(t.ConnectMs, ref w),
                Variable.UpstreamHeaderTime => TryAppendTime(t.HeaderMs, ref w),
                Variable.UpstreamResponseTime => TryAppendTime(t.ResponseMs, ref w),
                Variable.UpstreamResponseLength => w.TryAppendDecimal(t.ResponseLength),
                Variable.UpstreamBytesSent => w.TryAppendDecimal(t.BytesSent),
                Variable.UpstreamBytesReceived => w.TryAppendDecimal(t.BytesReceived),
                Variable.UpstreamConnection => w.TryAppend(t.Reused ? "reused"u8 : "new"u8),
                Variable.UpstreamConnectionRequests => w.TryAppendDecimal(t.ConnectionRequests),
                _ => true,
            };
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>"%03ui": "200", "000" when there is no status yet.</summary>
    private static bool TryAppendStatus(int status, ref HeadWriter w)
    {
        Span<byte> digits = stackalloc byte[11];
        return Utf8Formatter.TryFormat(status, digits, out int n, new StandardFormat('D', 3)) && w.TryAppend(digits[..n]);
    }

    /// <summary>An upstream time: "-" when unknown (-1).</summary>
    private static bool TryAppendTime(long ms, ref HeadWriter w) => ms < 0 ? w.TryAppendByte((byte)'-') : TryAppendSeconds(ms, ref w);

    /// <summary>"%T.%03M": "0.042", "12.300"; a negative span (clock skew) as 0, as nginx's ngx_max(ms, 0).</summary>
    internal static bool TryAppendSeconds(long ms, ref HeadWriter w)
    {
        if (ms < 0) ms = 0;
        Span<byte> text = stackalloc byte[24];
        Utf8Formatter.TryFormat(ms / 1000, text, out int n);
        text[n++] = (byte)'.';
        Utf8Formatter.TryFormat(ms % 1000, text[n..], out int f, new StandardFormat('D', 3));
        return w.TryAppend(text[..(n + f)]);
    }
}
