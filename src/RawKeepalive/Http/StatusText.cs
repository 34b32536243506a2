using System.Text;

namespace RawKeepalive.Http;

/// <summary>Reason phrases, and the small HTML bodies nginx sends with its own error responses.</summary>
public static class StatusText
{
    public static string Reason(int status) => status switch
    {
        100 => "Continue",
        200 => "OK", 201 => "Created", 202 => "Accepted", 204 => "No Content", 206 => "Partial Content",
        301 => "Moved Permanently", 302 => "Moved Temporarily", 303 => "See Other", 304 => "Not Modified",
        307 => "Temporary Redirect", 308 => "Permanent Redirect",
        400 => "Bad Request", 401 => "Unauthorized", 403 => "Forbidden", 404 => "Not Found", 405 => "Not Allowed",
        408 => "Request Time-out", 411 => "Length Required", 413 => "Request Entity Too Large",
        414 => "Request-URI Too Large", 415 => "Unsupported Media Type", 416 => "Requested Range Not Satisfiable",
        429 => "Too Many Requests", 431 => "Request Header Fields Too Large",
        500 => "Internal Server Error", 501 => "Not Implemented", 502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable", 504 => "Gateway Time-out", 505 => "HTTP Version Not Supported",
        _ => "",
    };

    /// <summary>nginx's error page shape, signed with our name.</summary>
    public static byte[] ErrorPage(int status)
    {
        string title = $"{status} {Reason(status)}";
        return Encoding.ASCII.GetBytes(
            $"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>rawkeepalive</center>\r\n</body>\r\n</html>\r\n");
    }
}
