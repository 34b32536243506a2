namespace RawKeepalive.Tests.Support;

/// <summary>A request as the test backend received it: what the proxy really sent upstream.</summary>
/// <param name="Connection">The backend's number for the connection (1 = first accepted).</param>
/// <param name="Number">The request's position on that connection (1 = first).</param>
/// <param name="Head">Request line and header lines, CRLF-terminated, exactly as received.</param>
public sealed record BackendRequest(
    int Connection,
    int Number,
    string Method,
    string Target,
    string Version,
    HeaderList Headers,
    string Head,
    int BodyLength,
    bool BodyChunked)
{
    public string? Get(string name) => Headers.Get(name);

    public string Path => Target.Split('?', 2)[0];
}
