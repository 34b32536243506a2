using System.Text;

namespace RawKeepalive.Upstream;

/// <summary>The layout of one upstream's, or one peer's, figures: a block of 64-bit counters that
/// <see cref="UpstreamStats"/> writes (in the worker's own memory, or in its slot of the shared counters
/// segment, where the metrics page sums them over every worker). Every long is a counter that only
/// grows, except the two gauges (<see cref="Open"/> and <see cref="Idle"/>), so blocks of several workers, or of a worker
/// that has exited, add up field by field.</summary>
public static class UpstreamFigures
{
    /// <summary>Room for close reasons: <see cref="UpstreamCloseReason"/> may grow to this many members.</summary>
    public const int ReasonCapacity = 16;
    public const int StatusClasses = 5;

    /// <summary>Histogram bounds: upstream connect, header and response time (µs), and requests per
    /// connection. A histogram is its buckets (bounds + 1, the last one +Inf, each counting only its own
    /// range), then the sum and the count of what it observed.</summary>
    public const int TimeBounds = 16, RequestBounds = 11;
    public static readonly long[] TimeBoundsUs =
        [500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000];
    public static readonly long[] RequestBoundsCount = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 10_000];

    public const int Opened = 0, Reused = 1, StaleRetries = 2, RequestsSent = 3;
    /// <summary>Gauges: connections open now, and of those the ones idle in the pool.</summary>
    public const int Open = 4, Idle = 5;
    /// <summary>Closes by reason: <see cref="Closed"/> + (int)reason.</summary>
    public const int Closed = 6;
    /// <summary>Upstream responses by status class: <see cref="Responses"/> + 0 for 1xx … + 4 for 5xx.</summary>
    public const int Responses = Closed + ReasonCapacity;
    public const int ConnectTime = Responses + StatusClasses;
    public const int HeaderTime = ConnectTime + TimeBounds + 3;
    public const int ResponseTime = HeaderTime + TimeBounds + 3;
    public const int RequestsPerConnection = ResponseTime + TimeBounds + 3;
    public const int Longs = RequestsPerConnection + RequestBounds + 3;

    /// <summary>The reason's name as a metrics label and in log lines: "pool_full", "closed_while_idle".
    /// Made from the enum's names, so a reason added at its end is named without a change here.</summary>
    public static readonly string[] ReasonLabels = MakeReasonLabels();

    private static string[] MakeReasonLabels()
    {
        var names = Enum.GetNames<UpstreamCloseReason>();
        if (names.Length > ReasonCapacity)
            throw new InvalidOperationException($"UpstreamCloseReason has {names.Length} members, room for {ReasonCapacity}: raise UpstreamFigures.ReasonCapacity");
        var labels = new string[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            var b = new StringBuilder();
            foreach (char c in names[i])
            {
                if (char.IsUpper(c) && b.Length > 0) b.Append('_');
                b.Append(char.ToLowerInvariant(c));
            }
            labels[i] = b.ToString();
        }
        return labels;
    }

    /// <summary>Counts <paramref name="value"/> in the histogram at <paramref name="h"/> with <paramref name="bounds"/>.</summary>
    public static unsafe void Observe(long* h, long[] bounds, long value)
    {
        int i = 0;
        while (i < bounds.Length && value > bounds[i]) i++;
        h[i]++;
        h[bounds.Length + 1] += value;
        h[bounds.Length + 2]++;
    }
}
