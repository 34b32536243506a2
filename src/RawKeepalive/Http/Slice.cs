namespace RawKeepalive.Http;

/// <summary>A run of bytes inside a receive buffer, as offset and length: the parsers hand
/// these out instead of copies or strings.</summary>
public readonly struct Slice(int start, int length)
{
    public readonly int Start = start;
    public readonly int Length = length;
    public int End => Start + Length;
    public bool IsEmpty => Length == 0;
    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> buffer) => buffer.Slice(Start, Length);
    public Slice Shift(int delta) => new(Start + delta, Length);
}
