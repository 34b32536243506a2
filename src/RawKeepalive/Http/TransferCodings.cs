using System.Text;

namespace RawKeepalive.Http;

/// <summary>Where "chunked" stands in the Transfer-Encoding codings seen so far (RFC 9112 6.1), over
/// all Transfer-Encoding lines of a head taken as one list.</summary>
internal enum CodingState : byte
{
    /// <summary>No chunked coding yet.</summary>
    NoChunked,
    /// <summary>chunked is the final coding: the body is chunk-framed.</summary>
    ChunkedLast,
    /// <summary>chunked was followed by another coding: the length cannot be known from the framing.</summary>
    ChunkedNotLast,
    /// <summary>chunked applied twice (forbidden to senders) or a coding that is not a token.</summary>
    Malformed,
}

internal static class TransferCodings
{
    /// <param name="otherCodings">Set when a coding other than chunked appears (gzip, chunked): the
    /// framing is still chunked, but the content is not what the chunks carry.</param>
    public static void Accumulate(ReadOnlySpan<byte> value, ref CodingState state, ref bool otherCodings)
    {
        var list = new ListElements(value);
        while (list.MoveNext(out var coding))
        {
            if (coding.IsEmpty) continue;
            // transfer-coding = token *( OWS ";" OWS transfer-parameter ): only the name matters here.
            int semi = coding.IndexOf((byte)';');
            var name = semi < 0 ? coding : HttpChars.TrimOws(coding.Slice(0, semi));
            if (!HttpChars.IsToken(name)) { state = CodingState.Malformed; return; }
            bool chunked = semi < 0 && Ascii.EqualsIgnoreCase(name, "chunked"u8);
            otherCodings |= !chunked;
            state = state switch
            {
                CodingState.NoChunked => chunked ? CodingState.ChunkedLast : CodingState.NoChunked,
                CodingState.ChunkedLast or CodingState.ChunkedNotLast => chunked ? CodingState.Malformed : CodingState.ChunkedNotLast,
                _ => CodingState.Malformed,
            };
        }
    }

    /// <summary>The whole value of one Transfer-Encoding line is exactly "chunked" (any case): the only
    /// coding nginx (1.23+) accepts from an upstream. A list, a parameter or another coding is not.</summary>
    public static bool IsChunkedOnly(ReadOnlySpan<byte> value) => Ascii.EqualsIgnoreCase(value, "chunked"u8);
}
