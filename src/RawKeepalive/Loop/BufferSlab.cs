using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RawKeepalive.Loop;

/// <summary>Fixed-size I/O buffers carved from pinned arrays (the pinned object heap), handed out
/// by index from a free list, so a buffer's address never moves and can go straight into a
/// syscall. Grows a block at a time up to <c>maxBuffers</c>; never shrinks.</summary>
public sealed unsafe class BufferSlab
{
    private readonly int _bufferSize;
    private readonly int _buffersPerBlock;
    private readonly int _maxBuffers;
    private readonly byte[]?[] _blocks;  // referenced here so the pinned arrays outlive every pointer into them
    private readonly byte*[] _bases;
    private readonly int[] _free;        // a stack of indices; the most recently returned (cache-warm) first
    private readonly bool[] _rented;     // catches a double or stray Return before it corrupts the stack
    private int _freeCount;
    private int _created;
    private int _inUse;

    public BufferSlab(int bufferSize, int buffersPerBlock, int maxBuffers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(buffersPerBlock);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBuffers);
        // One block must stay addressable by an int offset.
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)bufferSize * buffersPerBlock, Array.MaxLength, nameof(buffersPerBlock));
        _bufferSize = bufferSize;
        _buffersPerBlock = buffersPerBlock;
        _maxBuffers = maxBuffers;
        int blocks = (int)(((long)maxBuffers + buffersPerBlock - 1) / buffersPerBlock);
        _blocks = new byte[blocks][];
        _bases = new byte*[blocks];
        _free = new int[maxBuffers];
        _rented = new bool[maxBuffers];
    }

    public int BufferSize => _bufferSize;

    /// <summary>Buffers handed out and not yet returned.</summary>
    public int InUse => _inUse;

    /// <summary>A free buffer's index, or -1 when maxBuffers are in use.</summary>
    public int Rent()
    {
        if (_freeCount == 0 && !Grow())
            return -1;
        int index = _free[--_freeCount];
        _rented[index] = true;
        _inUse++;
        return index;
    }

    public void Return(int index)
    {
        bool valid = (uint)index < (uint)_maxBuffers && _rented[index];
        Debug.Assert(valid, $"buffer {index} returned but not rented");
        if (!valid)
            return;
        _rented[index] = false;
        _free[_freeCount++] = index;
        _inUse--;
    }

    public Span<byte> Span(int index)
    {
        Debug.Assert((uint)index < (uint)_created);
        (int block, int offset) = Locate(index);
        return new Span<byte>(_blocks[block], offset, _bufferSize);
    }

    public byte* Pointer(int index)
    {
        Debug.Assert((uint)index < (uint)_created);
        (int block, int offset) = Locate(index);
        return _bases[block] + offset;
    }

    private (int Block, int Offset) Locate(int index)
    {
        int block = Math.DivRem(index, _buffersPerBlock, out int within);
        return (block, within * _bufferSize);
    }

    private bool Grow()
    {
        if (_created == _maxBuffers)
            return false;
        int block = _created / _buffersPerBlock;
        int count = Math.Min(_buffersPerBlock, _maxBuffers - _created);
        byte[] array = GC.AllocateUninitializedArray<byte>(count * _bufferSize, pinned: true);
        _blocks[block] = array;
        // The pinned object heap never moves its objects, so this address holds for the array's life.
        _bases[block] = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        // Pushed highest first so the block is handed out in address order.
        for (int i = count - 1; i >= 0; i--)
            _free[_freeCount++] = _created + i;
        _created += count;
        return true;
    }
}
