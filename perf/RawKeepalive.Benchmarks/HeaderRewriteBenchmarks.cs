using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Attributes;
using RawKeepalive.Config;
using RawKeepalive.Http;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Process;
using RawKeepalive.Proxy;
using RawKeepalive.Routing;
using RawKeepalive.Transforms;

namespace RawKeepalive.Benchmarks;

/// <summary>Rewriting a parsed head into iovecs, the step between parsing and the one writev() on
/// the worker's hot path; MemoryDiagnoser must show 0 B. Heads are parsed once in setup, so each
/// operation is the rewrite alone (parsing has its own figures in HttpParserBenchmarks). The
/// location is /api/ of the article's production config: five proxy_set_header names, each
/// compared with every client header line.</summary>
[MemoryDiagnoser]
public unsafe class HeaderRewriteBenchmarks
{
    private const int IovecCapacity = 128;   // as a client connection's scratch holds

    private readonly RequestHead _curl = new(), _browser = new();
    private readonly ResponseHead _response = new();
    private byte[] _curlBytes = [], _browserBytes = [], _responseBytes = [];
    private LocationRuntime _location = null!;
    private Iovec* _items;
    private IovecList _iov;

    [GlobalSetup]
    public void Setup()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "production.conf");
        var config = ConfigLoader.LoadText(File.ReadAllText(file), file, Path.GetTempPath());
        var server = new ServerRuntime(config.Http.Servers[0], UpstreamGroups.For(config));
        _location = server.Match("/api/"u8)!;

        // Pinned, as the slab's buffers are: the iovecs point into these bytes.
        _curlBytes = Parse("GET /api/users?id=1 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n", _curl);
        _browserBytes = Parse(
            "GET /api/dashboard?tab=overview HTTP/1.1\r\n" +
            "Host: api.example.com\r\n" +
            "Connection: keep-alive\r\n" +
            "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
            "sec-ch-ua-mobile: ?0\r\n" +
            "sec-ch-ua-platform: \"Linux\"\r\n" +
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
            "Accept: application/json, text/plain, */*\r\n" +
            "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Dest: empty\r\n" +
            "Referer: https://api.example.com/app/login\r\n" +
            "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
            "Accept-Language: en-US,en;q=0.9\r\n" +
            "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark; _ga=GA1.2.1234567890.1700000000; csrftoken=ZXhhbXBsZS1jc3JmLXRva2Vu\r\n" +
            "\r\n", _browser);
        _responseBytes = PinnedBytes.Ascii(
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 01 Jun 2026 10:00:00 GMT\r\nContent-Type: application/json\r\n" +
            "Content-Length: 1234\r\nConnection: keep-alive\r\nCache-Control: max-age=60\r\nETag: \"abc123\"\r\n\r\n");
        if (ResponseParser.Parse(_responseBytes, _response) != ParseResult.Complete) throw new InvalidOperationException("response head");

        _items = (Iovec*)NativeMemory.Alloc(IovecCapacity, (nuint)sizeof(Iovec));
    }

    private static byte[] Parse(string text, RequestHead head)
    {
        var bytes = PinnedBytes.From(Encoding.ASCII.GetBytes(text));
        if (RequestParser.Parse(bytes, head) != ParseResult.Complete) throw new InvalidOperationException(text);
        return bytes;
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.Free(_items);

    [Benchmark]
    public int RequestCurl() => Request(_curl, _curlBytes);

    [Benchmark]
    public int RequestBrowser() => Request(_browser, _browserBytes);

    [Benchmark]
    public int Response()
    {
        _iov.Init(_items, IovecCapacity);
        byte* head = PinnedBytes.Address(_responseBytes);
        if (!ResponseHeadRewriter.TryAppendStatusLine(ref _iov, _response, head)) throw new InvalidOperationException("gather list full");
        if (!ResponseHeadRewriter.TryAppendKeptHeaders(ref _iov, _response, head)) throw new InvalidOperationException("gather list full");
        return _iov.Count;
    }

    private int Request(RequestHead parsed, byte[] bytes)
    {
        _iov.Init(_items, IovecCapacity);
        if (!RequestHeadRewriter.TryAppend(ref _iov, parsed, PinnedBytes.Address(bytes), _location)) throw new InvalidOperationException("gather list full");
        return _iov.Count;
    }
}
