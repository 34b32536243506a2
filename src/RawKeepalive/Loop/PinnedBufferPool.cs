using System.Numerics;

namespace RawKeepalive.Loop;

/// <summary>Pinned arrays for the rare generated head that outgrows its slab area (a long
/// X-Forwarded-For chain, cookies copied into several headers), bounded by the caller's cap.
/// Sizes are powers of two; a few free ones are kept, so a client that keeps sending big heads
/// costs no allocation after its first.</summary>
public sealed class PinnedBufferPool
{
    private const int MaxFree = 8;
    private readonly List<byte[]> _free = new(MaxFree);

    /// <summary>An array of at least <paramref name="length"/> bytes; its address never moves.</summary>
    public byte[] Rent(int length)
    {
        for (int i = 0; i < _free.Count; i++)
        {
            var a = _free[i];
            if (a.Length < length) continue;
            _free[i] = _free[^1];
            _free.RemoveAt(_free.Count - 1);
            return a;
        }
        return GC.AllocateUninitializedArray<byte>((int)BitOperations.RoundUpToPowerOf2((uint)length), pinned: true);
    }

    public void Return(byte[] array)
    {
        if (_free.Count < MaxFree) _free.Add(array);
    }
}
