using RawKeepalive.Config;
using RawKeepalive.Native;
using RawKeepalive.Transforms;

namespace RawKeepalive.Observability;

/// <summary>One syslog destination (ngx_syslog_peer_t): a connected non-blocking UDP socket, opened on
/// the first send and again after a failed one, and nginx's RFC 3164 header
/// "&lt;PRI&gt;MMM dd HH:mm:ss hostname tag: " (PRI = facility * 8 + severity; no hostname with
/// <c>nohostname</c>). A datagram that cannot be sent at once is dropped, never waited for.</summary>
public sealed unsafe class SyslogSender(SyslogTarget target) : IDisposable
{
    /// <summary>The longest header: "&lt;191&gt;", the time, a host name of up to 255 bytes, a 32-byte tag.</summary>
    public const int MaxHeader = 5 + 15 + 1 + 255 + 1 + 32 + 2;

    private static readonly byte[] HostName = System.Text.Encoding.ASCII.GetBytes(Environment.MachineName.ToLowerInvariant());

    private readonly SockAddr _server = new(target.Server);
    private readonly byte[] _tag = System.Text.Encoding.ASCII.GetBytes(target.Tag);
    private int _fd = -1;

    public SyslogTarget Target { get; } = target;

    /// <summary>Datagrams not sent (a full socket buffer, no listener, a failed socket), since start.</summary>
    public long Failed { get; private set; }

    /// <summary>Writes the header for <paramref name="severity"/> (0 emerg … 7 debug); its length.</summary>
    public int WriteHeader(Span<byte> dest, int severity)
    {
        int n = 0;
        dest[n++] = (byte)'<';
        (Target.Facility * 8 + severity).TryFormat(dest[n..], out int w);
        n += w;
        dest[n++] = (byte)'>';
        n += TimeVariables.FormatSyslog(dest[n..]);
        dest[n++] = (byte)' ';
        if (!Target.NoHostname)
        {
            int host = Math.Min(HostName.Length, 255);
            HostName.AsSpan(0, host).CopyTo(dest[n..]);
            n += host;
            dest[n++] = (byte)' ';
        }
        _tag.CopyTo(dest[n..]);
        n += _tag.Length;
        dest[n++] = (byte)':';
        dest[n++] = (byte)' ';
        return n;
    }

    /// <summary>Sends one datagram; the errno when it was not sent (0 when it was).</summary>
    public int Send(ReadOnlySpan<byte> datagram)
    {
        if (_fd < 0)
        {
            var open = LogInterop.OpenDatagram(_server);
            if (open.IsError)
            {
                Failed++;
                return open.Errno;
            }
            _fd = (int)open.Value;
        }
        PosixResult r;
        fixed (byte* p = datagram) r = SocketInterop.Send(_fd, p, datagram.Length);
        if (!r.IsError) return 0;
        Failed++;
        // As ngx_syslog_send: a socket that failed is closed and made anew for the next line (an ICMP
        // "port unreachable" leaves ECONNREFUSED pending on it); a full buffer only drops this one.
        if (!r.IsAgain) Close();
        return r.Errno;
    }

    private void Close()
    {
        if (_fd < 0) return;
        LogInterop.Close(_fd);
        _fd = -1;
    }

    public void Dispose() => Close();
}
