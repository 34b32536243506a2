using System.Buffers.Text;

namespace RawKeepalive.Http;

/// <summary>Writes the bytes of a generated head (headers, a Location, a text body) into a bounded
/// area, or only counts them. The same code runs twice, as nginx builds its heads: a measuring pass
/// gives the exact length, an area that size is found, then the writing pass fills it. Every append
/// reports whether it fit, so a head can never be silently cut.</summary>
public ref struct HeadWriter
{
    private readonly Span<byte> _dest;
    private readonly bool _measuring;

    /// <summary>Bytes written so far (or counted, when measuring).</summary>
    public int Length { get; private set; }

    /// <summary>Of <see cref="Length"/>, the bytes that came from the client's request (its headers,
    /// target or method): when a head is too big, they tell whether the client made it so (431) or
    /// the configuration did (500).</summary>
    public int ClientBytes { get; private set; }

    private HeadWriter(Span<byte> dest, bool measuring)
    {
        _dest = dest;
        _measuring = measuring;
    }

    /// <summary>A writer that writes nothing and counts everything; its appends always succeed.</summary>
    public static HeadWriter Measuring() => new(default, measuring: true);

    public HeadWriter(Span<byte> dest) : this(dest, measuring: false) { }

    public bool TryAppend(scoped ReadOnlySpan<byte> bytes)
    {
        if (!_measuring)
        {
            if (bytes.Length > _dest.Length - Length) return false;
            bytes.CopyTo(_dest[Length..]);
        }
        Length += bytes.Length;
        return true;
    }

    /// <summary>Appends bytes taken from the client's request.</summary>
    public bool TryAppendClient(scoped ReadOnlySpan<byte> bytes)
    {
        if (!TryAppend(bytes)) return false;
        ClientBytes += bytes.Length;
        return true;
    }

    /// <summary>Appends client bytes lower-cased ($host).</summary>
    public bool TryAppendClientLower(scoped ReadOnlySpan<byte> bytes)
    {
        int at = Length;
        if (!TryAppendClient(bytes)) return false;
        if (!_measuring) System.Text.Ascii.ToLowerInPlace(_dest.Slice(at, bytes.Length), out _);
        return true;
    }

    public bool TryAppendDecimal(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        return Utf8Formatter.TryFormat(value, digits, out int n) && TryAppend(digits[..n]);
    }

    /// <summary>Goes back to an earlier <see cref="Length"/> and <see cref="ClientBytes"/>, dropping what
    /// was appended since (a header whose value turned out empty).</summary>
    public void Rewind(int length, int clientBytes)
    {
        Length = length;
        ClientBytes = clientBytes;
    }

    public bool TryAppendByte(byte b)
    {
        Span<byte> one = stackalloc byte[1];
        one[0] = b;
        return TryAppend(one);
    }
}
