namespace RawKeepalive.Tests.Support;

/// <summary>Allocation measured the way the hot path runs: after a warm-up, in steady state. The
/// runtime may allocate on the calling thread while a method is still being tiered up (on-stack
/// replacement compiles on the thread that hits the loop), which is not the code under test: a
/// batch that allocates per call allocates in every batch, so the fewest bytes over a few batches
/// is what the code itself allocates.</summary>
public static class Allocations
{
    /// <summary>Runs <paramref name="batch"/> once to warm up, then up to <paramref name="attempts"/> times
    /// measured; the fewest bytes one measured run allocated on this thread (0 ends the search early).</summary>
    public static long SteadyState(Action batch, int attempts = 5)
    {
        batch();
        long fewest = long.MaxValue;
        for (int i = 0; i < attempts && fewest > 0; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            batch();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
