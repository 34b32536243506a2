using RawKeepalive.Loop;
using RawKeepalive.Upstream;

namespace RawKeepalive.Proxy;

/// <summary>An exchange's timeouts, nginx's way: each runs between two successive operations on its
/// side, and is re-armed on progress for whichever side the exchange is waiting on (send_timeout
/// and client_body_timeout on the client's slot; proxy_send_timeout and proxy_read_timeout on the
/// upstream connection's; proxy_connect_timeout is armed when the connect starts).</summary>
public static class ExchangeTimeouts
{
    public static void Arm(Exchange x, TimerWheel timers, long nowMs, bool progressed)
    {
        var up = x.Upstream.Connection;
        var cfg = x.Location?.Config;
        if (cfg is null) return;
        var client = x.Client;
        bool waitClientWrite = (!x.ResponseIov.IsEmpty || up is not null && up.Start < x.ResponseBody.Scan || x.ResponseBody.HasPipedBytes) && !client.WriteReady;
        bool waitClientRead = !x.RequestBody.Complete && !client.ReadReady && (up is null || x.RequestBody.HeadSent && x.RequestBody.Pos == x.RequestBody.Scan);
        if (waitClientWrite) { if (progressed || !timers.IsSet(client.Slot)) timers.Set(client.Slot, nowMs + cfg.SendTimeoutMs); }
        else if (waitClientRead) { if (progressed || !timers.IsSet(client.Slot)) timers.Set(client.Slot, nowMs + cfg.ClientBodyTimeoutMs); }
        else timers.Cancel(client.Slot);

        if (up is null || up.State == UpstreamState.Connecting) return;
        bool waitUpWrite = !x.RequestBody.RequestSent && !up.WriteReady;
        bool waitUpRead = x.RequestBody.HeadSent && !up.ReadReady && !x.ResponseBody.Done && !waitClientWrite;
        if (waitUpWrite) { if (progressed || !timers.IsSet(up.Slot)) timers.Set(up.Slot, nowMs + cfg.Proxy.SendTimeoutMs); }
        else if (waitUpRead) { if (progressed || !timers.IsSet(up.Slot)) timers.Set(up.Slot, nowMs + cfg.Proxy.ReadTimeoutMs); }
        else timers.Cancel(up.Slot);
    }
}
