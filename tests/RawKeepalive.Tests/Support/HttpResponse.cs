using System.Text;

namespace RawKeepalive.Tests.Support;

/// <summary>One response as the raw client read it off the wire.</summary>
public sealed class HttpResponse
{
    public required string Version { get; init; }
    public required int Status { get; init; }
    public required string Reason { get; init; }
    public required HeaderList Headers { get; init; }

    /// <summary>The status line and header lines, CRLF-terminated, as received.</summary>
    public required string Head { get; init; }

    /// <summary>The body after transfer decoding.</summary>
    public byte[] Body { get; init; } = [];

    /// <summary>The body bytes as sent (with chunk framing when <see cref="Chunked"/>).</summary>
    public byte[] RawBody { get; init; } = [];

    public bool Chunked { get; init; }

    /// <summary>The body was delimited by the peer closing the connection, so the connection is gone.</summary>
    public bool ConnectionClosedAfter { get; init; }

    /// <summary>1xx interim responses (100 Continue, 103 Early Hints) received before this one.</summary>
    public IReadOnlyList<HttpResponse> Interim { get; init; } = [];

    public string BodyText => Encoding.Latin1.GetString(Body);

    public string? Get(string name) => Headers.Get(name);

    /// <summary>Whether the client may send another request on this connection, by HTTP's rules.</summary>
    public bool KeepAlive =>
        !ConnectionClosedAfter
        && !Headers.HasToken("Connection", "close")
        && (Version == "HTTP/1.1" || Headers.HasToken("Connection", "keep-alive"));

    public int HeaderInt(string name) =>
        int.TryParse(Get(name), out int value) ? value : throw new InvalidDataException($"no integer header {name} in:\n{Head}");

    public override string ToString() => $"{Head}[{Body.Length} body bytes{(ConnectionClosedAfter ? ", closed" : "")}]";
}
