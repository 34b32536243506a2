namespace RawKeepalive.Config;

/// <summary>What an <c>upstream name {}</c> block says, before the http block's keepalive_defaults is known.</summary>
internal sealed class UpstreamDraft(string name, ConfigDirective where)
{
    public string Name { get; } = name;
    public ConfigDirective Where { get; } = where;
    public List<UpstreamServerConfig> Servers { get; } = [];
    public int? Keepalive;
    public bool KeepaliveLocal;
    public int? KeepaliveRequests;
    public long? KeepaliveTimeoutMs;
    public long? KeepaliveTimeMs;
    public bool? KeepaliveCloseReset;
    public int Queue;
    public long QueueTimeoutMs = 60_000;
    public string? Zone;
    public ConfigDirective? KeepaliveWhere, KeepaliveTimeoutWhere;
}

/// <summary>The shared memory zones the upstream blocks name (<c>zone NAME [size]</c>), checked as nginx's
/// ngx_shared_memory_add checks them: a name has one size, given by at least one of its declarations.
/// The size is checked, not used: the zone's counts live in the shared counters segment, sized at build.</summary>
internal sealed class ZoneDeclarations
{
    /// <summary>nginx's least zone size: 8 pages.</summary>
    public const long MinSize = 8 * 4096;

    private readonly Dictionary<string, (long Size, ConfigDirective Where)> _zones = new(StringComparer.Ordinal);

    /// <summary>A <c>zone</c> directive: its name, checked with its size (0 when none is given).</summary>
    public string Declare(ConfigDirective d)
    {
        string name = d.Args[0];
        if (name.Length == 0) throw ConfigError.At($"invalid zone name \"{name}\"", d);
        long size = 0;
        if (d.Args.Count == 2)
        {
            if (!Units.TryParseSize(d.Args[1], out size)) throw ConfigError.At($"invalid zone size \"{d.Args[1]}\"", d);
            if (size < MinSize) throw ConfigError.At($"zone \"{name}\" is too small", d);
        }
        if (!_zones.TryGetValue(name, out var known)) _zones[name] = (size, d);
        else if (size != 0 && known.Size != 0 && size != known.Size)
            throw ConfigError.At($"the size {size} of shared memory zone \"{name}\" conflicts with already declared size {known.Size}", d);
        else if (known.Size == 0) _zones[name] = (size, known.Where);
        return name;
    }

    /// <summary>After every upstream block: a zone no declaration gave a size is refused (nginx says so without
    /// a place when it creates the zones; we name the first declaration).</summary>
    public void CheckSizes()
    {
        foreach (var (name, zone) in _zones)
            if (zone.Size == 0) throw ConfigError.At($"zero size shared memory zone \"{name}\"", zone.Where);
    }
}

/// <summary>Reads an upstream block: its server lines (resolved now, as nginx does) and keepalive settings.</summary>
internal static class UpstreamBlockReader
{
    // server parameters nginx has and we do not implement yet ("weight=5" is named "weight").
    private static readonly HashSet<string> UnsupportedServerParameters = new(StringComparer.Ordinal)
    {
        "weight", "max_fails", "fail_timeout", "backup", "down", "resolve", "service", "slow_start", "route", "drain",
    };

