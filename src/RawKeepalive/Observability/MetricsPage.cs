using System.Globalization;
using System.Text;
using RawKeepalive.Http;
using RawKeepalive.Upstream;
using F = RawKeepalive.Upstream.UpstreamFigures;
using S = RawKeepalive.Observability.SharedCounters;

namespace RawKeepalive.Observability;

/// <summary>The <c>metrics;</c> page: the shared counters in Prometheus's text exposition format 0.0.4,
/// summed over every worker (<see cref="MetricsSnapshot"/>). Made as every generated part is: measured,
/// then written into room of that exact size, never cut. Its most bytes (<see cref="Capacity"/>) are
/// known when the config loads: the snapshot holds a fixed number of peers and every number is at most
/// 21 characters wide.</summary>
public sealed class MetricsPage
{
    public static ReadOnlySpan<byte> ContentType => "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"u8;

    private sealed record Family(byte[] Name, byte[] Help, byte[] Type, int Field);

    private static readonly byte[] Counter = Ascii("counter"), Gauge = Ascii("gauge"), Histogram = Ascii("histogram");

    /// <summary>stub_status's figures: in all (no label), then per worker (label worker).</summary>
    private static readonly Family[] ServerFamilies =
    [
        new(Ascii("connections_accepted_total"), Ascii("Client connections accepted (stub_status accepts)."), Counter, S.Accepts),
        new(Ascii("connections_handled_total"), Ascii("Client connections handled (stub_status handled)."), Counter, S.Handled),
        new(Ascii("connections_active"), Ascii("Client connections open now (stub_status Active connections)."), Gauge, S.Active),
        new(Ascii("connections_reading"), Ascii("Client connections reading a request head (stub_status Reading)."), Gauge, S.Reading),
        new(Ascii("connections_writing"), Ascii("Client connections being answered (stub_status Writing)."), Gauge, S.Writing),
        new(Ascii("connections_waiting"), Ascii("Idle keep-alive client connections (stub_status Waiting)."), Gauge, S.Waiting),
        new(Ascii("http_requests_total"), Ascii("Client requests (stub_status requests)."), Counter, S.Requests),
    ];

    /// <summary>Per upstream peer; Field -1 is active (open less idle).</summary>
    private static readonly Family[] PeerFamilies =
    [
        new(Ascii("upstream_connections_active"), Ascii("Upstream connections carrying a request now."), Gauge, -1),
        new(Ascii("upstream_connections_idle"), Ascii("Upstream connections idle in the keepalive pool now."), Gauge, F.Idle),
        new(Ascii("upstream_connections_opened_total"), Ascii("Upstream connections opened."), Counter, F.Opened),
        new(Ascii("upstream_connections_reused_total"), Ascii("Requests sent on an idle connection taken from the keepalive pool."), Counter, F.Reused),
        new(Ascii("upstream_requests_total"), Ascii("Requests sent upstream (a stale-connection retry sends one twice)."), Counter, F.RequestsSent),
        new(Ascii("upstream_stale_retries_total"), Ascii("Requests replayed on a new connection after a reused one turned out closed."), Counter, F.StaleRetries),
    ];

    private static readonly Family[] TimeHistograms =
    [
        new(Ascii("upstream_connect_duration_seconds"), Ascii("Time to open a new upstream connection."), Histogram, F.ConnectTime),
        new(Ascii("upstream_header_duration_seconds"), Ascii("Time from the start of a try to the upstream's response head."), Histogram, F.HeaderTime),
        new(Ascii("upstream_response_duration_seconds"), Ascii("Time from the start of a try to its end."), Histogram, F.ResponseTime),
    ];

    private static readonly Family Closed = new(Ascii("upstream_connections_closed_total"), Ascii("Upstream connections closed, by reason."), Counter, F.Closed);
    private static readonly Family UpstreamResponses = new(Ascii("upstream_responses_total"), Ascii("Upstream responses by status class."), Counter, F.Responses);
    private static readonly Family RequestsPerConnection = new(Ascii("upstream_connection_requests"), Ascii("Requests an upstream connection carried, counted when it closed."), Histogram, F.RequestsPerConnection);
    private static readonly Family Responses = new(Ascii("http_responses_total"), Ascii("Client requests by the status class they were answered with (499: the client went away first)."), Counter, S.Responses1xx);
    private static readonly Family Reloads = new(Ascii("reloads_total"), Ascii("Configuration reloads the master carried out."), Counter, 0);
    private static readonly Family Restarts = new(Ascii("worker_restarts_total"), Ascii("Worker processes that exited unasked and were started again."), Counter, 0);

