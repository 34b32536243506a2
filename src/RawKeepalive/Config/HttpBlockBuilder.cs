namespace RawKeepalive.Config;

/// <summary>Turns the http block into <see cref="HttpConfig"/>. One walk in file order collects drafts
/// (errors come in file order); then, with keepalive_defaults and every upstream{} known, proxy_pass
/// targets are looked up and each location gets its settings merged from http → server → location.</summary>
internal sealed class HttpBlockBuilder
{
    private bool _legacy;
    private bool _doctor = true;
    private long _doctorIntervalMs = ConfigDefaults.KeepaliveDoctorIntervalMs;
    private readonly LevelSettings _http = new();
    private readonly List<UpstreamDraft> _upstreams = [];
    private readonly ZoneDeclarations _zones = new();
    private readonly List<ServerDraft> _servers = [];
    private readonly List<MapConfig> _maps = [];
    private readonly HeaderCaptures _captures = new();
    private readonly LogDirectives _logs;
    private readonly string _prefix;

    private HttpBlockBuilder(string prefix)
    {
        _prefix = prefix;
        _logs = new LogDirectives(prefix);
    }

    private sealed class ServerDraft(ConfigDirective where)
    {
        public ConfigDirective Where { get; } = where;
        public List<ListenConfig> Listens { get; } = [];
        public List<string> Names { get; } = [];
        public List<ServerNamePattern> Patterns { get; } = [];
        public LevelSettings Settings { get; } = new();
        public List<LocationDraft> Locations { get; } = [];   // nested ones flattened, parents first
        public ReturnConfig? Return;
        public ConfigDirective? ReturnWhere;
    }

    private sealed class LocationDraft(string path, LocationMatch match, System.Text.RegularExpressions.Regex? regex,
        ConfigDirective where, LocationDraft? parent)
    {
        public string Path { get; } = path;
        public LocationMatch Match { get; } = match;
        public System.Text.RegularExpressions.Regex? Regex { get; } = regex;
        public ConfigDirective Where { get; } = where;
        public LocationDraft? Parent { get; } = parent;
        public LevelSettings Settings { get; } = new();
        public ProxyPassTarget? ProxyPass;
        public ReturnConfig? Return;
        public bool StubStatus;
        public bool Metrics;
    }

    /// <param name="prefix">The -p prefix: relative log paths are under it.</param>
    public static HttpConfig Build(ConfigDirective? http, string prefix)
    {
        var builder = new HttpBlockBuilder(prefix);
        if (http is null) return builder.Finish(null);
        // Every map is declared before any template is compiled: nginx lets a value use a map defined later.
        foreach (var d in http.Block!)
            if (d.Name == "map") builder._maps.Add(MapBlockReader.Declare(d, builder._maps));
        using (TemplateCompiler.WithMaps(builder._maps, builder._captures))
        {
            builder.ReadHttp(http);
            return builder.Finish(http);
        }
    }

    private void ReadHttp(ConfigDirective http)
    {
        int mapIndex = 0;
        foreach (var d in http.Block!)
        {
            switch (d.Name)
            {
                case "keepalive_doctor": _doctor = DirectiveArgs.Flag(d); break;
                case "keepalive_doctor_interval":
                    _doctorIntervalMs = DirectiveArgs.TimeMs(d);
                    if (_doctorIntervalMs <= 0) throw DirectiveArgs.InvalidValue(d);
                    break;
                case "keepalive_defaults":
                    _legacy = d.Args[0] switch
                    {
                        "legacy" => true,
                        "current" => false,
                        var v => throw ConfigError.At($"invalid value \"{v}\" in \"{d.Name}\" directive, it must be \"legacy\" or \"current\"", d),
                    };
                    break;
                case "upstream":
                    if (_upstreams.Any(u => string.Equals(u.Name, d.Args[0], StringComparison.OrdinalIgnoreCase)))
                        throw ConfigError.At($"duplicate upstream \"{d.Args[0]}\"", d);
                    _upstreams.Add(UpstreamBlockReader.Read(d, _zones));
                    break;
                case "server": _servers.Add(ReadServer(d)); break;
                case "log_format": _logs.ReadFormat(d); break;
                case "map": MapBlockReader.Read(_maps[mapIndex++], d); break;
                default: ApplyLevelDirective(d, _http, "http"); break;
            }
        }
    }

