using System.Numerics;

namespace RawKeepalive.Loop;

/// <summary>Every timeout of a worker in one hashed timing wheel: O(1) set and cancel, timer ids
/// are small integers (connection slots) fixed at construction. Times are milliseconds on a
/// monotonic clock supplied by the caller. Expiry may run late by up to one tick, never early.</summary>
/// <remarks>Invariant: an armed timer due at or before the last time the wheel advanced to sits on
/// the expired list; any other sits in the slot of its due tick. A timer several rotations ahead
/// shares a slot with nearer ones and is skipped (its absolute due time is compared) until its
/// round comes. Lists are circular and intrusive, with one sentinel node per slot after the
/// timer ids, so link and unlink have no special cases.</remarks>
public sealed class TimerWheel
{
    // 4096 slots: at a 1 ms tick a rotation is ~4 s; at 10 ms ~41 s, longer than most timeouts.
    private const int SlotBits = 12;
    private const int SlotCount = 1 << SlotBits;
    private const int SlotMask = SlotCount - 1;
    private const int Expired = SlotCount;  // list index of the expired list
    private const int Unarmed = -1;

    private readonly int _capacity;
    private readonly int _tickMs;
    private readonly long _originMs;
    private readonly int[] _next;  // timer ids, then one sentinel per list
    private readonly int[] _prev;
    private readonly long[] _due;
    private readonly int[] _list;  // per timer: slot, Expired or Unarmed
    private readonly ulong[] _occupied = new ulong[SlotCount / 64];
    private long _nowMs;        // the last time the wheel advanced to
    private long _currentTick;  // its tick
    private int _count;

