using RawKeepalive.Http;

namespace RawKeepalive.Proxy;

/// <summary>This file: what variables (VariableWriter) read about the connection and its request.</summary>
public sealed unsafe partial class ClientConnection
{
    internal RequestHead Request => _req;
    internal ReadOnlySpan<byte> RequestHeadBytes => new(HeadBase, _req.HeadLength);
    internal ServerRuntime Server => _server;
    internal LocationRuntime? Location => _location;
}
