using static Tmds.Linux.LibC;

namespace RawKeepalive.Native;

/// <summary>Giving memory back to the kernel without unmapping it.</summary>
public static unsafe class MemoryInterop
{
    private const long PageSize = 4096;

    /// <summary>madvise(MADV_DONTNEED) on the whole pages inside [p, p+length): they leave RSS now and
    /// read back as zeros on the next touch. The partial pages at either end are kept.</summary>
    public static void Discard(byte* p, long length)
    {
        long start = ((long)p + PageSize - 1) & ~(PageSize - 1);
        long end = ((long)p + length) & ~(PageSize - 1);
        if (end > start) madvise((void*)start, (Tmds.Linux.size_t)(ulong)(end - start), MADV_DONTNEED);
    }
}
