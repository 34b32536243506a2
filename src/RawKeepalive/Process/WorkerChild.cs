namespace RawKeepalive.Process;

using SysProcess = System.Diagnostics.Process;

/// <summary>The master's handle on one worker process: which slot it serves, which counter slot
/// it writes, and the write end of its hand-off pipe (held open: closing it, or the master dying,
/// is what tells the worker to exit).</summary>
public sealed class WorkerChild(SysProcess process, int slot, int generation, int counterSlot, Stream pipe)
{
    public SysProcess Process { get; } = process;
    public int Pid { get; } = process.Id;
    public int Slot { get; } = slot;
    public int Generation { get; } = generation;
    public int CounterSlot { get; } = counterSlot;
    public Stream Pipe { get; } = pipe;
    public long StartedMs { get; } = Environment.TickCount64;
    /// <summary>Told to go (reload, quit, stop): not restarted when it exits.</summary>
    public bool Retiring { get; set; }
}