    private static readonly byte[][] Classes = [Ascii("1xx"), Ascii("2xx"), Ascii("3xx"), Ascii("4xx"), Ascii("5xx")];
    private static readonly byte[][] ReasonLabels = Array.ConvertAll(F.ReasonLabels, Ascii);
    private static readonly byte[][] TimeBounds = Array.ConvertAll(F.TimeBoundsUs, us => Ascii((us / 1_000_000m).ToString(CultureInfo.InvariantCulture)));
    private static readonly byte[][] RequestBounds = Array.ConvertAll(F.RequestBoundsCount, n => Ascii(n.ToString(CultureInfo.InvariantCulture)));

    private readonly MetricsSnapshot _snapshot;

    /// <param name="ownPeers">The upstream peers of this worker's config: a page has room for twice as
    /// many and 16 more (peers of an earlier configuration stay in the sums after a reload).</param>
    public MetricsPage(int ownPeers)
    {
        _snapshot = new MetricsSnapshot(2 * ownPeers + 16);
        _snapshot.FillForSizing(_snapshot.MaxPeers, S.SlotCount);
        var o = new Out(HeadWriter.Measuring(), wide: true);
        Render(ref o, _snapshot);
        Capacity = o.W.Length;
    }

    /// <summary>The most bytes a page can take.</summary>
    public int Capacity { get; }

    /// <summary>The peers a page can show.</summary>
    public int MaxPeers => _snapshot.MaxPeers;

    /// <summary>Sums the counters and measures the page; -1 when they hold more peers than <see cref="MaxPeers"/>.</summary>
    public int Measure(SharedCounters segment)
    {
        if (!_snapshot.Take(segment)) return -1;
        var o = new Out(HeadWriter.Measuring(), wide: false);
        Render(ref o, _snapshot);
        return o.W.Length;
    }

    /// <summary>Writes the page <see cref="Measure"/> measured; its length, or -1 when it did not fit.</summary>
    public int Write(Span<byte> destination)
    {
        var o = new Out(new HeadWriter(destination), wide: false);
        Render(ref o, _snapshot);
        return o.Ok ? o.W.Length : -1;
    }

    private static void Render(ref Out o, MetricsSnapshot s)
    {
        foreach (var f in ServerFamilies)
        {
            o.Help(f, worker: false);
            o.Sample(f, worker: false);
            o.Number(s.Total(f.Field));
        }
        o.Help(Responses, worker: false);
        for (int c = 0; c < Classes.Length; c++)
        {
            o.Sample(Responses, worker: false);
            o.Label("code", Classes[c], open: true, close: true);
            o.Number(s.Total(S.Responses1xx + c));
        }
        foreach (var f in ServerFamilies)
        {
            o.Help(f, worker: true);
            for (int n = 0; n < S.SlotCount; n++)
            {
                if (!s.HasWorker(n)) continue;
                o.Sample(f, worker: true);
                o.WorkerLabel(n);
                o.Number(s.Worker(n, f.Field));
            }
        }
        o.Help(Reloads, worker: false);
        o.Sample(Reloads, worker: false);
        o.Number(s.Reloads);
        o.Help(Restarts, worker: false);
        o.Sample(Restarts, worker: false);
        o.Number(s.Restarts);
        RenderPeers(ref o, s);
    }

    private static void RenderPeers(ref Out o, MetricsSnapshot s)
    {
        foreach (var f in PeerFamilies)
        {
            o.Help(f, worker: false);
            for (int p = 0; p < s.PeerCount; p++)
            {
                o.PeerSample(f, s, p, Empty, close: true);
                o.Number(f.Field >= 0 ? s.Peer(p, f.Field) : Math.Max(0, s.Peer(p, F.Open) - s.Peer(p, F.Idle)));
            }
        }
        o.Help(Closed, worker: false);
        for (int p = 0; p < s.PeerCount; p++)
        {
            for (int r = 0; r < ReasonLabels.Length; r++)
            {
                o.PeerSample(Closed, s, p, Empty, close: false);
                o.Label("reason", ReasonLabels[r], open: false, close: true);
                o.Number(s.Peer(p, F.Closed + r));
            }
        }
        o.Help(UpstreamResponses, worker: false);
        for (int p = 0; p < s.PeerCount; p++)
        {
            for (int c = 0; c < Classes.Length; c++)
            {
                o.PeerSample(UpstreamResponses, s, p, Empty, close: false);
                o.Label("code", Classes[c], open: false, close: true);
                o.Number(s.Peer(p, F.Responses + c));
            }
        }
        foreach (var f in TimeHistograms) RenderHistogram(ref o, s, f, TimeBounds, seconds: true);
        RenderHistogram(ref o, s, RequestsPerConnection, RequestBounds, seconds: false);
    }

