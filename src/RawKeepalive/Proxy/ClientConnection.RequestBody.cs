using RawKeepalive.Observability;

namespace RawKeepalive.Proxy;

/// <summary>This file: the glue to the request body's relay (<see cref="RequestBodyRelay"/>): it is set
/// up with the route, pumped with the exchange, and what it reports is applied here (the client
/// buffer's head offsets, nginx's log lines, the answers to a malformed or too large body, a failed
/// write upstream, a client gone early).</summary>
public sealed unsafe partial class ClientConnection
{
    private readonly RequestBodyRelay _reqBody;

    /// <summary>Sets up body framing and scans what is already buffered. False when the request was answered.</summary>
    private bool StartRequestBody()
    {
        var outcome = _reqBody.Start(_req, _location?.Config.ClientMaxBodySize ?? 0, BufferPointer, _end);
        if (outcome == RequestBodyOutcome.Waiting) return true;
        RejectBody(outcome);
        return false;
    }

    /// <summary>A body found bad while it streams (logged here): answered if the client has seen no
    /// response yet (the upstream connection, which got part of it, is closed), else the exchange is aborted.</summary>
    private void RejectBody(RequestBodyOutcome step)
    {
        int status;
        if (step == RequestBodyOutcome.InvalidChunked)
        {
            _w.Log.Write(LogLevel.Info, Number, $"client sent invalid chunked body{Context()}");
            status = 400;
        }
        else
        {
            _w.Log.Write(LogLevel.Error, Number, $"client intended to send too large chunked body: {_reqBody.AnnouncedBytes}+ bytes{Context()}");
            status = 413;
        }
        if (_respStarted) AbortExchange();
        else RespondLocal(status, close: true);
    }

    /// <summary>Sends the head, then streams the body; true when something moved.</summary>
    private bool PumpRequest()
    {
        var up = _up!;
        var outcome = _reqBody.Pump(up, BufferPointer, BufferSize, ref _end, Fd, ref ReadReady);
        if ((outcome & RequestBodyOutcome.HeadDropped) != 0)
        {
            _start = _headStart = 0;   // the buffer started over: the head is gone from it
            _headBuffered = false;
        }
        switch (outcome & RequestBodyOutcome.StepMask)
        {
            case RequestBodyOutcome.Waiting:
                return false;
            case RequestBodyOutcome.Moved:
                return true;
            case RequestBodyOutcome.UpstreamWriteFailed:
                UpstreamFailed(_reqBody.Errno, _reqBody.FailedCall, "sending request to");
                return _up != up;
            case RequestBodyOutcome.ClientClosed:
                _w.Log.Write(LogLevel.Info, Number, $"client prematurely closed connection while sending request body{Context()}");
                AbortExchange();
                return true;
            default:   // InvalidChunked, TooLarge: the state moved either way
                RejectBody(outcome & RequestBodyOutcome.StepMask);
                return true;
        }
    }

    /// <summary>A chunked body for an HTTP/1.0 upstream is read whole and de-chunked first, bounded by client_max_body_size.</summary>
    private bool BufferChunkedBody()
    {
        switch (_reqBody.BufferChunked(BufferPointer, BufferSize, ref _end, Fd, ref ReadReady))
        {
            case RequestBodyOutcome.Buffered:
                ConnectUpstream(fresh: false);
                return true;
            case RequestBodyOutcome.InvalidChunked:
                RespondLocal(400, close: true);
                return true;
            case RequestBodyOutcome.TooLarge:
                _w.Log.Write(LogLevel.Error, Number, $"client intended to send too large chunked body{Context()}");
                RespondLocal(413, close: true);
                return true;
            case RequestBodyOutcome.ClientClosed:
                Close();
                return false;
            default:   // Waiting
                return false;
        }
    }
}
