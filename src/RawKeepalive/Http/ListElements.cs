namespace RawKeepalive.Http;

/// <summary>Walks a comma-separated field value (RFC 9110 5.6.1 #rule), yielding each element with its
/// whitespace trimmed. Empty elements (",," or a trailing comma) are yielded as empty spans: the
/// #rule says recipients must accept them, so callers skip them.</summary>
internal ref struct ListElements(ReadOnlySpan<byte> list)
{
    private ReadOnlySpan<byte> _rest = list;
    private bool _done = list.IsEmpty;

    public bool MoveNext(out ReadOnlySpan<byte> element)
    {
        if (_done) { element = default; return false; }
        int comma = _rest.IndexOf((byte)',');
        if (comma < 0)
        {
            element = HttpChars.TrimOws(_rest);
            _done = true;
        }
        else
        {
            element = HttpChars.TrimOws(_rest.Slice(0, comma));
            _rest = _rest.Slice(comma + 1);
        }
        return true;
    }
}
