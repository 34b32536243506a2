namespace RawKeepalive.Tests.Support;

/// <summary>What a <see cref="LoadRunner"/> run did: counts, statuses, and the first failures in detail.</summary>
public sealed class LoadResult
{
    public required int Planned { get; init; }
    public required int Succeeded { get; init; }
    public required int Failed { get; init; }

    /// <summary>Requests never sent because the deadline passed or the test was cancelled.</summary>
    public required int NotRun { get; init; }

    public required bool TimedOut { get; init; }

    /// <summary>Client connections opened to the proxy (reconnects after a close or an error included).</summary>
    public required int ClientConnections { get; init; }

    public required IReadOnlyDictionary<int, int> StatusCounts { get; init; }
    public required IReadOnlyList<string> FirstFailures { get; init; }
    public required TimeSpan Elapsed { get; init; }

    public int Status(int status) => StatusCounts.TryGetValue(status, out int n) ? n : 0;

    public override string ToString() =>
        $"{Succeeded}/{Planned} succeeded, {Failed} failed, {NotRun} not run{(TimedOut ? " (deadline passed)" : "")}, "
        + $"{ClientConnections} client connections, {Elapsed.TotalSeconds:F1} s; statuses: "
        + string.Join(", ", StatusCounts.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))
        + (FirstFailures.Count > 0 ? "\nfirst failures:\n  " + string.Join("\n  ", FirstFailures) : "");
}
