using System.Runtime.InteropServices;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Process;
using RawKeepalive.Proxy;
using RawKeepalive.Tests.Config;
using RawKeepalive.Tests.Http;
using RawKeepalive.Routing;

namespace RawKeepalive.Tests.Transforms;

/// <summary>A head rewriter's inputs and output as the worker has them: head bytes pinned (the
/// iovecs point into them), the iovec array in native memory, and the gather list read back as
/// the one string a writev() would send.</summary>
internal sealed unsafe class GatherBuffer : IDisposable
{
    public const int Capacity = 128;
    private readonly Iovec* _items = (Iovec*)NativeMemory.AllocZeroed(Capacity, (nuint)sizeof(Iovec));
    private byte[] _head = [];
    public IovecList List;

    /// <summary>Pins <paramref name="text"/> as the receive buffer and starts an empty gather list.</summary>
    public byte* Load(string text)
    {
        _head = PinnedBytes.From(HttpText.Bytes(text));
        List.Init(_items, Capacity);
        return PinnedBytes.Address(_head);
    }

    public RequestHead ParseRequest(string text)
    {
        var head = new RequestHead();
        Load(text);
        Assert.That(RequestParser.Parse(_head, head), Is.EqualTo(ParseResult.Complete), text);
        return head;
    }

    public ResponseHead ParseResponse(string text)
    {
        var head = new ResponseHead();
        Load(text);
        Assert.That(ResponseParser.Parse(_head, head), Is.EqualTo(ParseResult.Complete), text);
        return head;
    }

    public byte* Head => PinnedBytes.Address(_head);

    /// <summary>The bytes the gather list sends, in order.</summary>
    public string Sent()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < List.Remaining; i++)
            sb.Append(Encoding.Latin1.GetString(List.Current[i].Base, (int)List.Current[i].Length));
        return sb.ToString();
    }

    public void Dispose() => NativeMemory.Free(_items);
}

/// <summary>A location as the worker builds it: config text loaded, upstream groups made, the server's
/// locations matched against a path.</summary>
internal static class TestLocations
{
    public static LocationRuntime Matching(string path, string locations)
    {
        var config = ConfigText.LoadHttp(
            "upstream backend { server 127.0.0.1:9; }\nserver {\nlisten 127.0.0.1:8080;\n" + locations + "\n}");
        var server = new ServerRuntime(config.Http.Servers.Single(), UpstreamGroups.For(config));
        return server.Match(Encoding.ASCII.GetBytes(path)) ?? throw new AssertionException($"no location matches {path}");
    }
}

/// <summary>One line of each header that neither direction forwards (HeaderKinds.IsHopByHop).</summary>
internal static class HopByHopLines
{
    public static readonly string[] All =
    [
        "Connection: keep-alive",
        "Keep-Alive: timeout=5",
        "Proxy-Connection: keep-alive",
        "TE: trailers",
        "Trailer: X-Checksum",
        "Upgrade: websocket",
    ];
}
