using System.Diagnostics;

namespace RawKeepalive.Tests.Support;

/// <summary>Bounded waits on a condition: tests wait for states, never for fixed times.</summary>
public static class Wait
{
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls until <paramref name="condition"/> holds; false if it did not within <paramref name="timeout"/>.</summary>
    public static bool Until(Func<bool> condition, TimeSpan timeout, TimeSpan? poll = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (condition())
                return true;
            if (clock.Elapsed >= timeout || cancel.IsCancellationRequested)
                return false;
            Thread.Sleep(poll ?? DefaultPoll);
        }
    }

    /// <summary>True when <paramref name="condition"/> held at every poll for the whole of <paramref name="period"/>.</summary>
    public static bool HoldsFor(Func<bool> condition, TimeSpan period, TimeSpan? poll = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < period)
        {
            if (!condition())
                return false;
            Thread.Sleep(poll ?? DefaultPoll);
        }
        return condition();
    }
}
