using System.Text;
using BenchmarkDotNet.Attributes;
using RawKeepalive.Http;

namespace RawKeepalive.Benchmarks;

/// <summary>The per-request parsing cost on the worker's hot path; MemoryDiagnoser must show 0 B.</summary>
[MemoryDiagnoser]
public class HttpParserBenchmarks
{
    private readonly RequestHead _request = new();
    private readonly ResponseHead _response = new();
    private byte[] _curl = [], _browser = [], _large = [], _responseBytes = [], _chunked = [];

    [GlobalSetup]
    public void Setup()
    {
        _curl = Encoding.ASCII.GetBytes(
            "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n");
        _browser = Encoding.ASCII.GetBytes(
            "GET /app/dashboard HTTP/1.1\r\n" +
            "Host: www.example.org\r\n" +
            "Connection: keep-alive\r\n" +
            "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
            "sec-ch-ua-mobile: ?0\r\n" +
            "sec-ch-ua-platform: \"Linux\"\r\n" +
            "Upgrade-Insecure-Requests: 1\r\n" +
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
            "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\n" +
            "Referer: https://www.example.org/app/login\r\n" +
            "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
            "Accept-Language: en-US,en;q=0.9\r\n" +
            "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark; _ga=GA1.2.1234567890.1700000000; csrftoken=ZXhhbXBsZS1jc3JmLXRva2Vu\r\n" +
            "\r\n");

        // An 8 KiB header block: 64 fields of 128 bytes.
        var large = new StringBuilder("GET /big HTTP/1.1\r\nHost: example.com\r\n");
        for (int i = 0; i < 64; i++) large.Append($"X-Field-{i:D2}: ").Append('v', 128 - 16).Append("\r\n");
        _large = Encoding.ASCII.GetBytes(large.Append("\r\n").ToString());

        _responseBytes = Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 01 Jun 2026 10:00:00 GMT\r\nContent-Type: text/html; charset=utf-8\r\n" +
            "Content-Length: 1234\r\nConnection: keep-alive\r\nCache-Control: max-age=60\r\nETag: \"abc123\"\r\n\r\n");

        // 64 KiB in 4 KiB chunks.
        var body = new MemoryStream();
        var chunk = new byte[4096];
        Array.Fill(chunk, (byte)'d');
        for (int i = 0; i < 16; i++)
        {
            body.Write("1000\r\n"u8);
            body.Write(chunk);
            body.Write("\r\n"u8);
        }
        body.Write("0\r\n\r\n"u8);
        _chunked = body.ToArray();
    }

    [Benchmark]
    public ParseResult RequestCurl() => RequestParser.Parse(_curl, _request);

    [Benchmark]
    public ParseResult RequestBrowser() => RequestParser.Parse(_browser, _request);

    [Benchmark]
    public ParseResult Request8KiBHeaders() => RequestParser.Parse(_large, _request);

    [Benchmark]
    public ParseResult Response() => ResponseParser.Parse(_responseBytes, _response);

    [Benchmark]
    public int Chunked64KiB()
    {
        var decoder = new ChunkedDecoder();
        ReadOnlySpan<byte> input = _chunked;
        int data = 0;
        while (decoder.Decode(input, out int consumed, out _, out int length) == ChunkStatus.Data)
        {
            data += length;
            input = input.Slice(consumed);
        }
        return data;
    }
}