    public static UpstreamDraft Read(ConfigDirective block, ZoneDeclarations zones)
    {
        var draft = new UpstreamDraft(block.Args[0], block);
        foreach (var d in block.Block!)
        {
            switch (d.Name)
            {
                case "server": draft.Servers.Add(ReadServer(d)); break;
                case "keepalive":
                    if (!Units.TryParseDigits(d.Args[0], out long n) || n > int.MaxValue) throw DirectiveArgs.InvalidValueIn(d);
                    draft.Keepalive = (int)n;
                    draft.KeepaliveWhere = d;
                    if (d.Args.Count == 2)
                        draft.KeepaliveLocal = d.Args[1] == "local" ? true : throw DirectiveArgs.InvalidParameter(d, d.Args[1]);
                    break;
                case "keepalive_requests": draft.KeepaliveRequests = DirectiveArgs.Number(d); break;
                case "keepalive_timeout":
                    draft.KeepaliveTimeoutMs = DirectiveArgs.TimeMs(d);
                    draft.KeepaliveTimeoutWhere = d;
                    break;
                case "keepalive_time": draft.KeepaliveTimeMs = DirectiveArgs.TimeMs(d); break;
                case "keepalive_close":
                    draft.KeepaliveCloseReset = d.Args[0] switch
                    {
                        "reset" => true,
                        "graceful" => false,
                        _ => throw DirectiveArgs.InvalidValueIn(d),
                    };
                    break;
                case "queue":
                    if (!Units.TryParseDigits(d.Args[0], out long q) || q > int.MaxValue) throw DirectiveArgs.InvalidValueIn(d);
                    draft.Queue = (int)q;
                    if (d.Args.Count == 2)
                    {
                        if (!d.Args[1].StartsWith("timeout=", StringComparison.Ordinal)
                            || !Units.TryParseTimeMs(d.Args[1]["timeout=".Length..], out long t))
                            throw DirectiveArgs.InvalidParameter(d, d.Args[1]);
                        draft.QueueTimeoutMs = t;
                    }
                    break;
                case "zone": draft.Zone = zones.Declare(d); break;
                default: throw new InvalidOperationException($"directive table allows \"{d.Name}\" in upstream but nothing reads it");
            }
        }
        if (draft.Servers.Count == 0) throw ConfigError.At("no servers are inside upstream", block);
        return draft;
    }

    private static UpstreamServerConfig ReadServer(ConfigDirective d)
    {
        string text = d.Args[0];
        int maxConns = 0;
        for (int i = 1; i < d.Args.Count; i++)
        {
            string parameter = d.Args[i];
            if (parameter.StartsWith("max_conns=", StringComparison.Ordinal))
            {
                if (!Units.TryParseDigits(parameter.AsSpan("max_conns=".Length), out long n) || n > int.MaxValue)
                    throw DirectiveArgs.InvalidParameter(d, parameter);
                maxConns = (int)n;
                continue;
            }
            int eq = parameter.IndexOf('=');
            string name = eq < 0 ? parameter : parameter[..eq];
            if (UnsupportedServerParameters.Contains(name)) throw DirectiveArgs.ParameterNotSupported(d, name);
            throw DirectiveArgs.InvalidParameter(d, parameter);
        }
        if (text.StartsWith("unix:", StringComparison.Ordinal))
            throw ConfigError.At($"unix sockets in upstream \"{text}\" are not supported yet", d);
        if (!HostPort.TryParse(text, 80, out var hostPort, out string error))
            throw ConfigError.At($"{error} in upstream \"{text}\"", d);
        var addresses = hostPort.ResolveEndPoints();
        if (addresses.Length == 0) throw ConfigError.At($"host not found in upstream \"{text}\"", d);
        return new UpstreamServerConfig { Text = text, Addresses = addresses, MaxConns = maxConns };
    }

    /// <summary>The final record: keepalive defaults depend on keepalive_defaults (current: an implicit
    /// "keepalive 32 local"; legacy: no pool unless "keepalive" is set).</summary>
    public static UpstreamConfig Finish(UpstreamDraft draft, bool legacy)
    {
        var defaults = ConfigDefaults.Upstream;
        bool explicitKeepalive = draft.Keepalive is not null;
        return new UpstreamConfig
        {
            Name = draft.Name,
            Servers = draft.Servers,
            Keepalive = draft.Keepalive ?? (legacy ? 0 : ConfigDefaults.ImplicitKeepalive),
            KeepaliveLocal = explicitKeepalive ? draft.KeepaliveLocal : !legacy,
            KeepaliveRequests = draft.KeepaliveRequests ?? defaults.KeepaliveRequests,
            KeepaliveTimeoutMs = draft.KeepaliveTimeoutMs ?? defaults.KeepaliveTimeoutMs,
            KeepaliveTimeMs = draft.KeepaliveTimeMs ?? defaults.KeepaliveTimeMs,
            KeepaliveCloseReset = draft.KeepaliveCloseReset ?? true,
            Queue = draft.Queue,
            QueueTimeoutMs = draft.QueueTimeoutMs,
            Zone = draft.Zone,
            KeepaliveWhere = draft.KeepaliveWhere,
            KeepaliveTimeoutWhere = draft.KeepaliveTimeoutWhere,
            File = draft.Where.File,
            Line = draft.Where.Line,
        };
    }
}
