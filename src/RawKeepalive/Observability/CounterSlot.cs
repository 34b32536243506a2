using RawKeepalive.Upstream;

namespace RawKeepalive.Observability;

/// <summary>Where a client connection is, as stub_status counts it (nginx's reading, writing and
/// waiting): Waiting = idle between requests, Reading = a request head is arriving, Writing = a
/// request is being answered.</summary>
public enum ClientPhase : byte { None, Waiting, Reading, Writing }

/// <summary>One worker's slot of <see cref="SharedCounters"/>: plain stores from the loop thread,
/// the only writer. Each upstream peer's figures (<see cref="UpstreamStats"/>) are bound to an entry
/// of the slot once, at start.</summary>
public sealed unsafe class CounterSlot
{
    private readonly long* _s;

    public CounterSlot(SharedCounters segment, int index) => _s = segment.Slot(index);

    /// <summary>Binds every peer's figures of <paramref name="groups"/> to an entry of this slot, claimed by
    /// upstream and peer name (so totals of different generations add up per peer). A peer that finds no
    /// room, or whose names do not fit an entry's key, is counted in this worker only (said once in the log).</summary>
    public void Register(IEnumerable<UpstreamGroup> groups, ErrorLog log)
    {
        Span<byte> key = stackalloc byte[SharedCounters.KeyBytes];
        foreach (var g in groups)
        {
            foreach (var peer in g.Peers)
            {
                long* e = SharedCounters.TryMakeKey(g.Config.Name, peer.Name, key) ? SharedCounters.FindOrClaim(_s, key) : null;
                if (e != null)
                {
                    peer.Stats.Bind(e + SharedCounters.KeyLongs);
                    continue;
                }
                log.Write(LogLevel.Warn, 0, $"upstream \"{g.Config.Name}\" peer {peer.Name} is left out of the metrics page: " +
                    $"room for {SharedCounters.MaxPeers} peers with names up to {SharedCounters.UpstreamNameBytes} and {SharedCounters.PeerNameBytes} ASCII bytes");
            }
        }
    }

    public void Accepted()
    {
        _s[SharedCounters.Accepts]++;
        _s[SharedCounters.Handled]++;
        _s[SharedCounters.Active]++;
    }

    /// <summary>Moves a connection between reading, writing and waiting; entering writing from
    /// elsewhere is a new request (nginx counts a request when it is created, bad ones included).</summary>
    public void Enter(ref ClientPhase phase, ClientPhase next)
    {
        if (phase == next) return;
        if (phase != ClientPhase.None) _s[Field(phase)]--;
        if (next != ClientPhase.None) _s[Field(next)]++;
        if (next == ClientPhase.Writing) _s[SharedCounters.Requests]++;
        phase = next;
    }

    public void Closed(ref ClientPhase phase)
    {
        Enter(ref phase, ClientPhase.None);
        _s[SharedCounters.Active]--;
    }

    /// <summary>The log phase: a request was answered with <paramref name="status"/> (499: the client went away first).</summary>
    public void Responded(int status)
    {
        int cls = status / 100;
        if (cls is >= 1 and <= 5) _s[SharedCounters.Responses1xx + cls - 1]++;
    }

    private static int Field(ClientPhase p) => p switch
    {
        ClientPhase.Waiting => SharedCounters.Waiting,
        ClientPhase.Reading => SharedCounters.Reading,
        _ => SharedCounters.Writing,
    };
}