    private ServerDraft ReadServer(ConfigDirective block)
    {
        var server = new ServerDraft(block);
        var siblings = new List<LocationDraft>();
        foreach (var d in block.Block!)
        {
            switch (d.Name)
            {
                case "listen": server.Listens.AddRange(ListenParser.Parse(d)); break;
                case "server_name":
                    foreach (string name in d.Args)
                    {
                        var pattern = ServerName(name, d);
                        server.Patterns.Add(pattern);
                        server.Names.Add(pattern.Kind == ServerNameKind.Exact ? pattern.Text : name);
                    }
                    break;
                case "location": ReadLocation(d, null, server, siblings); break;
                case "return":
                    // nginx runs the first return and never reaches a later one.
                    var ret = ReturnParser.Parse(d);
                    if (server.Return is null) { server.Return = ret; server.ReturnWhere = d; }
                    break;
                default: ApplyLevelDirective(d, server.Settings, "server"); break;
            }
        }
        return server;
    }

    private static ServerNamePattern ServerName(string name, ConfigDirective d)
    {
        if (name.Contains('$') && !name.StartsWith('~'))
            throw ConfigError.At($"variables in server names (\"{name}\") are not supported yet", d);
        return ServerNamePattern.TryParse(name, d, out string? error) ?? throw ConfigError.At(error!, d);
    }

    private void ReadLocation(ConfigDirective block, LocationDraft? parent, ServerDraft server, List<LocationDraft> siblings)
    {
        var (path, match) = LocationPath(block);
        bool regex = match is LocationMatch.Regex or LocationMatch.RegexCaseless;
        if (parent is not null)
        {
            if (parent.Match == LocationMatch.Exact)
                throw ConfigError.At($"location \"{path}\" cannot be inside the exact location \"{parent.Path}\"", block);
            // As ngx_http_core_location: a regex may sit in any non-exact location; a prefix must extend its parent's.
            if (!regex && !path.StartsWith(parent.Path, StringComparison.Ordinal))
                throw ConfigError.At($"location \"{path}\" is outside location \"{parent.Path}\"", block);
        }
        bool exact = match == LocationMatch.Exact;
        if (!regex && siblings.Any(s => s.Path == path && s.Regex is null && (s.Match == LocationMatch.Exact) == exact))
            throw ConfigError.At($"duplicate location \"{path}\"", block);

        var compiled = regex ? RegexPattern.Compile(path, match == LocationMatch.RegexCaseless, block) : null;
        var location = new LocationDraft(path, match, compiled, block, parent);
        siblings.Add(location);
        server.Locations.Add(location);
        var children = new List<LocationDraft>();
        foreach (var d in block.Block!)
        {
            switch (d.Name)
            {
                case "proxy_pass": location.ProxyPass = ProxyPassTarget.Parse(d); break;
                case "return":
                    var ret = ReturnParser.Parse(d);
                    location.Return ??= ret;
                    break;
                case "location": ReadLocation(d, location, server, children); break;
                case "stub_status":
                    if (d.Args.Count == 1) DirectiveArgs.Flag(d);   // the old "stub_status on;" form
                    location.StubStatus = true;
                    OneStatusPage(location, d);
                    break;
                case "metrics":
                    location.Metrics = true;
                    OneStatusPage(location, d);
                    break;
                default: ApplyLevelDirective(d, location.Settings, "location"); break;
            }
        }
    }

