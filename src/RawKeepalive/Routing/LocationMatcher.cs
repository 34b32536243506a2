using RawKeepalive.Config;

namespace RawKeepalive.Routing;

/// <summary>The locations of one level (a server, or the inside of a location) split as nginx splits
/// them: exact and prefix ("static") locations, and regex locations in config order.</summary>
public sealed class LocationLevel(LocationRuntime[] statics, LocationRuntime[] regexes)
{
    public LocationRuntime[] Statics { get; } = statics;
    public LocationRuntime[] Regexes { get; } = regexes;
    public bool HasRegex { get; } = regexes.Length > 0;
}

/// <summary>nginx's location search (ngx_http_core_find_location), recursion included:
/// <list type="number">
/// <item>an "=" location equal to the URI ends the search;</item>
/// <item>else the longest matching prefix is remembered and its nested locations are searched first;</item>
/// <item>then, unless that prefix is "^~", this level's regexes are tried in order: the first match wins
/// (after its own nested locations are searched);</item>
/// <item>else the remembered prefix is used.</item>
/// </list>
/// A nested "^~" only stops the regexes of its own level, as in nginx.</summary>
public static class LocationMatcher
{
    private enum Found : byte { Declined, Again, Ok }

    public static LocationRuntime? Find(LocationLevel level, ReadOnlySpan<byte> uri, ReadOnlySpan<char> uriChars)
    {
        LocationRuntime? location = null;
        Find(level, uri, uriChars, ref location);
        return location;
    }

    private static Found Find(LocationLevel level, ReadOnlySpan<byte> uri, ReadOnlySpan<char> uriChars, ref LocationRuntime? location)
    {
        var rc = Found.Declined;
        bool noRegex = false;
        LocationRuntime? best = null;
        foreach (var l in level.Statics)
        {
            if (l.Config.Match == LocationMatch.Exact)
            {
                if (uri.SequenceEqual(l.PathBytes))
                {
                    location = l;
                    return Found.Ok;
                }
                continue;
            }
            if (uri.StartsWith(l.PathBytes) && (best is null || l.PathBytes.Length > best.PathBytes.Length)) best = l;
        }
        if (best is not null)
        {
            location = best;
            noRegex = best.Config.Match == LocationMatch.PrefixNoRegex;
            rc = Found.Again;
            if (best.Nested is { } nested)
            {
                rc = Find(nested, uri, uriChars, ref location);
                if (rc == Found.Ok) return rc;
            }
        }
        if (!noRegex && level.HasRegex)
        {
            foreach (var l in level.Regexes)
            {
                if (!l.Config.Regex!.IsMatch(uriChars)) continue;
                location = l;
                if (l.Nested is { } nested) Find(nested, uri, uriChars, ref location);
                return Found.Ok;
            }
        }
        return rc;
    }
}
