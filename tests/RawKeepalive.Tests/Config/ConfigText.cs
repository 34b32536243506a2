using RawKeepalive.Config;

namespace RawKeepalive.Tests.Config;

/// <summary>Loads config text as "t.conf" under prefix "/prefix", the way every config test does.</summary>
internal static class ConfigText
{
    public const string FileName = "t.conf";

    public static ProxyConfig Load(string text) => ConfigLoader.LoadText(text, FileName, "/prefix");

    /// <summary>Wraps http-block contents in a minimal main context (the http block's first line is line 2).</summary>
    public static ProxyConfig LoadHttp(string httpBody) => Load(WrapHttp(httpBody));

    public static string WrapHttp(string httpBody) => "events {}\nhttp {\n" + httpBody + "\n}\n";

    public static string ErrorOf(string text) => NUnit.Framework.Assert.Throws<ConfigException>(() => Load(text))!.Message;

    public static LocationConfig OnlyLocation(ProxyConfig config) => config.Http.Servers.Single().Locations.Single();

    public static string Header(LocationConfig location, string name) =>
        location.Proxy.SetHeaders.Single(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value.Source;
}

/// <summary>A temporary directory deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("rk-config-").FullName;

    public string Write(string relative, string text)
    {
        string full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllText(full, text);
        return full;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
