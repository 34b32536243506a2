using System.Diagnostics;

namespace RawKeepalive.Loop;

/// <summary>Milliseconds on CLOCK_MONOTONIC (Stopwatch's clock, a vDSO call): read once per loop
/// iteration and by the log variables. Not Environment.TickCount64: that is CLOCK_MONOTONIC_COARSE,
/// which moves in jiffies (4 ms on a 250 Hz kernel), and made every $request_time and
/// $upstream_response_time a multiple of 4 ms where nginx's are to the millisecond.</summary>
public static class MonotonicClock
{
    private static readonly long TicksPerMs = Stopwatch.Frequency / 1000;

    public static long NowMs => Stopwatch.GetTimestamp() / TicksPerMs;
}
