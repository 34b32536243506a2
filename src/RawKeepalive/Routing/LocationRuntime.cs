using RawKeepalive.Http;
using System.Text;
using RawKeepalive.Config;
using RawKeepalive.Upstream;

namespace RawKeepalive.Routing;

/// <summary>A location as the worker uses it: config plus everything pre-encoded to bytes and the
/// idle pool its requests draw from.</summary>
public sealed class LocationRuntime
{
    public LocationConfig Config { get; }
    public byte[] PathBytes { get; }
    public UpstreamGroup? Group { get; }
    public KeepalivePool? Pool { get; }
    public byte[]? ProxyUri { get; }
    public byte[] ProxyHost { get; }
    public byte[] ProxyPort { get; }
    public byte[][] SetHeaderNames { get; }
    /// <summary>proxy_set_header as an array: the hot path iterates it without an enumerator.</summary>
    public HeaderSetting[] SetHeaders { get; }
    public bool UpstreamHttp10 => Config.ProxyHttpVersionMinor == 0;
    /// <summary>The locations nested in this one; null when none.</summary>
    public LocationLevel? Nested { get; internal set; }

    public LocationRuntime(LocationConfig config, Dictionary<UpstreamConfig, UpstreamGroup> groups, int maxConnections)
    {
        Config = config;
        PathBytes = Encoding.ASCII.GetBytes(config.Path);
        ProxyHost = ProxyPort = [];
        SetHeaders = config.ProxySetHeaders.ToArray();
        SetHeaderNames = new byte[config.ProxySetHeaders.Count][];
        for (int i = 0; i < SetHeaderNames.Length; i++)
            SetHeaderNames[i] = config.ProxySetHeaders[i].NameBytes;
        if (config.ProxyPass is { } pass)
        {
            Group = groups[pass.Upstream];
            Pool = Group.SharedPool ?? (Group.Config.Keepalive > 0 ? Group.NewPool(maxConnections) : null);
            ProxyUri = pass.Uri is null ? null : PinnedBytes.Ascii(pass.Uri);   // an iovec points at it
            ProxyHost = Encoding.ASCII.GetBytes(pass.ProxyHost);
            ProxyPort = Encoding.ASCII.GetBytes(pass.ProxyPort);
        }
    }

    /// <summary>Whether the header called <paramref name="name"/> is replaced by a proxy_set_header.</summary>
    public bool SetsHeader(ReadOnlySpan<byte> name)
    {
        foreach (var n in SetHeaderNames)
            if (Ascii.EqualsIgnoreCase(n, name)) return true;
        return false;
    }
}
