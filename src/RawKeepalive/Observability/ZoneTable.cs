using RawKeepalive.Upstream;

namespace RawKeepalive.Observability;

/// <summary>The upstream zones' part of the shared counters segment: up to <see cref="Entries"/> entries, one
/// per peer of an upstream with <c>zone</c> whose server has <c>max_conns</c>, keyed by upstream name, peer name
/// and the peer's occurrence among same-named peers of its upstream (so the workers of every generation, old ones
/// draining after a reload included, share one count per peer). An entry holds a row of per-slot connection counts
/// and a row of per-slot waiting times (<see cref="ZonePeer"/>). Workers claim entries as they start (a
/// compare-exchange on the entry's state, the key written before it reads ready); entries are never freed while the
/// master lives. The master zeroes an exited worker's columns (<see cref="Clear"/>).</summary>
public sealed unsafe class ZoneTable
{
    public const int Entries = 256;
    private const int Occurrence = SharedCounters.KeyLongs, State = Occurrence + 1;
    private const int CountsAt = State + 1, WaitingAt = CountsAt + SharedCounters.SlotCount;
    private const int EntryLongs = WaitingAt + SharedCounters.SlotCount;
    /// <summary>The table's size in longs.</summary>
    public const long Longs = (long)Entries * EntryLongs;

    private const long Free = 0, Claiming = 1, Ready = 2;
    private const int ClaimWaits = 64 + 100;

    private readonly long* _base;
    private readonly long* _slotsInUse;

    internal ZoneTable(long* @base, long* slotsInUse)
    {
        _base = @base;
        _slotsInUse = slotsInUse;
    }

    private long* Entry(int index) => _base + (long)index * EntryLongs;

    /// <summary>Master: slot <paramref name="slot"/> has no connections and no waiting requests (its worker exited, or is new).</summary>
    public void Clear(int slot)
    {
        for (int e = 0; e < Entries; e++)
        {
            long* entry = Entry(e);
            if (Volatile.Read(ref entry[State]) == Free) break;
            Volatile.Write(ref entry[CountsAt + slot], 0);
            Volatile.Write(ref entry[WaitingAt + slot], 0);
        }
    }

    /// <summary>Worker, at start: every peer with max_conns of each zoned group in <paramref name="groups"/> counts
    /// in its entry (claimed when absent), from slot <paramref name="slot"/>. One that finds no room, or whose
    /// names do not fit a key, counts in this worker only (said in the log).</summary>
    public void Bind(IEnumerable<UpstreamGroup> groups, int slot, ErrorLog log)
    {
        Span<byte> key = stackalloc byte[SharedCounters.KeyBytes];
        foreach (var g in groups)
        {
            if (g.Config.Zone is null) continue;
            for (int p = 0; p < g.Peers.Length; p++)
            {
                var peer = g.Peers[p];
                if (peer.MaxConns == 0) continue;
                int occurrence = 0;
                for (int q = 0; q < p; q++)
                    if (g.Peers[q].Name == peer.Name) occurrence++;
                long* entry = SharedCounters.TryMakeKey(g.Config.Name, peer.Name, key) ? FindOrClaim(key, occurrence) : null;
                if (entry != null)
                {
                    peer.BindZone(new ZonePeer(entry + CountsAt, entry + WaitingAt, _slotsInUse, slot));
                    continue;
                }
                log.Write(LogLevel.Warn, 0, $"upstream \"{g.Config.Name}\" peer {peer.Name}: max_conns counts in each worker, not in zone " +
                    $"\"{g.Config.Zone}\": room for {Entries} zoned peers with names up to {SharedCounters.UpstreamNameBytes} and {SharedCounters.PeerNameBytes} ASCII bytes");
            }
        }
    }

    /// <summary>The entry for <paramref name="key"/> and <paramref name="occurrence"/>, claimed when absent; null when none is left.
    /// A claim under way in another worker (a few stores) is waited out, for about 100 ms at most.</summary>
    private long* FindOrClaim(ReadOnlySpan<byte> key, int occurrence)
    {
        for (int e = 0; e < Entries; e++)
        {
            long* entry = Entry(e);
            long state = Volatile.Read(ref entry[State]);
            if (state == Free)
            {
                state = Interlocked.CompareExchange(ref entry[State], Claiming, Free);
                if (state == Free)
                {
                    key.CopyTo(new Span<byte>(entry, SharedCounters.KeyBytes));
                    entry[Occurrence] = occurrence;
                    Volatile.Write(ref entry[State], Ready);
                    return entry;
                }
            }
            for (int i = 0; state == Claiming && i < ClaimWaits; i++)
            {
                if (i < 64) Thread.SpinWait(32);
                else Thread.Sleep(1);
                state = Volatile.Read(ref entry[State]);
            }
            if (state == Ready && entry[Occurrence] == occurrence && new ReadOnlySpan<byte>(entry, SharedCounters.KeyBytes).SequenceEqual(key))
                return entry;
        }
        return null;
    }
}
