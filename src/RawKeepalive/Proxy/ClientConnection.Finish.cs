using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Transforms;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>This file: the end of an exchange, clean or not (release of the upstream connection and
/// the scratch buffer, keep-alive or close), its timeouts, and connect completion.</summary>
public sealed unsafe partial class ClientConnection
{
    /// <summary>The response is out: the upstream connection goes back to its pool when the
    /// exchange was clean, and the client waits for its next request or closes.</summary>
    private void FinishExchange()
    {
        if (_up is not null) ReleaseUpstream(_upstreamReusable && _reqBody.FullySent && _up.End == _body.Scan);
        ReleaseScratch();
        _requests++;
        if (!_keepClient || !_reqBody.RequestSent && _reqBody.Mode != RequestBodyMode.None && !_reqBody.SkipUnsent())
        {
            bool clientMaySend = ReadReady || _reqBody.Mode != RequestBodyMode.None && !_reqBody.Complete || _end > _reqBody.Scan;
            if (clientMaySend) LingerThenClose();   // don't let the close reset what it is still sending
            else Close();
            return;
        }
        _start = _reqBody.Scan > _reqBody.Pos ? _reqBody.Scan : _reqBody.Pos;
        WaitForNextRequest();
    }

    /// <summary>Ends the exchange's hold on its upstream connection: back to the pool when the exchange
    /// left it reusable and its limits allow, else closed with <paramref name="failure"/> (when not
    /// <paramref name="reusable"/>) or the limit that retired it.</summary>
    private void ReleaseUpstream(bool reusable, UpstreamCloseReason failure = UpstreamCloseReason.NotReusable)
    {
        var up = _up!;
        _up = null;
        _body.ReturnPipe();   // the body was spliced from this connection: the exchange is over
        _w.Upstreams.Release(up, reusable, failure, _w.Stopping, _w.NowMs);
    }

    private void ReleaseScratch()
    {
        ReturnLarge(ref _largeRequestGen);
        ReturnLarge(ref _largeResponseGen);
        if (_scratch < 0) return;
        _w.Slab.Return(_scratch);
        _scratch = -1;
    }

    /// <summary>Something went wrong after the client saw part of the response (or can't be told
    /// cleanly): close both sides, never let a partial response look complete.</summary>
    private void AbortExchange() => Close();

    private void FailBeforeResponse(int status)
    {
        ReleaseUpstream(reusable: false, UpstreamCloseReason.ErrorMidExchange);
        if (_respStarted) AbortExchange();
        else RespondLocal(status, close: !_reqBody.Complete);
    }

    private void OnClientTimeout()
    {
        string phase = _respHeadParsed ? "sending to client" : "reading client request body";
        _w.Log.Write(LogLevel.Info, Number, $"client timed out (110: Connection timed out) while {phase}{Context()}");
        AbortExchange();
    }

    /// <summary>The upstream connection's timer fired: connect, send or read timeout.</summary>
    public void OnUpstreamTimeout()
    {
        var up = _up!;
        string phase = up.State == UpstreamState.Connecting ? "connecting to" : !_reqBody.RequestSent ? "sending request to" : "reading response header from";
        if (_respHeadParsed)
        {
            _w.Log.Write(LogLevel.Error, Number, $"upstream timed out (110: Connection timed out) while reading upstream{Context(up.Peer)}");
            AbortExchange();
            return;
        }
        UpstreamFailed(PosixErrors.ETIMEDOUT, "upstream timed out", phase, timedOut: true);
        Advance();
    }

    /// <summary>The upstream connection finished connecting (or failed to).</summary>
    public void OnUpstreamConnected(int error)
    {
        if (error != 0) UpstreamFailed(error, "connect() failed", "connecting to");
        else
        {
            _up!.State = UpstreamState.Active;
            _w.Timers.Cancel(_up.Slot);
        }
        Advance();
    }

    /// <summary>nginx's timeouts run between two successive operations: re-armed on progress, for
    /// whichever side the exchange is waiting on.</summary>
    private void ArmExchangeTimers(bool progressed)
    {
        var up = _up;
        var cfg = _location?.Config;
        if (cfg is null) return;
        bool waitClientWrite = (!_respIov.IsEmpty || up is not null && up.Start < _body.Scan || _body.HasPipedBytes) && !WriteReady;
        bool waitClientRead = !_reqBody.Complete && !ReadReady && (up is null || _reqBody.HeadSent && _reqBody.Pos == _reqBody.Scan);
        if (waitClientWrite) { if (progressed || !_w.Timers.IsSet(Slot)) _w.Timers.Set(Slot, _w.NowMs + cfg.SendTimeoutMs); }
        else if (waitClientRead) { if (progressed || !_w.Timers.IsSet(Slot)) _w.Timers.Set(Slot, _w.NowMs + cfg.ClientBodyTimeoutMs); }
        else _w.Timers.Cancel(Slot);

        if (up is null || up.State == UpstreamState.Connecting) return;
        bool waitUpWrite = !_reqBody.RequestSent && !up.WriteReady;
        bool waitUpRead = _reqBody.HeadSent && !up.ReadReady && !_body.Done && !waitClientWrite;
        if (waitUpWrite) { if (progressed || !_w.Timers.IsSet(up.Slot)) _w.Timers.Set(up.Slot, _w.NowMs + cfg.ProxySendTimeoutMs); }
        else if (waitUpRead) { if (progressed || !_w.Timers.IsSet(up.Slot)) _w.Timers.Set(up.Slot, _w.NowMs + cfg.ProxyReadTimeoutMs); }
        else _w.Timers.Cancel(up.Slot);
    }
}
