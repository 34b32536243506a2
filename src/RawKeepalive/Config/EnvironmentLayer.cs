using Microsoft.Extensions.Configuration;

namespace RawKeepalive.Config;

/// <summary>Layers environment variables over the file's main-context scalars through
/// Microsoft.Extensions.Configuration: the file's values are the first provider, the environment the
/// second, so the environment wins. The scheme is explicit (no reflection binding, NativeAOT-safe):
/// <c>RAWKEEPALIVE_</c> + the directive name upper-cased, e.g. <c>RAWKEEPALIVE_WORKER_PROCESSES=4</c>.
/// Only scalars: blocks, order and file:line come from the parsed tree, which a key/value model
/// (case-insensitive keys, sorted children) cannot hold. An overridden directive is named in errors as
/// "environment variable RAWKEEPALIVE_..." instead of FILE:LINE.</summary>
public static class EnvironmentLayer
{
    public const string Prefix = "RAWKEEPALIVE_";

    /// <summary>The directives that may be overridden; worker_connections lives in events{}.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["worker_processes", "daemon", "master_process", "pid", "error_log", "worker_rlimit_nofile", "worker_connections"];

    public static string VariableFor(string directive) => Prefix + directive.ToUpperInvariant();

    public static IReadOnlyList<ConfigDirective> Apply(IReadOnlyList<ConfigDirective> main, Func<string, string?>? environment)
    {
        if (environment is null) return main;
        var events = main.FirstOrDefault(d => d.Name == "events");
        var fromFile = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var d in main.Concat(events?.Block ?? []))
            if (Keys.Contains(d.Name)) fromFile[d.Name] = string.Join(' ', d.Args);

        var envSource = new EnvironmentSource(environment);
        IConfiguration layered = new ConfigurationBuilder().AddInMemoryCollection(fromFile).Add(envSource).Build();

        var result = main.ToList();
        foreach (string key in Keys)
        {
            if (!envSource.Provider.TryGet(key, out _)) continue;
            string value = layered[key] ?? "";
            var overriding = Directive(key, value);
            if (key == "worker_connections")
            {
                var block = (events?.Block ?? []).Where(d => d.Name != key).Append(overriding).ToList();
                var newEvents = (events ?? new ConfigDirective("events", [], overriding.File, 0, null)) with { Block = block };
                int at = events is null ? -1 : result.IndexOf(events);
                if (at < 0) result.Add(newEvents);
                else result[at] = newEvents;
                continue;
            }
            // Replaces every directive of that name: error_log may be given several times, and the
            // environment's value is the whole setting, not one more destination.
            int index = result.FindIndex(d => d.Name == key);
            if (index < 0) result.Insert(0, overriding);
            else
            {
                result[index] = overriding;
                result.RemoveAll(d => d.Name == key && !ReferenceEquals(d, overriding));
            }
        }
        return result;
    }

    private static ConfigDirective Directive(string key, string value)
    {
        var d = new ConfigDirective(key, value.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            "environment variable " + VariableFor(key), 0, null);
        var spec = DirectiveTable.Find(key, key == "worker_connections" ? ConfigContext.Events : ConfigContext.Main, out _)!;
        if (d.Args.Count < spec.MinArgs || d.Args.Count > spec.MaxArgs)
            throw ConfigError.At($"invalid number of arguments in \"{key}\" directive", d);
        return d;
    }

    private sealed class EnvironmentSource(Func<string, string?> environment) : IConfigurationSource
    {
        public EnvironmentProvider Provider { get; } = new(environment);
        public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider;
    }

    private sealed class EnvironmentProvider(Func<string, string?> environment) : ConfigurationProvider
    {
        public override void Load()
        {
            foreach (string key in Keys)
                if (environment(VariableFor(key)) is { } value) Data[key] = value;
        }
    }
}
