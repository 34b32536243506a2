using System.Diagnostics;
using System.Globalization;
using NUnit.Framework;

namespace RawKeepalive.Tests.Support;

/// <summary>One read of a <c>metrics;</c> page over a fresh loopback connection: the text as served and
/// its samples by series ("name{labels}" as written), with the TYPE of each family.</summary>
public sealed class MetricsScrape
{
    private readonly Dictionary<string, double> _samples = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);

    private MetricsScrape(string text)
    {
        Text = text;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ');
                _types[parts[2]] = parts[3];
                continue;
            }
            if (line.StartsWith('#')) continue;
            int space = line.LastIndexOf(' ');
            _samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
    }

    public string Text { get; }

    public IReadOnlyDictionary<string, double> Samples => _samples;

    /// <summary>GET <paramref name="path"/> on its own connection (so it is no client keep-alive of the test's).</summary>
    public static MetricsScrape Get(int port, string path = "/metrics")
    {
        using var client = new RawHttpClient(port, TimeSpan.FromSeconds(10));
        var response = client.Get(path, extraHeaders: "Connection: close\r\n");
        Assert.That(response.Status, Is.EqualTo(200), response.ToString());
        Assert.That(response.Get("Content-Type"), Is.EqualTo("text/plain; version=0.0.4; charset=utf-8"));
        return new MetricsScrape(response.BodyText);
    }

    /// <summary>The value of a series, e.g. <c>Value("rawkeepalive_http_requests_total")</c>; fails when absent.</summary>
    public double Value(string name, string labels = "")
    {
        string key = labels == "" ? name : $"{name}{{{labels}}}";
        Assert.That(_samples.TryGetValue(key, out double v), Is.True, $"series {key} is not on the page:\n{Text}");
        return v;
    }

    /// <summary>A series of one upstream peer: <c>Peer("rawkeepalive_upstream_connections_opened_total", "app_backend", "127.0.0.1:8080")</c>.</summary>
    public long Peer(string name, string upstream, string peer, string extraLabels = "") =>
        (long)Value(name, $"upstream=\"{upstream}\",peer=\"{peer}\"{(extraLabels == "" ? "" : "," + extraLabels)}");

    /// <summary>The family's TYPE ("counter", "gauge", "histogram"), or null.</summary>
    public string? TypeOf(string family) => _types.GetValueOrDefault(family);

    /// <summary>The samples of counter families and of histograms (what must never go backwards).</summary>
    public IEnumerable<KeyValuePair<string, double>> Monotonic() =>
        _samples.Where(s => TypeOf(FamilyOf(s.Key)) is "counter" or "histogram");

    private string FamilyOf(string series)
    {
        string name = series.Split('{')[0];
        foreach (string suffix in new[] { "_bucket", "_sum", "_count" })
            if (name.EndsWith(suffix, StringComparison.Ordinal) && _types.GetValueOrDefault(name[..^suffix.Length]) == "histogram")
                return name[..^suffix.Length];
        return name;
    }

    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/>, the page on its stdin; (exit code, output).
    /// A missing tool fails the test with how to install it (<c>tests/deps.sh</c>, which <c>make test</c> runs).</summary>
    public (int ExitCode, string Output) Check(string file, params string[] arguments)
    {
        Assert.That(File.Exists(file) || Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, file))), Is.True,
            $"{file} is not installed: run tests/deps.sh (make test does)");
        var start = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(Text);
        process.StandardInput.Close();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} did not finish within 30 s");
        }
        Task.WaitAll([stdout, stderr], 10_000);
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
