using System.Numerics;

namespace RawKeepalive.Process;

/// <summary>worker_cpu_affinity as CPU masks per worker slot. "auto" gives slot i the i-th CPU the
/// master may run on (wrapping around); explicit masks are nginx's bit strings, rightmost = CPU 0,
/// reused in turn when there are more slots than masks.</summary>
public static class CpuAffinity
{
    /// <summary>The mask for <paramref name="slot"/>, or 0 for "not pinned".</summary>
    public static ulong MaskFor(IReadOnlyList<string>? setting, int slot, ulong allowed)
    {
        if (setting is null || setting.Count == 0) return 0;
        if (setting[0] == "auto")
        {
            int cpus = BitOperations.PopCount(allowed);
            if (cpus == 0) return 0;
            int pick = slot % cpus;
            for (int cpu = 0; cpu < 64; cpu++)
                if ((allowed & (1UL << cpu)) != 0 && pick-- == 0) return 1UL << cpu;
            return 0;
        }
        string bits = setting[slot % setting.Count];
        ulong mask = 0;
        for (int i = 0; i < bits.Length; i++)
            if (bits[bits.Length - 1 - i] == '1') mask |= 1UL << i;
        return mask;
    }
}
