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

    /// <summary>After a receive that got <paramref name="got"/> of the <paramref name="asked"/> bytes: a short
    /// read emptied the socket, so the edge-triggered loop waits for the next event instead of reading to
    /// EAGAIN, and the release check needs no MSG_PEEK (nginx's ngx_unix_recv does the same with
    /// EPOLLRDHUP). Not once a hang-up was reported: the EOF behind the data raises no new event.</summary>
    public void AfterReceive(long got, int asked)
    {
        if (got < asked && !HungUp && Transport.ShortReadDrains) ReadReady = false;
    }

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
