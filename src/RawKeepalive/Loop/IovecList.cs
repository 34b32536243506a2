using RawKeepalive.Native;

namespace RawKeepalive.Loop;

/// <summary>A gather list being built or sent: a cursor over a fixed iovec array. Partial writes
/// advance the cursor in place, so the rest goes out with the next write.</summary>
public unsafe struct IovecList
{
    private Iovec* _items;
    private int _capacity;
    public int First;
    public int Count;

    public void Init(Iovec* items, int capacity)
    {
        _items = items;
        _capacity = capacity;
        First = Count = 0;
    }

    public readonly bool IsEmpty => First == Count;
    public readonly Iovec* Current => _items + First;
    public readonly int Remaining => Count - First;

    public bool Add(byte* p, int length)
    {
        if (length <= 0) return true;
        if (Count == _capacity) return false;
        _items[Count].Base = p;
        _items[Count].Length = (nuint)length;
        Count++;
        return true;
    }

    /// <summary>Adds bytes that may directly follow the previous entry's (adjacent header lines of
    /// a receive buffer): then the entry grows instead of a new one being used.</summary>
    public bool AddAdjacent(byte* p, int length)
    {
        if (Count > 0 && Count > First && _items[Count - 1].Base + _items[Count - 1].Length == p)
        {
            _items[Count - 1].Length += (nuint)length;
            return true;
        }
        return Add(p, length);
    }

    /// <summary>Consumes <paramref name="written"/> bytes from the front.</summary>
    public void Advance(long written)
    {
        while (written > 0 && First < Count)
        {
            long len = (long)_items[First].Length;
            if (written >= len)
            {
                written -= len;
                First++;
            }
            else
            {
                _items[First].Base += written;
                _items[First].Length -= (nuint)written;
                written = 0;
            }
        }
    }

    public void Clear() => First = Count = 0;

    /// <summary>The bytes the entries not yet written hold.</summary>
    public readonly long RemainingBytes()
    {
        long total = 0;
        for (int i = First; i < Count; i++) total += (long)_items[i].Length;
        return total;
    }
}
