using RawKeepalive.Routing;

namespace RawKeepalive.Proxy;

/// <summary>A location's content phase: what answers its requests once routing and access let them
/// through. Which one a location uses is decided when the config loads (<see cref="LocationRuntime.Content"/>);
/// a new kind of content (static files) is a new handler here and a new <see cref="ContentKind"/>,
/// and the exchange does not change.</summary>
public abstract class ContentHandler
{
    public abstract void Run(Exchange x, LocationRuntime location);
}

/// <summary>proxy_pass: the request goes upstream.</summary>
public sealed class ProxyContent : ContentHandler
{
    public override void Run(Exchange x, LocationRuntime location) => x.Upstream.Start(location, location.Group!);
}

/// <summary>return: a status with text or a redirect.</summary>
public sealed class ReturnContent : ContentHandler
{
    public override void Run(Exchange x, LocationRuntime location) => x.Local.RespondReturn(location.Config.Return!);
}

/// <summary>stub_status: the server's connection and request counters.</summary>
public sealed class StubStatusContent : ContentHandler
{
    public override void Run(Exchange x, LocationRuntime location) => x.Local.RespondStubStatus();
}

/// <summary>metrics: the shared counters in Prometheus's text format.</summary>
public sealed class MetricsContent : ContentHandler
{
    public override void Run(Exchange x, LocationRuntime location) => x.Local.RespondMetrics();
}

/// <summary>A location with nothing to serve: 404, as nginx's static module answers for a missing file.</summary>
public sealed class NotFoundContent : ContentHandler
{
    public override void Run(Exchange x, LocationRuntime location) => x.Local.Respond(404, close: false);
}

/// <summary>One handler object per kind of content, made once per worker.</summary>
public sealed class ContentHandlers
{
    private readonly ContentHandler[] _byKind = new ContentHandler[Enum.GetValues<ContentKind>().Length];

    public ContentHandlers()
    {
        _byKind[(int)ContentKind.None] = new NotFoundContent();
        _byKind[(int)ContentKind.Proxy] = new ProxyContent();
        _byKind[(int)ContentKind.Return] = new ReturnContent();
        _byKind[(int)ContentKind.StubStatus] = new StubStatusContent();
        _byKind[(int)ContentKind.Metrics] = new MetricsContent();
    }

    public ContentHandler For(LocationRuntime location) => _byKind[(int)location.Content];
}
