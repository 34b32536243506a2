using System.Text;

namespace RawKeepalive.Loop;

/// <summary>Counts of values in power-of-two buckets (0, 1, 2-3, 4-7, …) with their exact count and
/// sum: enough to tell a median from a tail without storing samples.</summary>
public sealed class Log2Histogram(string name, string unit)
{
    private readonly long[] _buckets = new long[64];

    public long Count { get; private set; }
    public long Sum { get; private set; }

    public void Add(long value)
    {
        if (value < 0) value = 0;
        _buckets[value == 0 ? 0 : 64 - long.LeadingZeroCount(value)]++;
        Count++;
        Sum += value;
    }

    /// <summary>The upper bound of the bucket that holds the <paramref name="q"/> quantile.</summary>
    public long Quantile(double q)
    {
        long rank = (long)Math.Ceiling(q * Count), seen = 0;
        for (int b = 0; b < _buckets.Length; b++)
        {
            seen += _buckets[b];
            if (seen >= rank && seen > 0) return b == 0 ? 0 : (1L << b) - 1;
        }
        return 0;
    }

    public void Describe(StringBuilder s)
    {
        double mean = Count == 0 ? 0 : (double)Sum / Count;
        s.Append($"{name}: count {Count} sum {Sum}{unit} mean {mean:F1}{unit} p50<={Quantile(0.5)} p90<={Quantile(0.9)} p99<={Quantile(0.99)} p999<={Quantile(0.999)}\n");
        s.Append("  buckets");
        for (int b = 0; b < _buckets.Length; b++)
            if (_buckets[b] > 0) s.Append($" <={(b == 0 ? 0 : (1L << b) - 1)}:{_buckets[b]}");
        s.Append('\n');
    }
}
