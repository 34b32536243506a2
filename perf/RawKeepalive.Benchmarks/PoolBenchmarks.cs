using BenchmarkDotNet.Attributes;
using RawKeepalive.Upstream;

namespace RawKeepalive.Benchmarks;

/// <summary>The idle pool's hot path: a connection going idle and being reused, and a put into a full cache.</summary>
[MemoryDiagnoser]
public class PoolBenchmarks
{
    private const int MaxId = 4096;
    private const int Peers = 4;

    [Params(32, 1024)]
    public int Capacity { get; set; }

    private KeepalivePool _pool = null!;
    private long _now;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _pool = new KeepalivePool(Capacity, 60_000, MaxId);
        _now = 0;
        // A full cache with peers interleaved, as a busy group keeps it. Both benchmarks keep it full,
        // so every invocation sees the same state and no per-iteration setup is needed.
        for (int id = 0; id < Capacity; id++)
            _pool.Put(id, id % Peers, 0, _now++);
        _next = Capacity;
    }

    [Benchmark(Description = "put+take (LIFO reuse)")]
    public int PutTakeCycle()
    {
        _pool.TryTake(1, 0, out int id);
        _pool.Put(id, 1, 0, ++_now);
        return id;
    }

    [Benchmark(Description = "put into a full cache (evicts LRU)")]
    public int PutWithEviction()
    {
        int evicted = _pool.Put(_next, _next % Peers, 0, ++_now);
        _next = evicted;  // the evicted slot is the next connection to go idle
        return evicted;
    }
}
