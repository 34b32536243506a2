namespace RawKeepalive.Loop;

/// <summary>Every timeout of a worker in one hashed timing wheel: O(1) set and cancel, timer ids
/// are small integers (connection slots) fixed at construction. Times are milliseconds on a
/// monotonic clock supplied by the caller. Expiry may run late by up to one tick, never early.</summary>
public sealed class TimerWheel
{
    /// <param name="capacity">Timer ids are 0..capacity-1.</param>
    /// <param name="tickMs">Resolution.</param>
    /// <param name="startMs">The current time.</param>
    public TimerWheel(int capacity, int tickMs, long startMs) => throw new NotImplementedException();

    /// <summary>Arms (or re-arms) timer <paramref name="id"/> to expire at <paramref name="dueMs"/>.</summary>
    public void Set(int id, long dueMs) => throw new NotImplementedException();

    /// <summary>Disarms timer <paramref name="id"/>; no effect when it is not armed.</summary>
    public void Cancel(int id) => throw new NotImplementedException();

    public bool IsSet(int id) => throw new NotImplementedException();

    public int Count => throw new NotImplementedException();

    /// <summary>Milliseconds from <paramref name="nowMs"/> until the earliest armed timer can expire
    /// (0 when one is already due), or -1 when none is armed: the epoll_wait timeout.</summary>
    public int NextTimeoutMs(long nowMs) => throw new NotImplementedException();

    /// <summary>Removes and returns one timer whose due time is at or before <paramref name="nowMs"/>,
    /// or -1 when none is due. The caller loops until -1.</summary>
    public int PopExpired(long nowMs) => throw new NotImplementedException();
}
