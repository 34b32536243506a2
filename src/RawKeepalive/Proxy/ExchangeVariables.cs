using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Observability;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;

namespace RawKeepalive.Proxy;

/// <summary>What variables (VariableWriter) read about an exchange's request and its connection: the
/// exchange's view for Transforms, which never sees the client side itself.</summary>
public sealed class ExchangeVariables(ClientConnection client, Exchange exchange, HeaderCaptures captures) : IRequestVariables
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    // $request_id: made on first use and kept for the rest of the request. Which request it belongs to is
    // told by (connection number, requests completed), so no per-request reset hook is needed.
    private readonly byte[] _requestId = new byte[32];
    private long _requestIdConnection = -1;
    private int _requestIdSequence;

    public RequestHead Request => client.Request;
    public ReadOnlySpan<byte> RequestHeadBytes => exchange.HeadBytes;
    public ReadOnlySpan<byte> PeerAddress => client.PeerAddress;
    public Listener Listener => client.Listener;
    public ServerRuntime Server => exchange.Server;
    public LocationRuntime? Location => exchange.Location;
    public long ConnectionNumber => client.Number;

    /// <summary>The log's view of the request (status, sizes, times, tries, captured headers), filled by
    /// the exchange; one per connection record for its life, its capture buffer sized by the config.</summary>
    public RequestRecord Record { get; } = new(captures);

    /// <summary>$connection_requests: this request included (nginx counts a request when it starts).</summary>
    public int ConnectionRequests => client.Requests + 1;

    public ReadOnlySpan<byte> RequestId
    {
        get
        {
            if (_requestIdConnection != client.Number || _requestIdSequence != client.Requests)
            {
                Span<byte> random = stackalloc byte[16];
                Random.Shared.NextBytes(random);
                for (int i = 0; i < random.Length; i++)
                {
                    _requestId[2 * i] = Hex[random[i] >> 4];
                    _requestId[2 * i + 1] = Hex[random[i] & 0xF];
                }
                _requestIdConnection = client.Number;
                _requestIdSequence = client.Requests;
            }
            return _requestId;
        }
    }
}
