using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RawKeepalive.Loop;

/// <summary>Fixed-size I/O buffers carved from pinned arrays (the pinned object heap), handed out
/// by index from a free list, so a buffer's address never moves and can go straight into a
/// syscall. Grows a block at a time up to <c>maxBuffers</c>; the address space never shrinks, but
/// TrimCold gives the pages of free buffers beyond the <c>warmBuffers</c> most recently returned
/// back to the kernel, so a burst of concurrency does not stay resident as the cost of every idle
/// connection.</summary>
public sealed unsafe class BufferSlab
{
    private readonly int _bufferSize;
    private readonly int _buffersPerBlock;
    private readonly int _maxBuffers;
    private readonly byte[]?[] _blocks;  // referenced here so the pinned arrays outlive every pointer into them
    private readonly byte*[] _bases;
    private readonly int[] _baseOffsets;   // where the first buffer starts in its block's array
    private const int PageSize = 4096;
    private readonly int[] _free;        // a stack of indices; the most recently returned (cache-warm) first
    private readonly bool[] _rented;     // catches a double or stray Return before it corrupts the stack
    private readonly bool[] _discarded;  // its pages were given back: a cold free buffer
    private readonly int _warmBuffers;
    private int _freeCount;
    private int _created;
    private int _inUse;

    /// <param name="warmBuffers">Free buffers kept resident; deeper free ones are discarded (int.MaxValue: never).</param>
    public BufferSlab(int bufferSize, int buffersPerBlock, int maxBuffers, int warmBuffers = int.MaxValue)
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
        _baseOffsets = new int[blocks];
        _free = new int[maxBuffers];
        _rented = new bool[maxBuffers];
        _discarded = new bool[maxBuffers];
        _warmBuffers = warmBuffers;
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
        _discarded[index] = false;
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
        if (_freeCount > _warmBuffers) TrimDue = true;
    }

    /// <summary>A return left more free buffers than the warm ones since the last TrimCold: the owner
    /// should call it (the worker's loop wakes for it even when idle).</summary>
    public bool TrimDue { get; private set; }

    /// <summary>Gives back the pages of the free buffers below the warm ones (the bottom of the free
    /// stack, the longest unused). Called now and then (the worker: once a second), not on every
    /// return, so concurrency that swings around the warm count does not fault pages in and out.
    /// Returns how many buffers it discarded.</summary>
    public int TrimCold()
    {
        TrimDue = false;
        int discarded = 0;
        for (int depth = _freeCount - 1 - _warmBuffers; depth >= 0; depth--)
        {
            int cold = _free[depth];
            if (_discarded[cold]) continue;
            _discarded[cold] = true;
            Native.MemoryInterop.Discard(Pointer(cold), _bufferSize);
            discarded++;
        }
        return discarded;
    }

    public Span<byte> Span(int index)
    {
        Debug.Assert((uint)index < (uint)_created);
        (int block, int offset) = Locate(index);
        return new Span<byte>(_blocks[block], _baseOffsets[block] + offset, _bufferSize);
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
        // One page more than needed, so buffers start on a page boundary: a discarded buffer then
        // gives back all of its pages, not all but the two it shares with its neighbours.
        byte[] array = GC.AllocateUninitializedArray<byte>(count * _bufferSize + PageSize, pinned: true);
        _blocks[block] = array;
        // The pinned object heap never moves its objects, so this address holds for the array's life.
        long data = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        _baseOffsets[block] = (int)(((data + PageSize - 1) & ~(long)(PageSize - 1)) - data);
        _bases[block] = (byte*)data + _baseOffsets[block];
        // Pushed highest first so the block is handed out in address order.
        for (int i = count - 1; i >= 0; i--)
            _free[_freeCount++] = _created + i;
        _created += count;
        return true;
    }
}
