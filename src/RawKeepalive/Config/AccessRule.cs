using System.Net;
using System.Net.Sockets;

namespace RawKeepalive.Config;

/// <summary>One allow or deny line: an address with a prefix length, or "all". Matched against the
/// client's sockaddr bytes, so a check allocates nothing.</summary>
public sealed class AccessRule
{
    public bool Allow { get; }
    /// <summary>2 (AF_INET), 10 (AF_INET6), or 0 for "all".</summary>
    public ushort Family { get; }
    public byte[] Address { get; } = [];
    public int PrefixBits { get; }

    private AccessRule(bool allow, ushort family, byte[] address, int prefixBits)
    {
        Allow = allow;
        Family = family;
        Address = address;
        PrefixBits = prefixBits;
    }

    public static AccessRule Parse(ConfigDirective d)
    {
        bool allow = d.Name == "allow";
        string arg = d.Args[0];
        if (arg == "all") return new AccessRule(allow, 0, [], 0);
        if (arg.StartsWith("unix:", StringComparison.Ordinal)) throw DirectiveArgs.ParameterNotSupported(d, "unix:");
        string addr = arg;
        int bits = -1;
        int slash = arg.IndexOf('/');
        if (slash >= 0)
        {
            addr = arg[..slash];
            if (!int.TryParse(arg[(slash + 1)..], System.Globalization.NumberStyles.None, null, out bits))
                throw ConfigError.At($"invalid parameter \"{arg}\"", d);
        }
        if (!IPAddress.TryParse(addr, out var ip)) throw ConfigError.At($"invalid parameter \"{arg}\"", d);
        var bytes = ip.GetAddressBytes();
        int max = bytes.Length * 8;
        if (bits < 0) bits = max;
        if (bits > max) throw ConfigError.At($"invalid parameter \"{arg}\"", d);
        return new AccessRule(allow, ip.AddressFamily == AddressFamily.InterNetworkV6 ? (ushort)10 : (ushort)2, bytes, bits);
    }

    /// <summary>Whether this rule matches a peer sockaddr (family at 0, IPv4 address at 4, IPv6 at 8).</summary>
    public bool Matches(ReadOnlySpan<byte> sockaddr)
    {
        if (Family == 0) return true;
        if (BitConverter.ToUInt16(sockaddr) != Family) return false;
        var peer = sockaddr.Slice(Family == 2 ? 4 : 8, Address.Length);
        int full = PrefixBits / 8, rest = PrefixBits % 8;
        if (!peer[..full].SequenceEqual(Address.AsSpan(0, full))) return false;
        if (rest == 0) return true;
        int mask = 0xff << (8 - rest) & 0xff;
        return (peer[full] & mask) == (Address[full] & mask);
    }

    /// <summary>nginx's rule: the first matching line decides; no match allows.</summary>
    public static bool Allows(IReadOnlyList<AccessRule> rules, ReadOnlySpan<byte> sockaddr)
    {
        for (int i = 0; i < rules.Count; i++)
            if (rules[i].Matches(sockaddr)) return rules[i].Allow;
        return true;
    }
}
