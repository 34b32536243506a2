namespace RawKeepalive.Config;

/// <summary>Reads tokens into a directive tree, checking each directive against the
/// <see cref="DirectiveTable"/> as soon as its ";" or "{" is read, so errors come in file order with
/// nginx's wording. <c>include</c> is expanded in place: the included files' directives become
/// siblings in the including block.</summary>
public sealed class ConfigParser
{
    private const int MaxIncludeDepth = 32;

    private readonly string _includeBase;
    private readonly List<ConfigSource>? _sources;
    private int _includeDepth;

    private ConfigParser(string includeBase, List<ConfigSource>? sources)
    {
        _includeBase = includeBase;
        _sources = sources;
    }

    /// <param name="includeBase">The directory relative include patterns are under (the main config file's).</param>
    /// <param name="commandLine">-g directives, read first into the same main block, so one also in the
    /// file is a duplicate there, as in nginx.</param>
    /// <param name="sources">When given, receives every file read, in order (for -T).</param>
    public static IReadOnlyList<ConfigDirective> Parse(string text, string file, string includeBase,
        string? commandLine = null, List<ConfigSource>? sources = null)
    {
        var parser = new ConfigParser(includeBase, sources);
        var top = new List<ConfigDirective>();
        var seenOnce = new HashSet<string>();
        if (commandLine is not null)
        {
            try
            {
                parser.ParseStatements(new ConfigLexer(commandLine, ConfigError.CommandLine), ConfigContext.Main, top, seenOnce, isFileTop: true);
            }
            catch (ConfigException e) when (e.Message.StartsWith("unexpected end of file", StringComparison.Ordinal))
            {
                throw ConfigError.At("unexpected end of parameter, expecting \";\"", ConfigError.CommandLine, 0);
            }
        }
        sources?.Add(new ConfigSource(file, text));
        parser.ParseStatements(new ConfigLexer(text, file), ConfigContext.Main, top, seenOnce, isFileTop: true);
        return top;
    }

    /// <param name="seenOnce">Names of Once directives already in this block (shared with its includes).</param>
    private void ParseStatements(ConfigLexer lexer, ConfigContext context, List<ConfigDirective> into, HashSet<string> seenOnce, bool isFileTop)
    {
        var words = new List<string>();
        while (true)
        {
            var token = lexer.Next();
            switch (token.Kind)
            {
                case ConfigTokenKind.Word:
                    words.Add(token.Text);
                    break;

                case ConfigTokenKind.Semicolon or ConfigTokenKind.OpenBrace:
                    if (words.Count == 0) throw ConfigError.At($"unexpected \"{token.Text}\"", token.File, token.Line);
                    bool opensBlock = token.Kind == ConfigTokenKind.OpenBrace;
                    var directive = new ConfigDirective(words[0], words.GetRange(1, words.Count - 1), token.File, token.Line, null);
                    words.Clear();
                    AddDirective(lexer, context, directive, opensBlock, into, seenOnce);
                    break;

                case ConfigTokenKind.CloseBrace:
                    if (words.Count > 0 || isFileTop) throw ConfigError.At("unexpected \"}\"", token.File, token.Line);
                    return;

                case ConfigTokenKind.EndOfFile:
                    if (words.Count > 0) throw ConfigError.At("unexpected end of file, expecting \";\" or \"}\"", token.File, token.Line);
                    if (!isFileTop) throw ConfigError.At("unexpected end of file, expecting \"}\"", token.File, token.Line);
                    return;
            }
        }
    }

    private void AddDirective(ConfigLexer lexer, ConfigContext context, ConfigDirective directive, bool opensBlock,
        List<ConfigDirective> into, HashSet<string> seenOnce)
    {
        if (context is ConfigContext.Types or ConfigContext.Map)
        {
            // "text/html html htm;" and map's "key value;" lines are data, not directives; both blocks take include.
            if (opensBlock) throw ConfigError.At("unexpected \"{\"", directive);
            if (directive.Name == "include" && directive.Args.Count == 1)
            {
                Include(directive, context, into, seenOnce);
                return;
            }
            into.Add(directive);
            return;
        }

        var spec = Check(directive, context, opensBlock);
        if (spec.Once && !seenOnce.Add(spec.Name))
            throw ConfigError.At($"\"{directive.Name}\" directive is duplicate", directive);

        if (spec.Name == "include")
        {
            Include(directive, context, into, seenOnce);
            return;
        }
        if (!spec.Block)
        {
            into.Add(directive);
            return;
        }
        var children = new List<ConfigDirective>();
        ParseStatements(lexer, spec.Opens, children, new HashSet<string>(), isFileTop: false);
        into.Add(directive with { Block = children });
    }

    /// <summary>nginx's ngx_conf_handler checks, in its order: known, allowed here, terminated right,
    /// then (ours) supported, then the number of arguments.</summary>
    private static DirectiveSpec Check(ConfigDirective directive, ConfigContext context, bool opensBlock)
    {
        string name = directive.Name;
        var spec = DirectiveTable.Find(name, context, out bool known);
        if (spec is null)
            throw ConfigError.At(known ? $"\"{name}\" directive is not allowed here" : $"unknown directive \"{name}\"", directive);
        if (!spec.Block && opensBlock)
            throw ConfigError.At($"directive \"{name}\" is not terminated by \";\"", directive);
        if (spec.Block && !opensBlock)
            throw ConfigError.At($"directive \"{name}\" has no opening \"{{\"", directive);
        if (spec.Status == DirectiveStatus.NotSupportedYet)
            throw ConfigError.At($"\"{name}\" directive is not supported yet", directive);
        int count = directive.Args.Count;
        if (count < spec.MinArgs || count > spec.MaxArgs)
            throw ConfigError.At($"invalid number of arguments in \"{name}\" directive", directive);
        return spec;
    }

    private void Include(ConfigDirective directive, ConfigContext context, List<ConfigDirective> into, HashSet<string> seenOnce)
    {
        if (++_includeDepth > MaxIncludeDepth)
            throw ConfigError.At($"include nesting is deeper than {MaxIncludeDepth} (an include cycle?)", directive);
        foreach (string file in IncludeResolver.Resolve(directive.Args[0], _includeBase, directive))
        {
            string text;
            try { text = File.ReadAllText(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw ConfigError.At(ConfigError.OpenFailed(file, e), directive);
            }
            _sources?.Add(new ConfigSource(file, text));
            ParseStatements(new ConfigLexer(text, file), context, into, seenOnce, isFileTop: true);
        }
        _includeDepth--;
    }
}