    /// <summary>A location answers with one page: stub_status's or the metrics.</summary>
    private static void OneStatusPage(LocationDraft location, ConfigDirective d)
    {
        if (location.StubStatus && location.Metrics) throw ConfigError.At("\"metrics\" and \"stub_status\" in one location", d);
    }

    private static (string Path, LocationMatch Match) LocationPath(ConfigDirective d)
    {
        string modifier, path;
        if (d.Args.Count == 2) (modifier, path) = (d.Args[0], d.Args[1]);
        else
        {
            string arg = d.Args[0];
            modifier = arg.StartsWith("^~", StringComparison.Ordinal) ? "^~"
                : arg.StartsWith("~*", StringComparison.Ordinal) ? "~*"
                : arg.Length > 0 && arg[0] is '=' or '~' or '@' ? arg[..1]
                : "";
            path = arg[modifier.Length..];
            if (modifier == "@") { modifier = ""; path = arg; }
        }
        if (path.StartsWith('@')) throw ConfigError.At($"named locations (\"{path}\") are not supported yet", d);
        return modifier switch
        {
            "" => (path, LocationMatch.Prefix),
            "=" => (path, LocationMatch.Exact),
            "^~" => (path, LocationMatch.PrefixNoRegex),
            "~" => (path, LocationMatch.Regex),
            "~*" => (path, LocationMatch.RegexCaseless),
            _ => throw ConfigError.At($"invalid location modifier \"{modifier}\"", d),
        };
    }

    /// <summary>Directives that may appear at http, server and location level.</summary>
    private void ApplyLevelDirective(ConfigDirective d, LevelSettings settings, string level)
    {
        if (settings.TryApply(d)) return;
        switch (d.Name)
        {
            case "access_log": _logs.ReadAccessLog(d, settings); return;
            case "error_log": (settings.ErrorLogs ??= []).Add(LogDirectives.ReadErrorLog(d, _prefix)); return;
            case "gzip":
                if (DirectiveArgs.Flag(d)) throw DirectiveArgs.ParameterNotSupported(d, "on");
                return;
            case "sendfile" or "tcp_nopush" or "tcp_nodelay":
                DirectiveArgs.Flag(d);
                return;
            case "ignore_invalid_headers":
                // Either way a field name that is not a token is refused with 400 (nginx: dropped when on,
                // forwarded when off), and a name with '_' follows underscores_in_headers alone.
                DirectiveArgs.Flag(d);
                return;
            case "server_tokens":
                if (d.Args[0] is not ("on" or "off" or "build")) throw ConfigError.At($"invalid value \"{d.Args[0]}\"", d);
                return;
            case "default_type" or "types" or "charset" or "client_body_temp_path" or "proxy_temp_path"
                or "fastcgi_temp_path" or "uwsgi_temp_path" or "scgi_temp_path":
                return;   // accepted without effect: see DirectiveTable
            default:
                throw new InvalidOperationException($"directive table allows \"{d.Name}\" in {level} but nothing reads it");
        }
    }

    private HttpConfig Finish(ConfigDirective? http)
    {
        _zones.CheckSizes();
        var registry = new UpstreamRegistry([.. _upstreams.Select(u => UpstreamBlockReader.Finish(u, _legacy))]);
        var servers = _servers.Select(s => FinishServer(s, registry)).ToList();
        CheckListens(servers);
        return new HttpConfig
        {
            LegacyKeepaliveDefaults = _legacy, Upstreams = registry.All, Servers = servers, Maps = _maps,
            LogFormats = _logs.Formats, AccessLogLists = NumberAccessLogLists(servers), Captures = _captures,
            KeepaliveDoctor = _doctor, KeepaliveDoctorIntervalMs = _doctorIntervalMs,
        };
    }

    /// <summary>The access logs a level ends up with: none after "off", else its own or inherited ones,
    /// else nginx's default.</summary>
    private AccessLogList AccessLogsOf(LevelSettings s, ConfigDirective where) =>
        s.AccessLogOff ? _off : s.AccessLogs ?? _logs.DefaultAccessLogs(where);

