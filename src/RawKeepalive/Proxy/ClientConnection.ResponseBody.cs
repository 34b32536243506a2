using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>This file: the glue to the response body's relay (<see cref="ResponseBodyRelay"/>): the head's
/// gather list goes out first, then the relay moves the body, and what it reports is applied here (the
/// upstream's reuse, the client's keep-alive, nginx's log lines, the end of the exchange).</summary>
public sealed unsafe partial class ClientConnection
{
    private readonly ResponseBodyRelay _body;

    /// <summary>Writes the head, then body bytes as they arrive; reads more when the buffer is drained.</summary>
    private bool PumpResponseOut()
    {
        if (!_respIov.IsEmpty)
        {
            if (!WriteReady) return false;
            if (!Written(SocketInterop.SendVector(Fd, _respIov.Current, _respIov.Remaining), out long sent)) return State != ClientState.Exchanging;
            _respStarted = true;
            _respIov.Advance(sent);
            return true;
        }
        var up = _up;
        if (up is null)
        {
            FinishExchange();
            return true;
        }
        var outcome = _body.Pump(up, _w.Slab.Pointer(up.Buffer), BufferSize, Fd, ref WriteReady, _location?.Config.ProxySplice == true);
        ApplyBodyVerdicts(outcome, up);
        switch (outcome & BodyOutcome.StepMask)
        {
            case BodyOutcome.Waiting:
                return false;
            case BodyOutcome.Moved:
                return true;
            case BodyOutcome.Finished:
                FinishExchange();
                return true;
            case BodyOutcome.AbortFlushed:
                AbortExchange();
                return true;
            case BodyOutcome.ClientWriteFailed:
                ClientWriteFailed(_body.Errno);
                return State != ClientState.Exchanging;
            case BodyOutcome.UpstreamClosedEarly:
                _w.Log.Write(LogLevel.Error, Number, $"upstream prematurely closed connection while reading upstream{Context(up.Peer)}");
                AbortExchange();
                return true;
            default:   // SpliceFailed
                int errno = _body.Errno;
                _w.Log.Write(LogLevel.Error, Number, $"splice() failed ({errno}: {PosixErrors.Describe(errno)}) while reading upstream{Context(up.Peer)}");
                AbortExchange();
                return true;
        }
    }

    /// <summary>What the body's framing says of the two connections, and a malformed body's log line.</summary>
    private void ApplyBodyVerdicts(BodyOutcome outcome, UpstreamConnection up)
    {
        if ((outcome & BodyOutcome.MalformedChunked) != 0)
            _w.Log.Write(LogLevel.Error, Number, $"upstream sent invalid chunked response while reading upstream{Context(up.Peer)}");
        if ((outcome & BodyOutcome.UpstreamNotReusable) != 0) _upstreamReusable = false;
        if ((outcome & BodyOutcome.CloseClient) != 0) _keepClient = false;
    }

    /// <summary>The outcome of a write of the head to the client: true with the bytes written; false when
    /// the socket is full (write readiness cleared) or the client is gone (the exchange is aborted).</summary>
    private bool Written(PosixResult r, out long written)
    {
        written = r.Value;
        if (!r.IsError) return true;
        if (r.IsAgain) WriteReady = false;
        else ClientWriteFailed(r.Errno);
        return false;
    }

    private void ClientWriteFailed(int errno)
    {
        _w.Log.Write(LogLevel.Info, Number, $"writev() failed ({errno}: {PosixErrors.Describe(errno)}) while sending to client{Context()}");
        AbortExchange();
    }
}
