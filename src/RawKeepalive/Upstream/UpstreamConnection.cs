using RawKeepalive.Loop;

namespace RawKeepalive.Upstream;

public enum UpstreamState : byte { Closed, Connecting, Active, Idle }

/// <summary>A connection to an upstream peer: connecting, carrying one exchange for a client, or
/// idle in a keepalive pool (no buffer, no timer, watched only for the peer closing it).</summary>
public sealed class UpstreamConnection(int slot)
{
    public readonly int Slot = slot;
    public int Fd = -1;
    /// <summary>The byte stream over <see cref="Fd"/> (plaintext today; <c>proxy_pass https://</c> slots in here).</summary>
    public ITransport Transport = PlainTransport.Instance;
    public UpstreamState State;
    public bool ReadReady, WriteReady;
    /// <summary>EPOLLRDHUP, EPOLLHUP or EPOLLERR seen: the upstream closed or reset it, so it is never pooled.</summary>
    public bool HungUp;
    public UpstreamPeer Peer = null!;
    public UpstreamGroup Group = null!;
    /// <summary>The group's cache it returns to, with the tag of the location it serves, or null when it
    /// is closed after the exchange.</summary>
    public LocationPool? Pool;
    public IUpstreamOwner? Owner;
    /// <summary>Exchanges completed on this connection (keepalive_requests).</summary>
    public int Requests;
    public long OpenedMs;
    /// <summary>Taken from the pool for the current exchange (a failure before any response byte is then a stale connection).</summary>
    public bool Reused;

    public int Buffer = -1;
    public int Start, End;

    public SocketStream Stream => new(Transport, Fd);

    public void Reset()
    {
        Fd = -1;
        State = UpstreamState.Closed;
        ReadReady = WriteReady = Reused = HungUp = false;
        Pool = null;
        Owner = null;
        Requests = 0;
        Start = End = 0;
        Buffer = -1;
    }
}