    private readonly AccessLogList _off = new();

    /// <summary>Every distinct list, each numbered by its place (what the worker indexes its writers by).</summary>
    private static List<AccessLogList> NumberAccessLogLists(List<ServerConfig> servers)
    {
        var lists = new List<AccessLogList>();
        foreach (var list in servers.SelectMany(s => s.Locations.Select(l => l.AccessLogs).Prepend(s.AccessLogs)))
        {
            if (lists.Contains(list)) continue;
            list.Id = lists.Count;
            lists.Add(list);
        }
        return lists;
    }

    private ServerConfig FinishServer(ServerDraft draft, UpstreamRegistry registry)
    {
        var merged = draft.Settings.InheritFrom(_http);
        var defaults = ConfigDefaults.Server;
        var locations = new List<LocationConfig>();
        var effective = new Dictionary<LocationDraft, (LevelSettings Settings, LocationConfig Config)>();
        foreach (var location in draft.Locations)   // parents come before their children
        {
            var outer = location.Parent is null ? merged : effective[location.Parent].Settings;
            var settings = location.Settings.InheritFrom(outer);
            var config = FinishLocation(location.Path, location.Match, location.Where, settings,
                draft.Return ?? location.Return, draft.Return is null ? location.ProxyPass : null, registry,
                location.Regex, location.Parent is null ? null : effective[location.Parent].Config, location.StubStatus, location.Metrics);
            effective[location] = (settings, config);
            locations.Add(config);
        }
        if (draft.Return is not null && !draft.Locations.Any(l => l.Parent is null && l.Path == "/" && l.Match is LocationMatch.Prefix or LocationMatch.PrefixNoRegex))
            locations.Add(FinishLocation("/", LocationMatch.Prefix, draft.ReturnWhere!, merged, draft.Return, null, registry, null, null));

        return new ServerConfig
        {
            Listens = draft.Listens.Count > 0 ? draft.Listens : [DefaultListen(draft.Where)],
            ServerNames = draft.Names.Count > 0 ? draft.Names : [""],
            NamePatterns = draft.Patterns.Count > 0 ? draft.Patterns
                : [new ServerNamePattern { Kind = ServerNameKind.Exact, Text = "", Bytes = [] }],
            Locations = locations,
            ClientHeaderTimeoutMs = merged.ClientHeaderTimeoutMs ?? defaults.ClientHeaderTimeoutMs,
            ClientHeaderBufferSize = merged.ClientHeaderBufferSize ?? defaults.ClientHeaderBufferSize,
            LargeClientHeaderBuffersCount = merged.LargeClientHeaderBuffers?.Count ?? defaults.LargeClientHeaderBuffersCount,
            LargeClientHeaderBufferSize = merged.LargeClientHeaderBuffers?.Size ?? defaults.LargeClientHeaderBufferSize,
            Return = draft.Return,
            AccessLogs = AccessLogsOf(merged, draft.Where),
            ErrorLogs = merged.ErrorLogs,
        };
    }

