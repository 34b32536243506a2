using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;

namespace RawKeepalive.Tests.Support;

using Process = System.Diagnostics.Process;

/// <summary>
/// Stock nginx (1.22 from apt: <c>make test-deps</c> installs it when missing) run in the foreground in a
/// temporary prefix, so a test can send it a request and read the log line nginx wrote for it, the
/// reference our lines must equal byte for byte. The http block's text is the test's; <c>{PORT}</c> is a
/// free port, <c>{PREFIX}</c> the prefix (nginx's temp paths are put there, so it needs no system dirs).
/// Dispose kills it and deletes the prefix.
/// </summary>
public sealed class NginxReference : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;

    /// <summary>NGINX_BIN, else nginx on the PATH or in /usr/sbin.</summary>
    public static string? Binary =>
        Environment.GetEnvironmentVariable("NGINX_BIN") is { Length: > 0 } fromEnv ? fromEnv
        : new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx" }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "nginx")))
            .FirstOrDefault(File.Exists);

    public string Prefix { get; } = Directory.CreateTempSubdirectory("rk-nginx-").FullName;
    public int Port { get; } = FreePort.Probe();

    public NginxReference(string httpBody)
    {
        string binary = Binary ?? throw new AssertionException("nginx is not installed: run `make test-deps` (apt's nginx), or set NGINX_BIN");
        Directory.CreateDirectory(Path.Combine(Prefix, "logs"));
        string temps = string.Concat(new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }.Select(t => $"{t}_temp_path {Prefix}/{t};\n"));
        string conf = $"daemon off;\nmaster_process off;\nerror_log {Prefix}/logs/error.log info;\npid {Prefix}/logs/nginx.pid;\n"
            + "events { worker_connections 64; }\nhttp {\n" + temps
            + httpBody.Replace("{PORT}", Port.ToString()).Replace("{PREFIX}", Prefix) + "\n}\n";
        File.WriteAllText(Path.Combine(Prefix, "nginx.conf"), conf);
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "-p", Prefix, "-e", Path.Combine(Prefix, "logs", "error.log"), "-c", Path.Combine(Prefix, "nginx.conf") })
            start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        if (!Wait.Until(() => _process.HasExited || ProxyProcess.Accepts(Port), StartTimeout) || _process.HasExited)
            throw new AssertionException($"nginx did not start: {Read("logs/error.log")}\n{conf}");
    }

    /// <summary>Sends <paramref name="request"/> (which must end the connection: HTTP/1.0 or
    /// "Connection: close") and reads the response until nginx closes, by which time it has logged it.</summary>
    public byte[] Exchange(string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.ReceiveTimeout = 10_000;
        socket.Connect(new IPEndPoint(IPAddress.Loopback, Port));
        socket.Send(Encoding.Latin1.GetBytes(request));
        var response = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = socket.Receive(buffer)) > 0) response.Write(buffer, 0, n);
        return response.ToArray();
    }

    /// <summary>A file under the prefix as Latin-1 text (log lines are bytes), "" when there is none.</summary>
    public string Read(string relative)
    {
        string path = Path.Combine(Prefix, relative);
        return File.Exists(path) ? Encoding.Latin1.GetString(File.ReadAllBytes(path)) : "";
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(Prefix, recursive: true);
        }
    }
}
