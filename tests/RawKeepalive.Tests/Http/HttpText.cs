using System.Text;
using RawKeepalive.Http;

namespace RawKeepalive.Tests.Http;

/// <summary>Test shorthand: heads are written as strings (Latin-1, so "\xFF" is one byte) and slices
/// read back as strings.</summary>
internal static class HttpText
{
    public static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    public static string Text(this Slice slice, byte[] buffer) => Encoding.Latin1.GetString(slice.Of(buffer));

    public static string Name(this HeaderField f, byte[] buffer) => f.Name.Text(buffer);

    public static string Value(this HeaderField f, byte[] buffer) => f.Value.Text(buffer);

    public const string Curl =
        "GET /index.html?x=1&y=2 HTTP/1.1\r\n" +
        "Host: example.com\r\n" +
        "User-Agent: curl/8.5.0\r\n" +
        "Accept: */*\r\n" +
        "\r\n";

    public const string Browser =
        "GET /app/dashboard HTTP/1.1\r\n" +
        "Host: www.example.org:8443\r\n" +
        "Connection: keep-alive\r\n" +
        "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
        "sec-ch-ua-mobile: ?0\r\n" +
        "sec-ch-ua-platform: \"Linux\"\r\n" +
        "Upgrade-Insecure-Requests: 1\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
        "Sec-Fetch-Site: same-origin\r\n" +
        "Sec-Fetch-Mode: navigate\r\n" +
        "Sec-Fetch-User: ?1\r\n" +
        "Sec-Fetch-Dest: document\r\n" +
        "Referer: https://www.example.org:8443/app/login\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n" +
        "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark; _ga=GA1.2.1234567890.1700000000; csrftoken=ZXhhbXBsZS1jc3JmLXRva2VuLXZhbHVl\r\n" +
        "\r\n";

    public const string Response =
        "HTTP/1.1 200 OK\r\n" +
        "Server: nginx/1.29.7\r\n" +
        "Date: Mon, 01 Jun 2026 10:00:00 GMT\r\n" +
        "Content-Type: text/html; charset=utf-8\r\n" +
        "Content-Length: 1234\r\n" +
        "Connection: keep-alive\r\n" +
        "Cache-Control: max-age=60\r\n" +
        "\r\n";
}