    private static ListenConfig DefaultListen(ConfigDirective server) => new()
    {
        EndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Any, ConfigDefaults.DefaultPort),
        File = server.File,
        Line = server.Line,
    };

    private LocationConfig FinishLocation(string path, LocationMatch match, ConfigDirective where, LevelSettings s,
        ReturnConfig? ret, ProxyPassTarget? pass, UpstreamRegistry registry,
        System.Text.RegularExpressions.Regex? regex, LocationConfig? parent, bool stubStatus = false, bool metrics = false)
    {
        var d = ConfigDefaults.Location;
        var p = d.Proxy;
        // return runs in the rewrite phase, before proxying: with both, nginx answers with return.
        var proxyPass = ret is null && pass is not null ? registry.Resolve(pass) : null;
        var next = s.ProxyNextUpstream;
        bool off = next?.Off == true;
        return new LocationConfig
        {
            Path = path,
            Match = match,
            Regex = regex,
            Parent = parent,
            ProxyPass = proxyPass,
            Return = ret,
            Proxy = new ProxySettings
            {
                HttpVersionMinor = s.ProxyHttpVersionMinor ?? (_legacy ? 0 : p.HttpVersionMinor),
                SetHeaders = MergeHeaders(s.ProxySetHeaders, ConfigDefaults.BuiltInProxyHeaders(_legacy)),
                ConnectTimeoutMs = s.ProxyConnectTimeoutMs ?? p.ConnectTimeoutMs,
                SendTimeoutMs = s.ProxySendTimeoutMs ?? p.SendTimeoutMs,
                ReadTimeoutMs = s.ProxyReadTimeoutMs ?? p.ReadTimeoutMs,
                Splice = s.ProxySplice ?? p.Splice,
                NextUpstreamError = next is null ? p.NextUpstreamError : !off && next.Value.Error,
                NextUpstreamTimeout = next is null ? p.NextUpstreamTimeout : !off && next.Value.Timeout,
                NextUpstreamNonIdempotent = next is null ? p.NextUpstreamNonIdempotent : !off && next.Value.NonIdempotent,
                NextUpstreamTries = s.ProxyNextUpstreamTries ?? p.NextUpstreamTries,
            },
            GeneratedHeadersMaxSize = s.GeneratedHeadersMaxSize ?? d.GeneratedHeadersMaxSize,
            UnderscoresInHeaders = s.UnderscoresInHeaders ?? d.UnderscoresInHeaders,
            KeepaliveTimeoutMs = s.KeepaliveTimeoutMs ?? d.KeepaliveTimeoutMs,
            KeepaliveHeaderTimeoutSeconds = s.KeepaliveHeaderTimeoutSeconds ?? d.KeepaliveHeaderTimeoutSeconds,
            KeepaliveRequests = s.KeepaliveRequests ?? d.KeepaliveRequests,
            ClientBodyTimeoutMs = s.ClientBodyTimeoutMs ?? d.ClientBodyTimeoutMs,
            SendTimeoutMs = s.SendTimeoutMs ?? d.SendTimeoutMs,
            ClientMaxBodySize = s.ClientMaxBodySize ?? d.ClientMaxBodySize,
            StubStatus = stubStatus && ret is null,
            Metrics = metrics && ret is null,
            Access = s.Access,
            AccessLogs = AccessLogsOf(s, where),
            ErrorLogs = s.ErrorLogs,
            File = where.File,
            Line = where.Line,
        };
    }

    /// <summary>As ngx_http_proxy_init_headers: the configured headers in order, then each built-in one
    /// whose name none of them uses (case-insensitive).</summary>
    private static HeaderSetting[] MergeHeaders(List<HeaderSetting>? configured, IReadOnlyList<HeaderSetting> builtIn)
    {
        configured ??= [];
        return
        [
            .. configured,
            .. builtIn.Where(b => !configured.Any(c => string.Equals(c.Name, b.Name, StringComparison.OrdinalIgnoreCase))),
        ];
    }

    /// <summary>One default server per address, and socket options (backlog) set on one of its listens only,
    /// as nginx requires.</summary>
    private static void CheckListens(List<ServerConfig> servers)
    {
        var seen = new HashSet<System.Net.IPEndPoint>();
        foreach (var listen in servers.SelectMany(s => s.Listens).Where(l => l.DefaultServer))
            if (!seen.Add(listen.EndPoint))
                throw ConfigError.At($"a duplicate default server for {listen.EndPoint}", listen.File, listen.Line);
        seen.Clear();
        foreach (var listen in servers.SelectMany(s => s.Listens).Where(l => l.Backlog is not null))
            if (!seen.Add(listen.EndPoint))
                throw ConfigError.At($"duplicate listen options for {listen.EndPoint}", listen.File, listen.Line);
    }
}
