using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>The response to the client: the head's gather write (with the body bytes that came with
/// it), then the body relay, whose outcome is applied here: the upstream's reuse and the client's
/// keep-alive, nginx's log lines, the end of the exchange when the body is whole or broken.</summary>
public sealed unsafe class ResponseSender(Worker worker, ClientConnection client, Exchange exchange)
{
    private readonly Worker _w = worker;
    private readonly ClientConnection _client = client;
    private readonly Exchange _x = exchange;

    /// <summary>Writes the head, then body bytes as they arrive; reads more when the buffer is drained.</summary>
    public bool Pump()
    {
        if (!_x.ResponseIov.IsEmpty)
        {
            if (!_client.WriteReady) return false;
            var r = _client.Stream.SendVector(_x.ResponseIov.Current, _x.ResponseIov.Remaining);
            if (r.IsError)
            {
                if (r.IsAgain) _client.WriteReady = false;
                else ClientWriteFailed(r.Errno);
                return _client.State != ClientState.Exchanging;
            }
            _x.ResponseStarted = true;
            _x.HeadWriteSent += r.Value;
            _x.ResponseIov.Advance(r.Value);
            return true;
        }
        var up = _x.Upstream.Connection;
        if (up is null)
        {
            _x.Finish();
            return true;
        }
        bool splice = _x.Location?.Config.Proxy.Splice == true && _client.Transport.CanSplice && up.Transport.CanSplice;
        var outcome = _x.ResponseBody.Pump(up, _w.Slab.Pointer(up.Buffer), _client.BufferSize, _client.Stream, ref _client.WriteReady, splice);
        ApplyBodyVerdicts(outcome, up);
        switch (outcome & BodyOutcome.StepMask)
        {
            case BodyOutcome.Waiting:
                return false;
            case BodyOutcome.Moved:
                return true;
            case BodyOutcome.Finished:
                _x.Finish();
                return true;
            case BodyOutcome.AbortFlushed:
                _x.Abort();
                return true;
            case BodyOutcome.ClientWriteFailed:
                ClientWriteFailed(_x.ResponseBody.Errno);
                return _client.State != ClientState.Exchanging;
            case BodyOutcome.UpstreamClosedEarly:
                _x.Log.Write(LogLevel.Error, _client.Number, $"upstream prematurely closed connection while reading upstream{_x.Context(up.Peer)}");
                _x.Abort();
                return true;
            default:   // SpliceFailed
                int errno = _x.ResponseBody.Errno;
                _x.Log.Write(LogLevel.Error, _client.Number, $"splice() failed ({errno}: {PosixErrors.Describe(errno)}) while reading upstream{_x.Context(up.Peer)}");
                _x.Abort();
                return true;
        }
    }

    /// <summary>What the body's framing says of the two connections, and a malformed body's log line.</summary>
    public void ApplyBodyVerdicts(BodyOutcome outcome, UpstreamConnection up)
    {
        if ((outcome & BodyOutcome.MalformedChunked) != 0)
            _x.Log.Write(LogLevel.Error, _client.Number, $"upstream sent invalid chunked response while reading upstream{_x.Context(up.Peer)}");
        if ((outcome & BodyOutcome.UpstreamNotReusable) != 0) _x.UpstreamReusable = false;
        if ((outcome & BodyOutcome.CloseClient) != 0) _x.KeepClient = false;
    }

    private void ClientWriteFailed(int errno)
    {
        _x.Log.Write(LogLevel.Info, _client.Number, $"writev() failed ({errno}: {PosixErrors.Describe(errno)}) while sending to client{_x.Context()}");
        _x.Abort();
    }
}
