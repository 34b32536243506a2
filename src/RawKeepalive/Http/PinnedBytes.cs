using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace RawKeepalive.Http;

/// <summary>Byte arrays on the pinned object heap, so an iovec can point at them across partial
/// writes: literals of generated headers, compiled template text, error pages.</summary>
public static unsafe class PinnedBytes
{
    public static byte[] From(ReadOnlySpan<byte> bytes)
    {
        var a = GC.AllocateUninitializedArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(a);
        return a;
    }

    public static byte[] Ascii(string s) => From(Encoding.ASCII.GetBytes(s));

    /// <summary>The address of a pinned array's first byte (any address for an empty one).</summary>
    public static byte* Address(byte[] pinned) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}
