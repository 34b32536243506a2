using RawKeepalive.Http;
using System.Text;
using RawKeepalive.Config;
using RawKeepalive.Upstream;

namespace RawKeepalive.Routing;

/// <summary>What answers a location's requests, decided when the config loads (the client side has
/// one content handler per kind). The order of precedence is nginx's: return runs in the rewrite
/// phase before any content handler; a location with none of these answers 404.</summary>
public enum ContentKind : byte { None, Proxy, Return, StubStatus, Metrics }

/// <summary>A location as the worker uses it: config plus everything pre-encoded to bytes and its view
/// of the upstream group's idle connection cache.</summary>
public sealed class LocationRuntime
{
    public LocationConfig Config { get; }
    public byte[] PathBytes { get; }
    public UpstreamGroup? Group { get; }
    /// <summary>Where its requests take idle upstream connections from and return them to; null without a pool.</summary>
    public LocationPool? Pool { get; }
    public byte[]? ProxyUri { get; }
    public byte[] ProxyHost { get; }
    public byte[] ProxyPort { get; }
    public byte[][] SetHeaderNames { get; }
    /// <summary>proxy_set_header as an array: the hot path iterates it without an enumerator.</summary>
    public HeaderSetting[] SetHeaders { get; }
    public bool UpstreamHttp10 => Config.Proxy.HttpVersionMinor == 0;
    public ContentKind Content { get; }
    /// <summary>The locations nested in this one; null when none.</summary>
    public LocationLevel? Nested { get; internal set; }

    public LocationRuntime(LocationConfig config, Dictionary<UpstreamConfig, UpstreamGroup> groups)
    {
        Config = config;
        PathBytes = Encoding.ASCII.GetBytes(config.Path);
        ProxyHost = ProxyPort = [];
        SetHeaders = config.Proxy.SetHeaders.ToArray();
        SetHeaderNames = new byte[config.Proxy.SetHeaders.Count][];
        for (int i = 0; i < SetHeaderNames.Length; i++)
            SetHeaderNames[i] = config.Proxy.SetHeaders[i].NameBytes;
        if (config.ProxyPass is { } pass)
        {
            Group = groups[pass.Upstream];
            Pool = Group.PoolForLocation();
            ProxyUri = pass.Uri is null ? null : PinnedBytes.Ascii(pass.Uri);   // an iovec points at it
            ProxyHost = Encoding.ASCII.GetBytes(pass.ProxyHost);
            ProxyPort = Encoding.ASCII.GetBytes(pass.ProxyPort);
        }
        Content = config.Return is not null ? ContentKind.Return
            : config.StubStatus ? ContentKind.StubStatus
            : config.Metrics ? ContentKind.Metrics
            : Group is not null ? ContentKind.Proxy
            : ContentKind.None;
    }

    /// <summary>Whether the header called <paramref name="name"/> is replaced by a proxy_set_header.</summary>
    public bool SetsHeader(ReadOnlySpan<byte> name)
    {
        foreach (var n in SetHeaderNames)
            if (Ascii.EqualsIgnoreCase(n, name)) return true;
        return false;
    }
}
