namespace RawKeepalive.Loop;

/// <summary>Fixed-size I/O buffers carved from pinned arrays (the pinned object heap), handed out
/// by index from a free list, so a buffer's address never moves and can go straight into a
/// syscall. Grows a block at a time up to <c>maxBuffers</c>; never shrinks.</summary>
public sealed unsafe class BufferSlab
{
    public BufferSlab(int bufferSize, int buffersPerBlock, int maxBuffers) => throw new NotImplementedException();

    public int BufferSize => throw new NotImplementedException();

    /// <summary>Buffers handed out and not yet returned.</summary>
    public int InUse => throw new NotImplementedException();

    /// <summary>A free buffer's index, or -1 when maxBuffers are in use.</summary>
    public int Rent() => throw new NotImplementedException();

    public void Return(int index) => throw new NotImplementedException();

    public Span<byte> Span(int index) => throw new NotImplementedException();

    public byte* Pointer(int index) => throw new NotImplementedException();
}
