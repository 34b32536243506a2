using RawKeepalive.Http;

namespace RawKeepalive.Http;

/// <summary>The parsed request and response heads of one exchange (about 4 KiB of header
/// offsets). A client connection holds a pair only while it holds a receive buffer, so an idle
/// keepalive client costs its connection record and nothing more.</summary>
public sealed class MessageHeads
{
    public readonly RequestHead Request = new();
    public readonly ResponseHead Response = new();
}

/// <summary>Free list of head pairs; grows to the peak number of busy connections, never shrinks.</summary>
public sealed class MessageHeadsPool
{
    private readonly Stack<MessageHeads> _free = new();

    public MessageHeads Rent() => _free.TryPop(out var heads) ? heads : new MessageHeads();

    public void Return(MessageHeads heads) => _free.Push(heads);
}
