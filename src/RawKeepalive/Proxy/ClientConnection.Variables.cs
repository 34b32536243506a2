using RawKeepalive.Http;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;

namespace RawKeepalive.Proxy;

/// <summary>This file: what variables (VariableWriter) read about the connection and its request.</summary>
public sealed unsafe partial class ClientConnection
{
    RequestHead IRequestVariables.Request => _req;
    ReadOnlySpan<byte> IRequestVariables.RequestHeadBytes => new(HeadBase, _req.HeadLength);
    ReadOnlySpan<byte> IRequestVariables.PeerAddress => PeerAddress;
    Listener IRequestVariables.Listener => Listener;
    ServerRuntime IRequestVariables.Server => _server;
    LocationRuntime? IRequestVariables.Location => _location;
    long IRequestVariables.ConnectionNumber => Number;

    /// <summary>$connection_requests: this request included (nginx counts a request when it starts).</summary>
    int IRequestVariables.ConnectionRequests => _requests + 1;

    // $request_id: made on first use and kept for the rest of the request. Which request it belongs to is
    // told by (connection number, requests completed), so no per-request reset hook is needed.
    private readonly byte[] _requestId = new byte[32];
    private long _requestIdConnection = -1;
    private int _requestIdSequence;

    ReadOnlySpan<byte> IRequestVariables.RequestId
    {
        get
        {
            if (_requestIdConnection != Number || _requestIdSequence != _requests)
            {
                Span<byte> random = stackalloc byte[16];
                Random.Shared.NextBytes(random);
                for (int i = 0; i < random.Length; i++)
                {
                    _requestId[2 * i] = Hex[random[i] >> 4];
                    _requestId[2 * i + 1] = Hex[random[i] & 0xF];
                }
                _requestIdConnection = Number;
                _requestIdSequence = _requests;
            }
            return _requestId;
        }
    }

    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;
}
