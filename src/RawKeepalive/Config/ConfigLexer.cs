using System.Text;

namespace RawKeepalive.Config;

/// <summary>Splits config text into tokens the way nginx's ngx_conf_read_token does: words end at
/// whitespace, ";" or "{"; "}" ends a word only at its start; "#" starts a comment only where a word
/// could start; "${" does not open a block; a closing quote must be followed by whitespace, ";" or "{".
/// Escapes \" \' \\ \t \r \n are translated in every word, quoted or not; any other backslash pair is
/// kept as written (so "\$" stays two characters, as in nginx).</summary>
public sealed class ConfigLexer(string text, string file)
{
    private int _pos;
    private int _line = 1;
    private readonly StringBuilder _word = new();

    public string File { get; } = file;

    public ConfigToken Next()
    {
        while (true)
        {
            if (_pos >= text.Length) return new ConfigToken(ConfigTokenKind.EndOfFile, "", File, _line);
            char ch = text[_pos];
            switch (ch)
            {
                case '\n': _line++; _pos++; continue;
                case ' ' or '\t' or '\r': _pos++; continue;
                case '#': SkipComment(); continue;
                case ';': _pos++; return new ConfigToken(ConfigTokenKind.Semicolon, ";", File, _line);
                case '{': _pos++; return new ConfigToken(ConfigTokenKind.OpenBrace, "{", File, _line);
                case '}': _pos++; return new ConfigToken(ConfigTokenKind.CloseBrace, "}", File, _line);
                case '"' or '\'': return ReadQuoted(ch);
                default: return ReadBare();
            }
        }
    }

    private void SkipComment()
    {
        while (_pos < text.Length && text[_pos] != '\n') _pos++;
    }

    private ConfigToken ReadBare()
    {
        int startLine = _line;
        _word.Clear();
        bool afterDollar = false;
        while (_pos < text.Length)
        {
            char ch = text[_pos];
            if (ch is ' ' or '\t' or '\r' or '\n' or ';') break;
            if (ch == '{' && !afterDollar) break;
            afterDollar = ch == '$';
            if (ch == '\\') { AppendEscape(); continue; }
            _word.Append(ch);
            _pos++;
        }
        if (_pos >= text.Length) throw UnexpectedEnd();
        return new ConfigToken(ConfigTokenKind.Word, _word.ToString(), File, startLine);
    }

    private ConfigToken ReadQuoted(char quote)
    {
        int startLine = _line;
        _word.Clear();
        _pos++;
        while (true)
        {
            if (_pos >= text.Length) throw UnexpectedEnd();
            char ch = text[_pos];
            if (ch == quote) { _pos++; break; }
            if (ch == '\\') { AppendEscape(); continue; }
            if (ch == '\n') _line++;
            _word.Append(ch);
            _pos++;
        }
        // nginx wants a separator after a closing quote: "a"b is an error, not one word.
        if (_pos >= text.Length) throw UnexpectedEnd();
        char next = text[_pos];
        if (next is not (' ' or '\t' or '\r' or '\n' or ';' or '{'))
            throw ConfigError.At($"unexpected \"{next}\"", File, _line);
        return new ConfigToken(ConfigTokenKind.Word, _word.ToString(), File, startLine);
    }

    /// <summary>At a backslash: appends the escaped character, or both characters when nginx does not translate the pair.</summary>
    private void AppendEscape()
    {
        _pos++;
        if (_pos >= text.Length) throw UnexpectedEnd();
        char ch = text[_pos];
        switch (ch)
        {
            case '"' or '\'' or '\\': _word.Append(ch); break;
            case 't': _word.Append('\t'); break;
            case 'r': _word.Append('\r'); break;
            case 'n': _word.Append('\n'); break;
            default:
                if (ch == '\n') _line++;
                _word.Append('\\').Append(ch);
                break;
        }
        _pos++;
    }

    private ConfigException UnexpectedEnd() => ConfigError.At("unexpected end of file, expecting \";\" or \"}\"", File, _line);
}
