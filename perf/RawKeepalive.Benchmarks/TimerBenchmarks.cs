using BenchmarkDotNet.Attributes;
using RawKeepalive.Loop;

namespace RawKeepalive.Benchmarks;

/// <summary>The timer wheel's hot path: a timeout armed and cancelled per read, and one that fires.</summary>
[MemoryDiagnoser]
public class TimerBenchmarks
{
    private const int Capacity = 16_384;
    private const int TickMs = 1;

    private TimerWheel _wheel = null!;
    private long _now;
    private int _id;

    [GlobalSetup]
    public void Setup()
    {
        _wheel = new TimerWheel(Capacity, TickMs, 0);
        // Background timers spread over a minute, as idle client connections keep them.
        var random = new Random(1);
        for (int id = Capacity / 2; id < Capacity; id++)
            _wheel.Set(id, 60_000 + random.Next(60_000));
    }

    [Benchmark(Description = "set+cancel")]
    public void SetCancel()
    {
        int id = _id++ & (Capacity / 2 - 1);
        _wheel.Set(id, _now + 30_000);
        _wheel.Cancel(id);
    }

    [Benchmark(Description = "set+pop (1 ms later)")]
    public int SetPop()
    {
        int id = _id++ & (Capacity / 2 - 1);
        _wheel.Set(id, _now + 1);
        _now++;
        int popped;
        // Background timers come due as the clock runs: re-arm them, as a live connection would.
        while ((popped = _wheel.PopExpired(_now)) >= Capacity / 2)
            _wheel.Set(popped, _now + 60_000);
        return popped;
    }
}
