namespace RawKeepalive.Config;

/// <summary><c>return code [text|URL]</c> or <c>return URL</c> (302), as ngx_http_rewrite_return.</summary>
internal static class ReturnParser
{
    public static ReturnConfig Parse(ConfigDirective d)
    {
        string first = d.Args[0];
        if (!Units.TryParseDigits(first, out long code))
        {
            bool isUrl = first.StartsWith("http://", StringComparison.Ordinal) || first.StartsWith("https://", StringComparison.Ordinal)
                || first.StartsWith("$scheme", StringComparison.Ordinal);
            if (d.Args.Count == 1 && isUrl)
                return new ReturnConfig { Status = 302, Text = TemplateCompiler.Compile(first, d) };
            throw ConfigError.At($"invalid return code \"{first}\"", d);
        }
        if (code > 999) throw ConfigError.At($"invalid return code \"{first}\"", d);
        // 444 means "close without a response" in nginx: a behaviour, not a status we could send.
        if (code == 444) throw DirectiveArgs.ParameterNotSupported(d, first);
        return new ReturnConfig
        {
            Status = (int)code,
            Text = d.Args.Count == 2 ? TemplateCompiler.Compile(d.Args[1], d) : null,
        };
    }
}
