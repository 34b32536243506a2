namespace RawKeepalive.Proxy;

/// <summary>worker_connections slots shared by client and upstream connections (as nginx counts
/// them). A slot's generation changes on every reuse, so an event or timer meant for a closed
/// connection never reaches the one that took its slot: the epoll token is (generation, slot).</summary>
public sealed class ConnectionTable
{
    private readonly int[] _free;
    private int _freeCount;
    private readonly uint[] _generation;

    public int Capacity { get; }
    public int InUse => Capacity - _freeCount;

    public ConnectionTable(int capacity)
    {
        Capacity = capacity;
        _free = new int[capacity];
        _generation = new uint[capacity];
        for (int i = 0; i < capacity; i++) _free[i] = capacity - 1 - i;   // low slots first
        _freeCount = capacity;
    }

    /// <summary>A free slot, or -1 when worker_connections are in use.</summary>
    public int Allocate()
    {
        if (_freeCount == 0) return -1;
        int slot = _free[--_freeCount];
        _generation[slot]++;
        return slot;
    }

    public void Release(int slot)
    {
        _generation[slot]++;
        _free[_freeCount++] = slot;
    }

    public uint Generation(int slot) => _generation[slot];

    public ulong Token(int slot) => (ulong)_generation[slot] << 32 | (uint)slot;

    public static int SlotOf(ulong token) => (int)(uint)token;
    public static uint GenerationOf(ulong token) => (uint)(token >> 32);
}
