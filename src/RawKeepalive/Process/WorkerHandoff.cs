using RawKeepalive.Config;
using RawKeepalive.Native;

namespace RawKeepalive.Process;

/// <summary>What the master hands a worker it starts, written to the worker's stdin: the parsed
/// config (the directive tree with includes spliced in and FILE:LINE kept), so a worker builds
/// exactly what the master validated and never re-reads a file that may have changed since; its
/// slot; and the inherited descriptors (listen sockets by address, the counters segment). The
/// master then keeps the pipe open without writing again: its end of file tells the worker that
/// the master is gone.</summary>
public sealed record WorkerHandoff(
    string ConfigFile,
    string Prefix,
    string DefaultErrorLog,   // -e, "" when none: the error log when the config names none
    IReadOnlyList<ConfigDirective> Tree,
    int Slot,
    int Generation,
    int CounterSlot,
    int CounterFd,
    IReadOnlyDictionary<string, int> ListenFds)
{
    private const int Magic = 0x524b5731;   // "RKW1"

    public byte[] Serialize()
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write(0);   // length, filled in below
        w.Write(Magic);
        w.Write(ConfigFile);
        w.Write(Prefix);
        w.Write(DefaultErrorLog);
        w.Write(Slot);
        w.Write(Generation);
        w.Write(CounterSlot);
        w.Write(CounterFd);
        w.Write(ListenFds.Count);
        foreach (var (key, fd) in ListenFds)
        {
            w.Write(key);
            w.Write(fd);
        }
        WriteTree(w, Tree);
        w.Flush();
        var bytes = ms.ToArray();
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 4), bytes.Length - 4);
        return bytes;
    }

    /// <summary>Reads the hand-off from <paramref name="fd"/> (blocking), or throws when it is cut short.</summary>
    public static unsafe WorkerHandoff Read(int fd)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(fd, header);
        int length = BitConverter.ToInt32(header);
        if (length is <= 0 or > 64 << 20) throw new InvalidDataException($"bad hand-off length {length}");
        var payload = new byte[length];
        ReadExactly(fd, payload);
        var r = new BinaryReader(new MemoryStream(payload));
        if (r.ReadInt32() != Magic) throw new InvalidDataException("not a worker hand-off");
        string file = r.ReadString(), prefix = r.ReadString(), defaultErrorLog = r.ReadString();
        int slot = r.ReadInt32(), generation = r.ReadInt32(), counterSlot = r.ReadInt32(), counterFd = r.ReadInt32();
        int n = r.ReadInt32();
        var fds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++) fds[r.ReadString()] = r.ReadInt32();
        var tree = ReadTree(r);
        return new WorkerHandoff(file, prefix, defaultErrorLog, tree, slot, generation, counterSlot, counterFd, fds);
    }

    private static unsafe void ReadExactly(int fd, Span<byte> into)
    {
        fixed (byte* p = into)
        {
            int done = 0;
            while (done < into.Length)
            {
                var got = ProcessInterop.Read(fd, p + done, into.Length - done);
                if (got.IsError && got.Errno == PosixErrors.EINTR) continue;
                if (got.IsError || got.Value == 0) throw new EndOfStreamException($"hand-off cut short after {done} of {into.Length} bytes ({got})");
                done += (int)got.Value;
            }
        }
    }

    private static void WriteTree(BinaryWriter w, IReadOnlyList<ConfigDirective> list)
    {
        w.Write(list.Count);
        foreach (var d in list)
        {
            w.Write(d.Name);
            w.Write(d.File);
            w.Write(d.Line);
            w.Write(d.Args.Count);
            foreach (var a in d.Args) w.Write(a);
            w.Write(d.Block is not null);
            if (d.Block is not null) WriteTree(w, d.Block);
        }
    }

    private static List<ConfigDirective> ReadTree(BinaryReader r)
    {
        int n = r.ReadInt32();
        var list = new List<ConfigDirective>(n);
        for (int i = 0; i < n; i++)
        {
            string name = r.ReadString(), file = r.ReadString();
            int line = r.ReadInt32();
            var args = new string[r.ReadInt32()];
            for (int a = 0; a < args.Length; a++) args[a] = r.ReadString();
            var block = r.ReadBoolean() ? ReadTree(r) : null;
            list.Add(new ConfigDirective(name, args, file, line, block));
        }
        return list;
    }
}
