using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RawKeepalive.Native;

/// <summary>A socket address in the kernel's byte layout (sockaddr_in / sockaddr_in6), built once
/// at config load.</summary>
public sealed class SockAddr
{
    private const ushort AfInet = 2, AfInet6 = 10;

    public byte[] Bytes { get; }
    public IPEndPoint EndPoint { get; }
    public int Family => EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? AfInet6 : AfInet;

    public SockAddr(IPEndPoint ep)
    {
        EndPoint = ep;
        if (ep.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Bytes = new byte[28];
            BitConverter.TryWriteBytes(Bytes.AsSpan(0, 2), AfInet6);
            BinaryPrimitives.WriteUInt16BigEndian(Bytes.AsSpan(2), (ushort)ep.Port);
            ep.Address.TryWriteBytes(Bytes.AsSpan(8, 16), out _);
            BitConverter.TryWriteBytes(Bytes.AsSpan(24, 4), (uint)ep.Address.ScopeId);
        }
        else
        {
            Bytes = new byte[16];
            BitConverter.TryWriteBytes(Bytes.AsSpan(0, 2), AfInet);
            BinaryPrimitives.WriteUInt16BigEndian(Bytes.AsSpan(2), (ushort)ep.Port);
            ep.Address.TryWriteBytes(Bytes.AsSpan(4, 4), out _);
        }
    }

    public override string ToString() => EndPoint.ToString();

    /// <summary>Writes the address (no port) of a kernel sockaddr as text, without allocating:
    /// for $remote_addr. Returns the bytes written.</summary>
    public static int FormatAddress(ReadOnlySpan<byte> sockaddr, Span<byte> dest)
    {
        ushort family = BitConverter.ToUInt16(sockaddr);
        if (family == AfInet)
        {
            int n = 0;
            for (int i = 0; i < 4; i++)
            {
                if (i > 0) dest[n++] = (byte)'.';
                sockaddr[4 + i].TryFormat(dest[n..], out int w);
                n += w;
            }
            return n;
        }
        if (family == AfInet6)
        {
            var addr = new IPAddress(sockaddr.Slice(8, 16));   // rare: IPv6 clients allocate here
            return System.Text.Encoding.ASCII.GetBytes(addr.ToString(), dest);
        }
        return 0;
    }

    public static int Port(ReadOnlySpan<byte> sockaddr) => BinaryPrimitives.ReadUInt16BigEndian(sockaddr.Slice(2));
}
