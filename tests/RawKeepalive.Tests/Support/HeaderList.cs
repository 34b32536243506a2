namespace RawKeepalive.Tests.Support;

/// <summary>Header fields in the order received; lookups by name ignore case.</summary>
public sealed class HeaderList : List<KeyValuePair<string, string>>
{
    public void Add(string name, string value) => Add(new KeyValuePair<string, string>(name, value));

    /// <summary>The first value of <paramref name="name"/>, or null when absent.</summary>
    public string? Get(string name)
    {
        foreach (var (key, value) in this)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                return value;
        }
        return null;
    }

    public IReadOnlyList<string> GetAll(string name) =>
        this.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();

    public bool Contains(string name) => Get(name) is not null;

    /// <summary>True when a comma-separated list header (e.g. Connection) holds <paramref name="token"/>.</summary>
    public bool HasToken(string name, string token) =>
        GetAll(name).SelectMany(v => v.Split(','))
            .Any(t => string.Equals(t.Trim(), token, StringComparison.OrdinalIgnoreCase));
}
