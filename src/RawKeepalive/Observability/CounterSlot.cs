using RawKeepalive.Upstream;

namespace RawKeepalive.Observability;

/// <summary>Where a client connection is, as stub_status counts it (nginx's reading, writing and
/// waiting): Waiting = idle between requests, Reading = a request head is arriving, Writing = a
/// request is being answered.</summary>
public enum ClientPhase : byte { None, Waiting, Reading, Writing }

/// <summary>One worker's slot of <see cref="SharedCounters"/>: plain stores from the loop thread,
/// the only writer. Upstream entries are claimed by name once, at start.</summary>
public sealed unsafe class CounterSlot
{
    private readonly long* _s;
    private readonly Dictionary<UpstreamGroup, nint> _upstreams = new(ReferenceEqualityComparer.Instance);

    public CounterSlot(SharedCounters segment, int index) => _s = segment.Slot(index);

    /// <summary>Claims this worker's entry for each upstream block (by name, so totals of
    /// different generations add up per upstream).</summary>
    public void Register(IEnumerable<UpstreamGroup> groups)
    {
        foreach (var g in groups)
        {
            long* e = SharedCounters.UpstreamEntry(_s, SharedCounters.EncodeName(g.Config.Name));
            if (e != null) _upstreams[g] = (nint)e;
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

    public void UpstreamOpened(UpstreamGroup g) => Bump(g, SharedCounters.UpOpened);

    public void UpstreamReused(UpstreamGroup g) => Bump(g, SharedCounters.UpReused);

    public void StaleRetry(UpstreamGroup g) => Bump(g, SharedCounters.UpStale);

    private void Bump(UpstreamGroup g, int field)
    {
        if (_upstreams.TryGetValue(g, out nint e)) ((long*)e)[field]++;
    }

    private static int Field(ClientPhase p) => p switch
    {
        ClientPhase.Waiting => SharedCounters.Waiting,
        ClientPhase.Reading => SharedCounters.Reading,
        _ => SharedCounters.Writing,
    };
}
