using BenchmarkDotNet.Attributes;
using RawKeepalive.Config;

namespace RawKeepalive.Benchmarks;

/// <summary>Loading the article's production config, conf/examples/production.conf (lex, parse,
/// build the typed model). Not a hot path: it runs once per start or reload, so it may allocate;
/// the figure is here to catch a config layer that gets slow or bloated.</summary>
[MemoryDiagnoser]
public class ConfigLoadBenchmarks
{
    // Copied next to the benchmark assembly by the project file.
    private static readonly string File = Path.Combine(AppContext.BaseDirectory, "production.conf");
    private readonly string _text = System.IO.File.ReadAllText(File);
    private readonly string _prefix = Path.GetTempPath();

    [Benchmark(Description = "LoadText(article's production config)")]
    public ProxyConfig LoadArticleConfig() => ConfigLoader.LoadText(_text, File, _prefix);
}