    /// <param name="capacity">Timer ids are 0..capacity-1.</param>
    /// <param name="tickMs">Resolution.</param>
    /// <param name="startMs">The current time.</param>
    public TimerWheel(int capacity, int tickMs, long startMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tickMs);
        _capacity = capacity;
        _tickMs = tickMs;
        _originMs = startMs;
        _nowMs = startMs;
        int nodes = capacity + SlotCount + 1;
        _next = new int[nodes];
        _prev = new int[nodes];
        for (int s = capacity; s < nodes; s++)
            _next[s] = _prev[s] = s;
        _due = new long[capacity];
        _list = new int[capacity];
        Array.Fill(_list, Unarmed);
    }

    /// <summary>Arms (or re-arms) timer <paramref name="id"/> to expire at <paramref name="dueMs"/>.</summary>
    public void Set(int id, long dueMs)
    {
        if (_list[id] != Unarmed)
            Unlink(id);
        else
            _count++;
        _due[id] = dueMs;
        // Already due by the wheel's clock: the slot of that tick may be behind us and never rescanned.
        LinkTail(id, dueMs <= _nowMs ? Expired : (int)(TickOf(dueMs) & SlotMask));
    }

    /// <summary>Disarms timer <paramref name="id"/>; no effect when it is not armed.</summary>
    public void Cancel(int id)
    {
        if (_list[id] == Unarmed)
            return;
        Unlink(id);
        _list[id] = Unarmed;
        _count--;
    }

    public bool IsSet(int id) => _list[id] != Unarmed;

    public int Count => _count;

    /// <summary>Milliseconds from <paramref name="nowMs"/> until the earliest armed timer can expire
    /// (0 when one is already due), or -1 when none is armed: the epoll_wait timeout.</summary>
    /// <remarks>Exact for the current slot; for a later slot it is the start of that slot's tick, which
    /// a far-future timer sharing the slot can make early (the loop then wakes for nothing and asks
    /// again), never late.</remarks>
    public int NextTimeoutMs(long nowMs)
    {
        if (_count == 0)
            return -1;
        if (!IsEmpty(Expired))
            return 0;

        long earliest = long.MaxValue;
        int current = (int)(_currentTick & SlotMask);
        // The current slot holds the rest of this tick and later rounds: a tick-start bound would be
        // in the past and spin the loop, so take its exact minimum.
        for (int n = _next[Sentinel(current)]; n < _capacity; n = _next[n])
            earliest = Math.Min(earliest, _due[n]);

        int distance = DistanceToOccupied((current + 1) & SlotMask);
        if (distance >= 0 && distance < SlotMask)  // SlotMask would be the current slot again
            earliest = Math.Min(earliest, _originMs + (_currentTick + 1 + distance) * _tickMs);

        long wait = earliest - nowMs;
        return wait <= 0 ? 0 : wait >= int.MaxValue ? int.MaxValue : (int)wait;
    }

    /// <summary>Removes and returns one timer whose due time is at or before <paramref name="nowMs"/>,
    /// or -1 when none is due. The caller loops until -1.</summary>
    public int PopExpired(long nowMs)
    {
        if (nowMs > _nowMs)
            Advance(nowMs);
        // The head always qualifies on a monotonic clock; the walk only guards a caller's clock going back.
        for (int n = _next[Sentinel(Expired)]; n < _capacity; n = _next[n])
        {
            if (_due[n] <= nowMs)
            {
                Cancel(n);
                return n;
            }
        }
        return -1;
    }

    private long TickOf(long timeMs) => (timeMs - _originMs) / _tickMs;

    private int Sentinel(int list) => _capacity + list;

    private bool IsEmpty(int list) => _next[Sentinel(list)] == Sentinel(list);

    /// <summary>Moves every timer due by <paramref name="nowMs"/> to the expired list, visiting only
    /// occupied slots between the current tick and now's (each slot once when a rotation or more passed).</summary>
    private void Advance(long nowMs)
    {
        long nowTick = TickOf(nowMs);
        long span = nowTick - _currentTick;
        if (span >= SlotMask)
        {
            for (int w = 0; w < _occupied.Length; w++)
            {
                // Collect clears bits as slots empty: iterate a snapshot of the word.
                for (ulong bits = _occupied[w]; bits != 0; bits &= bits - 1)
                    Collect((w << 6) | BitOperations.TrailingZeroCount(bits), nowMs);
            }
        }
        else
        {
            // The current slot is rescanned: it may hold timers due later in its tick.
            for (long d = 0; d <= span;)
            {
                int distance = DistanceToOccupied((int)((_currentTick + d) & SlotMask));
                if (distance < 0 || d + distance > span)
                    break;
                d += distance;
                Collect((int)((_currentTick + d) & SlotMask), nowMs);
                d++;
            }
        }
        _nowMs = nowMs;
        _currentTick = nowTick;
    }

    private void Collect(int slot, long nowMs)
    {
        int sentinel = Sentinel(slot);
        for (int n = _next[sentinel]; n != sentinel;)
        {
            int following = _next[n];
            if (_due[n] <= nowMs)
            {
                Unlink(n);
                LinkTail(n, Expired);
            }
            n = following;
        }
    }

    /// <summary>Slots from <paramref name="from"/> (inclusive, circularly) to the next non-empty one, or -1.</summary>
    private int DistanceToOccupied(int from)
    {
        int word = from >> 6;
        ulong bits = _occupied[word] & (~0UL << (from & 63));
        // One extra step revisits the first word whole, for slots before `from` in it.
        for (int step = 0; ; step++)
        {
            if (bits != 0)
                return (((word << 6) | BitOperations.TrailingZeroCount(bits)) - from) & SlotMask;
            if (step == _occupied.Length)
                return -1;
            word = (word + 1) & (_occupied.Length - 1);
            bits = _occupied[word];
        }
    }

    private void LinkTail(int id, int list)
    {
        int sentinel = Sentinel(list);
        int last = _prev[sentinel];
        _next[last] = id;
        _prev[id] = last;
        _next[id] = sentinel;
        _prev[sentinel] = id;
        _list[id] = list;
        if (list != Expired)
            _occupied[list >> 6] |= 1UL << list;
    }

    private void Unlink(int id)
    {
        int next = _next[id], prev = _prev[id];
        _next[prev] = next;
        _prev[next] = prev;
        int list = _list[id];
        if (list != Expired && IsEmpty(list))
            _occupied[list >> 6] &= ~(1UL << list);
    }
}
