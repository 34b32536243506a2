using System.Net;
using System.Net.Sockets;

namespace RawKeepalive.Config;

/// <summary>A "host[:port]" as written in listen, server and proxy_pass: <see cref="Host"/> keeps the
/// brackets of an IPv6 literal ("[::1]"), <see cref="PortText"/> is null when no port was written.</summary>
internal readonly record struct HostPort(string Host, int Port, string? PortText)
{
    public bool HasPort => PortText is not null;

    /// <summary>Splits like ngx_parse_inet_url; <paramref name="error"/> is nginx's u.err ("invalid port", "no host").</summary>
    public static bool TryParse(string text, int defaultPort, out HostPort result, out string error)
    {
        result = default;
        error = "";
        string host = text;
        string? portText = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0) { error = "invalid host"; return false; }
            host = text[..(close + 1)];
            string rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':') { error = "invalid host"; return false; }
                portText = rest[1..];
            }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon >= 0)
            {
                if (text.IndexOf(':') != colon) { error = "invalid host"; return false; }   // a bare IPv6 needs brackets
                host = text[..colon];
                portText = text[(colon + 1)..];
            }
        }
        if (host.Length == 0) { error = "no host"; return false; }
        int port = defaultPort;
        if (portText is not null)
        {
            if (!Units.TryParseDigits(portText, out long p) || p is < 1 or > 65535) { error = "invalid port"; return false; }
            port = (int)p;
        }
        result = new HostPort(host, port, portText);
        return true;
    }

    /// <summary>The addresses this host names: an IP literal as is, "*" as 0.0.0.0, a name through DNS
    /// (every IPv4 and IPv6 address, in the resolver's order). Empty when the name does not resolve.</summary>
    public IPAddress[] Resolve()
    {
        if (Host == "*") return [IPAddress.Any];
        string bare = Host.StartsWith('[') ? Host[1..^1] : Host;
        // IPAddress.TryParse also takes "10.1" and "1234"; nginx takes only a dotted quad or a bracketed IPv6.
        bool v6 = Host.StartsWith('[');
        if (IPAddress.TryParse(bare, out var literal) && (v6 ? literal.AddressFamily == AddressFamily.InterNetworkV6 : bare.Count(c => c == '.') == 3 && literal.AddressFamily == AddressFamily.InterNetwork))
            return [literal];
        if (v6) return [];
        try
        {
            return [.. Dns.GetHostAddresses(bare)
                .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .Distinct()];
        }
        catch (SocketException) { return []; }
        catch (ArgumentException) { return []; }
    }

    public IPEndPoint[] ResolveEndPoints()
    {
        int port = Port;
        return [.. Resolve().Select(a => new IPEndPoint(a, port))];
    }
}
