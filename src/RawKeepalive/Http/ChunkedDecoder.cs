namespace RawKeepalive.Http;

public enum ChunkStatus : byte { NeedMore, Data, Done, Error }

/// <summary>Incremental decoder of a chunked body (RFC 9112 7.1) that may arrive in any number of
/// pieces. It finds where the body ends (for pass-through) and where chunk data lies (for
/// de-chunking), without copying.</summary>
public struct ChunkedDecoder
{
    public void Reset() => throw new NotImplementedException();

    /// <summary>True once the last chunk, the trailer section and the final CRLF were consumed.</summary>
    public readonly bool IsDone => throw new NotImplementedException();

    /// <summary>Decodes from the start of <paramref name="input"/>, stopping at the first run of chunk data.
    /// Data: input[dataStart..dataStart+dataLength) is chunk data and consumed == dataStart + dataLength.
    /// NeedMore: all of input was consumed (framing only, no data). Done: the body ended and
    /// consumed counts the bytes through its final CRLF (bytes after it belong to the next message).
    /// Error: malformed framing.</summary>
    public ChunkStatus Decode(ReadOnlySpan<byte> input, out int consumed, out int dataStart, out int dataLength) => throw new NotImplementedException();

    /// <summary>Runs Decode over all of input, ignoring where the data is: for forwarding a chunked body
    /// unchanged. Returns Done (consumed = bytes through the end of the body), NeedMore (consumed = input.Length)
    /// or Error.</summary>
    public ChunkStatus Skip(ReadOnlySpan<byte> input, out int consumed) => throw new NotImplementedException();
}
