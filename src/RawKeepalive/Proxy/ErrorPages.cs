using RawKeepalive.Http;

namespace RawKeepalive.Proxy;

/// <summary>Pinned bodies of the error pages, made once per status at first use.</summary>
public sealed class ErrorPages
{
    private readonly Dictionary<int, byte[]> _pages = new();

    public byte[] Get(int status)
    {
        if (!_pages.TryGetValue(status, out var page))
            _pages[status] = page = PinnedBytes.From(StatusText.ErrorPage(status));
        return page;
    }
}
