namespace RawKeepalive.Loop;

/// <summary>Which leg a slot holds, so an event or timer goes to the right handler.</summary>
public enum SlotKind : byte { Free, Client, Upstream }

/// <summary>worker_connections slots shared by client and upstream connections (as nginx counts
/// them). A slot's generation changes on every reuse, so an event or timer meant for a closed
/// connection never reaches the one that took its slot: the epoll token is (generation, slot).</summary>
public sealed class ConnectionTable
{
    private readonly int[] _free;
    private int _freeCount;
    private readonly uint[] _generation;
    private readonly SlotKind[] _kinds;

    public int Capacity { get; }
    public int InUse => Capacity - _freeCount;

    public ConnectionTable(int capacity)
    {
        Capacity = capacity;
        _free = new int[capacity];
        _generation = new uint[capacity];
        _kinds = new SlotKind[capacity];
        for (int i = 0; i < capacity; i++) _free[i] = capacity - 1 - i;   // low slots first
        _freeCount = capacity;
    }

    /// <summary>A free slot, now holding a <paramref name="kind"/> connection, or -1 when
    /// worker_connections are in use.</summary>
    public int Allocate(SlotKind kind)
    {
        if (_freeCount == 0) return -1;
        int slot = _free[--_freeCount];
        NextGeneration(slot);
        _kinds[slot] = kind;
        return slot;
    }

    public SlotKind Kind(int slot) => _kinds[slot];

    /// <summary>Generations wrap within 30 bits: the token's top two bits mark the listener and wake-up
    /// events, and a slot reused 2^31 times (months at 100,000 connections/s) must not look like one.</summary>
    private const uint GenerationMask = (1u << 30) - 1;

    public void Release(int slot)
    {
        NextGeneration(slot);
        _kinds[slot] = SlotKind.Free;
        _free[_freeCount++] = slot;
    }

    private void NextGeneration(int slot) => _generation[slot] = (_generation[slot] + 1) & GenerationMask;

    public uint Generation(int slot) => _generation[slot];

    public ulong Token(int slot) => (ulong)_generation[slot] << 32 | (uint)slot;

    public static int SlotOf(ulong token) => (int)(uint)token;
    public static uint GenerationOf(ulong token) => (uint)(token >> 32);
}
