using System.Text;

namespace RawKeepalive.Config;

/// <summary>The response header names some template reads through <c>$sent_http_NAME</c> or
/// <c>$upstream_http_NAME</c>, known at load. The upstream's receive buffer is reused for the body, so
/// by the time a line is logged the head's bytes are gone: the exchange copies just these values into
/// its request record when the head arrives, and each such variable reads its <see cref="TemplateSegment.Slot"/>.</summary>
public sealed class HeaderCaptures
{
    /// <summary>Room per name in a record's capture buffer, and the most a record holds in all: a value
    /// that does not fit is not captured (counted, and read as not found) rather than cut.</summary>
    public const int BytesPerName = 512, MaxBytes = 4096;

    private readonly List<(bool Upstream, byte[] Name)> _names = [];

    public int Count => _names.Count;

    /// <summary>Capture buffer bytes a request record needs for these names (0 when there are none).</summary>
    public int BufferBytes => Math.Min(_names.Count * BytesPerName, MaxBytes);

    /// <summary>True for an <c>$upstream_http_</c> slot, false for a <c>$sent_http_</c> one.</summary>
    public bool IsUpstream(int slot) => _names[slot].Upstream;

    /// <summary>The name as the variable spells it after its prefix, lower-case with '_' (nginx compares
    /// a header name lower-cased, '-' read as '_').</summary>
    public byte[] Name(int slot) => _names[slot].Name;

    internal int SlotOf(bool upstream, string name)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(name);
        for (int i = 0; i < _names.Count; i++)
            if (_names[i].Upstream == upstream && _names[i].Name.AsSpan().SequenceEqual(bytes)) return i;
        _names.Add((upstream, bytes));
        return _names.Count - 1;
    }
}
