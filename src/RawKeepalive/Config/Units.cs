namespace RawKeepalive.Config;

/// <summary>nginx's size and time syntax (ngx_parse_size, ngx_parse_time).</summary>
public static class Units
{
    private const long Second = 1000;

    // Time units in the only order nginx accepts them (largest first, each at most once).
    private static readonly (string Suffix, long Ms)[] TimeUnits =
    [
        ("y", 365 * 86_400 * Second), ("M", 30 * 86_400 * Second), ("w", 7 * 86_400 * Second),
        ("d", 86_400 * Second), ("h", 3_600 * Second), ("m", 60 * Second), ("s", Second), ("ms", 1),
    ];

    /// <summary>"1024", "8k", "1m", "2g" (either case) to bytes.</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        if (text.Length == 0) return false;
        long scale = char.ToLowerInvariant(text[^1]) switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, _ => 1 };
        var digits = scale == 1 ? text.AsSpan() : text.AsSpan(0, text.Length - 1);
        if (!TryParseDigits(digits, out long n)) return false;
        try { bytes = checked(n * scale); } catch (OverflowException) { return false; }
        return true;
    }

    /// <summary>"500ms", "30s", "1h30m", "1d 12h"; a bare number (alone or last) is seconds.</summary>
    public static bool TryParseTimeMs(string text, out long ms) => TryParseTime(text, allowMs: true, out ms);

    /// <summary>Like <see cref="TryParseTimeMs"/> for directives counted in whole seconds, where "ms" is invalid.</summary>
    public static bool TryParseTimeSeconds(string text, out long seconds)
    {
        bool ok = TryParseTime(text, allowMs: false, out long ms);
        seconds = ms / Second;
        return ok;
    }

    private static bool TryParseTime(string text, bool allowMs, out long ms)
    {
        ms = 0;
        var s = text.AsSpan();
        int nextUnit = 0;   // index into TimeUnits: units must come in descending order
        bool any = false;
        try
        {
            while (true)
            {
                while (s.Length > 0 && s[0] == ' ') s = s[1..];
                if (s.Length == 0) break;
                int digits = 0;
                while (digits < s.Length && char.IsAsciiDigit(s[digits])) digits++;
                if (digits == 0 || !TryParseDigits(s[..digits], out long n)) return false;
                s = s[digits..];
                int unit = MatchUnit(s);
                if (unit < 0)
                {
                    // A bare number is seconds, and only as the last component.
                    s = s.TrimStart(' ');
                    if (s.Length != 0) return false;
                    unit = Array.FindIndex(TimeUnits, u => u.Suffix == "s");
                }
                else s = s[TimeUnits[unit].Suffix.Length..];
                if (unit < nextUnit) return false;
                if (TimeUnits[unit].Suffix == "ms" && !allowMs) return false;
                nextUnit = unit + 1;
                ms = checked(ms + n * TimeUnits[unit].Ms);
                any = true;
            }
        }
        catch (OverflowException) { return false; }
        return any;
    }

    private static int MatchUnit(ReadOnlySpan<char> s)
    {
        if (s.StartsWith("ms")) return TimeUnits.Length - 1;
        if (s.Length == 0) return -1;
        for (int i = 0; i < TimeUnits.Length - 1; i++)
            if (s[0] == TimeUnits[i].Suffix[0]) return i;
        return -1;
    }

    /// <summary>Decimal digits only (no sign, no spaces), as ngx_atoi.</summary>
    public static bool TryParseDigits(ReadOnlySpan<char> s, out long value)
    {
        value = 0;
        if (s.Length == 0) return false;
        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c)) return false;
            if (value > (long.MaxValue - 9) / 10) return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }
}
