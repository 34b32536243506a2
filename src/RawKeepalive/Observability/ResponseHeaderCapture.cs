using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Transforms;

namespace RawKeepalive.Observability;

/// <summary>The values of the response headers some template reads ($sent_http_NAME, $upstream_http_NAME;
/// <see cref="HeaderCaptures"/>), copied out of the head when it arrives: the upstream buffer is reused
/// for the body, so they cannot be read from it at log time. A fixed buffer per connection record, sized
/// at load (<see cref="HeaderCaptures.BufferBytes"/>). A value that does not fit the room left is not
/// captured at all: never cut, it reads as not found ("-" in a log line) and <see cref="Dropped"/> counts it.</summary>
public sealed class ResponseHeaderCapture
{
    private readonly HeaderCaptures _names;
    private readonly byte[] _buffer;
    private readonly int[] _start, _length;   // _length -1: not found
    private int _used;

    /// <summary>Values not captured because the buffer was full, since the last <see cref="Clear"/>.</summary>
    public int Dropped { get; private set; }

    public ResponseHeaderCapture(HeaderCaptures names)
    {
        _names = names;
        _buffer = new byte[names.BufferBytes];
        _start = new int[names.Count];
        _length = new int[names.Count];
        Clear();
    }

    public void Clear()
    {
        _length.AsSpan().Fill(-1);
        _used = 0;
        Dropped = 0;
    }

    /// <summary>The captured value of <paramref name="slot"/>; false when it was not found (or dropped).</summary>
    public bool TryGet(int slot, out ReadOnlySpan<byte> value)
    {
        if ((uint)slot >= (uint)_length.Length || _length[slot] < 0)
        {
            value = default;
            return false;
        }
        value = _buffer.AsSpan(_start[slot], _length[slot]);
        return true;
    }

    /// <summary>Every line of the upstream's head, for $upstream_http_NAME.</summary>
    public void CaptureUpstream(ResponseHead head, ReadOnlySpan<byte> bytes)
    {
        if (_length.Length == 0) return;
        for (int i = 0; i < head.HeaderCount; i++)
            Offer(upstream: true, head.Headers[i].Name.Of(bytes), head.Headers[i].Value.Of(bytes));
    }

    /// <summary>The upstream's lines that are forwarded to the client, for $sent_http_NAME.</summary>
    public void CaptureForwarded(ResponseHead head, ReadOnlySpan<byte> bytes)
    {
        if (_length.Length == 0) return;
        for (int i = 0; i < head.HeaderCount; i++)
            if (ResponseHeadRewriter.IsForwarded(head, i, bytes))
                Offer(upstream: false, head.Headers[i].Name.Of(bytes), head.Headers[i].Value.Of(bytes));
    }

    /// <summary>Header lines the proxy wrote itself ("Name: value\r\n" each; a leading status line is
    /// skipped, so a whole generated head can be passed), for $sent_http_NAME.</summary>
    public void CaptureGenerated(ReadOnlySpan<byte> lines)
    {
        if (_length.Length == 0) return;
        while (!lines.IsEmpty)
        {
            int eol = lines.IndexOf((byte)'\n');
            var line = (eol < 0 ? lines : lines[..eol]).TrimEnd((byte)'\r');
            lines = eol < 0 ? default : lines[(eol + 1)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0) continue;   // the status line, the blank line
            Offer(upstream: false, line[..colon], line[(colon + 1)..].Trim((byte)' '));
        }
    }

    private void Offer(bool upstream, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        for (int slot = 0; slot < _length.Length; slot++)
            if (_names.IsUpstream(slot) == upstream && NameMatches(name, _names.Name(slot))) Append(slot, value);
    }

    /// <summary>nginx's comparison (ngx_http_variable_unknown_header): the header name lower-cased, with
    /// '-' read as '_', equals the variable's name.</summary>
    private static bool NameMatches(ReadOnlySpan<byte> header, ReadOnlySpan<byte> variable)
    {
        if (header.Length != variable.Length) return false;
        for (int i = 0; i < header.Length; i++)
        {
            byte c = header[i];
            if (c is >= (byte)'A' and <= (byte)'Z') c |= 0x20;
            else if (c == (byte)'-') c = (byte)'_';
            if (c != variable[i]) return false;
        }
        return true;
    }

    /// <summary>A second line of the same name is joined with ", ", as nginx joins them.</summary>
    private void Append(int slot, ReadOnlySpan<byte> value)
    {
        int existing = _length[slot];
        if (existing < 0)
        {
            if (value.Length > _buffer.Length - _used) { Dropped++; return; }
            _start[slot] = _used;
            _length[slot] = value.Length;
            value.CopyTo(_buffer.AsSpan(_used));
            _used += value.Length;
            return;
        }
        int grown = existing + 2 + value.Length;
        bool atEnd = _start[slot] + existing == _used;
        if (grown - (atEnd ? existing : 0) > _buffer.Length - _used)
        {
            // The joined value does not fit: it is dropped whole (not found), never cut.
            _length[slot] = -1;
            Dropped++;
            return;
        }
        if (!atEnd)
        {
            // Move the value to the end so that it can grow there (other slots were captured after it).
            _buffer.AsSpan(_start[slot], existing).CopyTo(_buffer.AsSpan(_used));
            _start[slot] = _used;
            _used += existing;
        }
        ", "u8.CopyTo(_buffer.AsSpan(_used));
        value.CopyTo(_buffer.AsSpan(_used + 2));
        _used += 2 + value.Length;
        _length[slot] = grown;
    }
}
