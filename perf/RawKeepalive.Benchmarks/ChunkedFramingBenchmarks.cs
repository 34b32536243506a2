using System.Text;
using BenchmarkDotNet.Attributes;
using RawKeepalive.Http;

namespace RawKeepalive.Benchmarks;

/// <summary>Chunked framing as the proxy forwards it unchanged (ChunkedDecoder.Skip, the passthrough
/// path): many small chunks, where the per-byte framing state machine dominates, and a body with
/// chunk extensions and trailer fields. HttpParserBenchmarks.Chunked64KiB covers large chunks with
/// Decode. Hot path: must allocate 0 B.</summary>
[MemoryDiagnoser]
public class ChunkedFramingBenchmarks
{
    private byte[] _small = [], _extensions = [];

    [GlobalSetup]
    public void Setup()
    {
        // 64 KiB of data in 64-byte chunks: 1,024 size lines.
        var small = new StringBuilder();
        for (int i = 0; i < 1024; i++) small.Append("40\r\n").Append('s', 64).Append("\r\n");
        _small = Encoding.ASCII.GetBytes(small.Append("0\r\n\r\n").ToString());

        var ext = new StringBuilder();
        for (int i = 0; i < 64; i++) ext.Append("100;name=\"value\";n2=v2\r\n").Append('e', 256).Append("\r\n");
        _extensions = Encoding.ASCII.GetBytes(ext.Append("0\r\nX-Checksum: abc123\r\nX-Trailer-Two: yes\r\n\r\n").ToString());
    }

    [Benchmark(Description = "skip 64 KiB in 64 B chunks")]
    public int SmallChunks()
    {
        var decoder = new ChunkedDecoder();
        decoder.Skip(_small, out int consumed);
        return consumed;
    }

    [Benchmark(Description = "skip 64 B chunks, 1,500 B reads")]
    public int SmallChunksSplitReads()
    {
        // As a body arrives in MTU-sized reads: the framing state carries across calls.
        var decoder = new ChunkedDecoder();
        ReadOnlySpan<byte> input = _small;
        int total = 0;
        while (input.Length > 0)
        {
            var read = input.Slice(0, Math.Min(1500, input.Length));
            if (decoder.Skip(read, out int consumed) != ChunkStatus.NeedMore) return total + consumed;
            total += consumed;
            input = input.Slice(consumed);
        }
        return total;
    }

    [Benchmark(Description = "skip 16 KiB, extensions + trailers")]
    public int ExtensionsAndTrailers()
    {
        var decoder = new ChunkedDecoder();
        decoder.Skip(_extensions, out int consumed);
        return consumed;
    }
}
