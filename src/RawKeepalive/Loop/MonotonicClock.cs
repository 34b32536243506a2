namespace RawKeepalive.Loop;

/// <summary>Milliseconds on a monotonic clock (CLOCK_MONOTONIC_COARSE underneath): cheap enough to
/// read once per loop iteration.</summary>
public static class MonotonicClock
{
    public static long NowMs => Environment.TickCount64;
}