    private static void RenderHistogram(ref Out o, MetricsSnapshot s, Family f, byte[][] bounds, bool seconds)
    {
        o.Help(f, worker: false);
        for (int p = 0; p < s.PeerCount; p++)
        {
            long cumulative = 0;
            for (int b = 0; b <= bounds.Length; b++)
            {
                cumulative += s.Peer(p, f.Field + b);
                o.PeerSample(f, s, p, "_bucket"u8, close: false);
                o.Label("le", b < bounds.Length ? bounds[b] : "+Inf"u8, open: false, close: true);
                o.Number(cumulative);
            }
            o.PeerSample(f, s, p, "_sum"u8, close: true);
            long sum = s.Peer(p, f.Field + bounds.Length + 1);
            if (seconds) o.Seconds(sum);
            else o.Number(sum);
            o.PeerSample(f, s, p, "_count"u8, close: true);
            o.Number(s.Peer(p, f.Field + bounds.Length + 2));
        }
    }

    private static ReadOnlySpan<byte> Empty => default;

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>The writer with the page's grammar: HELP and TYPE lines, names, labels (escaped), numbers.</summary>
    private ref struct Out(HeadWriter w, bool wide)
    {
        public HeadWriter W = w;
        public bool Ok = true;

        private void Bytes(scoped ReadOnlySpan<byte> b) => Ok &= W.TryAppend(b);

        private void Name(Family f, bool worker)
        {
            Bytes("rawkeepalive_"u8);
            if (worker) Bytes("worker_"u8);
            Bytes(f.Name);
        }

        public void Help(Family f, bool worker)
        {
            Bytes("# HELP "u8);
            Name(f, worker);
            Bytes(" "u8);
            Bytes(f.Help);
            Bytes("\n# TYPE "u8);
            Name(f, worker);
            Bytes(" "u8);
            Bytes(f.Type);
            Bytes("\n"u8);
        }

        public void Sample(Family f, bool worker) => Name(f, worker);

        public void WorkerLabel(int number)
        {
            Bytes("{worker=\""u8);
            Ok &= W.TryAppendDecimal(number);
            Bytes("\"}"u8);
        }

        public void PeerSample(Family f, MetricsSnapshot s, int p, scoped ReadOnlySpan<byte> suffix, bool close)
        {
            Name(f, worker: false);
            Bytes(suffix);
            Label("upstream", s.UpstreamName(p), open: true, close: false);
            Label("peer", s.PeerName(p), open: false, close: close);
        }

        public void Label(string name, scoped ReadOnlySpan<byte> value, bool open, bool close)
        {
            Bytes(open ? "{"u8 : ","u8);
            foreach (char c in name) Ok &= W.TryAppendByte((byte)c);
            Bytes("=\""u8);
            foreach (byte b in value)
            {
                if (b is (byte)'"' or (byte)'\\') Ok &= W.TryAppendByte((byte)'\\') && W.TryAppendByte(b);
                else if (b == (byte)'\n') Bytes("\\n"u8);
                else Ok &= W.TryAppendByte(b);
            }
            Bytes(close ? "\"}"u8 : "\""u8);
        }

        /// <summary>" value\n"; when sizing, as wide as any long can be written.</summary>
        public void Number(long value)
        {
            Bytes(" "u8);
            if (wide) Bytes("999999999999999999999"u8);
            else Ok &= W.TryAppendDecimal(value);
            Bytes("\n"u8);
        }

        /// <summary>" seconds\n" from microseconds, six decimals.</summary>
        public void Seconds(long us)
        {
            if (wide || us < 0)
            {
                Number(us);
                return;
            }
            Bytes(" "u8);
            Ok &= W.TryAppendDecimal(us / 1_000_000);
            Bytes("."u8);
            long fraction = us % 1_000_000;
            for (long d = 100_000; d > 0; d /= 10) Ok &= W.TryAppendByte((byte)('0' + fraction / d % 10));
            Bytes("\n"u8);
        }
    }
}
