using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace RawKeepalive.Native;

/// <summary>
/// Which socket of a SO_REUSEPORT group a new connection goes to: a classic BPF program
/// (SO_ATTACH_REUSEPORT_CBPF) returning a random index below <c>sockets</c>. The index is the
/// socket's place in the group, which is the order the sockets started listening in (a closed one
/// is replaced by the last, so closing from the end keeps the order). Steering to the first N
/// lets the sockets after them be emptied and closed without resetting a queued connection.
/// </summary>
public static unsafe class ReusePortSteering
{
    private const int SO_ATTACH_REUSEPORT_CBPF = 51;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFilter
    {
        public ushort Code;
        public byte Jt, Jf;
        public uint K;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Length;
        public SockFilter* Filter;
    }

    private const ushort LdAbsWord = 0x20;       // BPF_LD | BPF_W | BPF_ABS
    private const ushort ModConstant = 0x94;     // BPF_ALU | BPF_MOD | BPF_K
    private const ushort ReturnA = 0x16;         // BPF_RET | BPF_A
    private const uint AncillaryRandom = 0xFFFFF000 + 56;   // SKF_AD_OFF + SKF_AD_RANDOM

    /// <summary>New connections on <paramref name="fd"/>'s group go only to its first
    /// <paramref name="sockets"/> sockets.</summary>
    public static PosixResult ToFirst(int fd, int sockets)
    {
        SockFilter* program = stackalloc SockFilter[3];
        program[0] = new SockFilter { Code = LdAbsWord, K = AncillaryRandom };
        program[1] = new SockFilter { Code = ModConstant, K = (uint)sockets };
        program[2] = new SockFilter { Code = ReturnA };
        var fprog = new SockFprog { Length = 3, Filter = program };
        return PosixResult.From(setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, (socklen_t)sizeof(SockFprog)));
    }
}
