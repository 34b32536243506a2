using System.Diagnostics;
using System.Numerics;
using System.Text;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>Master and worker processes against the published binary: pinned workers, reload,
/// respawn, master death, graceful quit, a broken reload. Signals go straight to the pid the pid
/// file names, which is what <c>-s</c> does.</summary>
[TestFixture]
[NonParallelizable]
public sealed class ProcessesTests : ProxyTestBase
{
    private const int Hup = 1, Quit = 3, Kill = 9;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    private static string ReturnConfig(string body, int workers = 2, string extra = "") => $$"""
        worker_processes {{workers}};
        {{extra}}
        events { worker_connections 256; }
        http {
            server {
                listen 127.0.0.1:{PORT};
                location / { return 200 "{{body}}"; }
            }
        }
        """;

    private ProxyProcess StartMaster(string template, int backend = 0)
    {
        var proxy = Track(ProxyProcess.Start(template, backend, master: true));
        Assert.That(Wait.Until(() => proxy.ChildPids().Length == WorkersIn(template), Settle), Is.True, "workers did not start");
        return proxy;
    }

    private static int WorkersIn(string template)
    {
        int at = template.IndexOf("worker_processes ", StringComparison.Ordinal) + "worker_processes ".Length;
        return int.Parse(template[at..template.IndexOf(';', at)]);
    }

    [Test]
    [CancelAfter(60_000)]
    public void TwoWorkersArePinnedToDifferentCoresAndBothServe()
    {
        Assume.That(Environment.ProcessorCount, Is.GreaterThanOrEqualTo(2), "needs two cores");
        var proxy = StartMaster(ReturnConfig("pinned", extra: "worker_cpu_affinity auto;"));
        int[] workers = proxy.ChildPids();

        var masks = workers.Select(ProcessesProbe.ThreadMasks).ToArray();
        for (int i = 0; i < workers.Length; i++)
        {
            Assert.That(masks[i], Has.Length.GreaterThan(1), $"worker {workers[i]} threads");
            Assert.That(masks[i].Distinct().Count(), Is.EqualTo(1), $"every thread of worker {workers[i]} has the same mask");
            Assert.That(BitOperations.PopCount(masks[i][0]), Is.EqualTo(1), $"worker {workers[i]} is pinned to one core");
        }
        Assert.That(masks[0][0], Is.Not.EqualTo(masks[1][0]), "the two workers are on different cores");

        // The kernel spreads connections over the workers' reuseport sockets by hash: enough
        // connections reach both.
        var served = new HashSet<int>();
        var clients = new List<RawHttpClient>();
        for (int i = 0; i < 64 && served.Count < 2; i++)
        {
            var client = Connect(proxy);
            clients.Add(client);
            var response = client.Get("/");
            Assert.That(response.BodyText, Is.EqualTo("pinned"));
            served.Add(ProcessesProbe.OwnerOf(workers, proxy.Port, client.LocalPort));
        }
        Assert.That(served, Is.EquivalentTo(workers), "both workers served requests");
    }

    [Test]
    [CancelAfter(90_000)]
    public void FiveReloadsUnderKeepaliveLoadLoseNothingAndServeTheNewConfig()
    {
        var proxy = StartMaster(ReturnConfig("gen0"));
        int[] first = proxy.ChildPids();
        int responses = 0;
        var latest = new int[1];
        var load = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 4,
            RequestsPerClient = 1_000_000,
            Deadline = TimeSpan.FromSeconds(10),
            Request = _ => LoadRequest.Get("/"),
            Validate = (_, _, r) => r.BodyText.StartsWith("gen", StringComparison.Ordinal) ? null : $"body {r.BodyText}",
            OnResponse = (_, r) =>
            {
                Interlocked.Increment(ref responses);
                int gen = r.BodyText[3] - '0';
                int seen;
                while ((seen = Volatile.Read(ref latest[0])) < gen && Interlocked.CompareExchange(ref latest[0], gen, seen) != seen)
                {
                }
            },
        };
        var run = Task.Run(() => load.Run(Cancellation));

        for (int gen = 1; gen <= 5; gen++)
        {
            int before = Volatile.Read(ref responses);
            Assert.That(Wait.Until(() => Volatile.Read(ref responses) > before + 200, Settle), Is.True, $"load runs before reload {gen}");
            File.WriteAllText(proxy.ConfigPath, proxy.ConfigText.Replace("gen0", $"gen{gen}", StringComparison.Ordinal));
            proxy.Signal(Hup);
            int expected = gen;
            Assert.That(Wait.Until(() => Volatile.Read(ref latest[0]) == expected, Settle), Is.True, $"generation {gen} serves");
        }
        var result = run.Result;
        TestContext.Out.WriteLine(result);
        Assert.That(result.Failed, Is.Zero, result.ToString());
        Assert.That(result.Succeeded, Is.GreaterThan(1000), result.ToString());

        Assert.That(Wait.Until(() => proxy.ChildPids().Length == 2, Settle), Is.True, "old workers exit after draining");
        Assert.That(proxy.ChildPids().Intersect(first), Is.Empty);
        using var client = Connect(proxy);
        Assert.That(client.Get("/").BodyText, Is.EqualTo("gen5"));
    }

    [Test]
    [CancelAfter(120_000)]
    public void ReloadsThatChangeTheWorkerCountDropNoNewConnection()
    {
        // Every request on a fresh connection, so connections sit in the listen queues at every
        // reload; going from 4 workers to 1 retires three slots' sockets, whose queues must not be reset.
        var proxy = StartMaster(ReturnConfig("gen0", workers: 4));
        int responses = 0;
        var load = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 48,
            RequestsPerClient = 1_000_000,
            Deadline = TimeSpan.FromSeconds(12),
            Request = _ => new LoadRequest("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            Validate = (_, _, r) => r.BodyText.StartsWith("gen", StringComparison.Ordinal) ? null : $"body {r.BodyText}",
            OnResponse = (_, _) => Interlocked.Increment(ref responses),
        };
        var run = Task.Run(() => load.Run(Cancellation));

        for (int gen = 1; gen <= 6; gen++)
        {
            int before = Volatile.Read(ref responses);
            Assert.That(Wait.Until(() => Volatile.Read(ref responses) > before + 200, Settle), Is.True, $"load runs before reload {gen}");
            int workers = gen % 2 == 1 ? 1 : 4;
            File.WriteAllText(proxy.ConfigPath, proxy.ConfigText.Replace("worker_processes 4;", $"worker_processes {workers};", StringComparison.Ordinal));
            proxy.Signal(Hup);
            Assert.That(Wait.Until(() => proxy.ChildPids().Length == workers, Settle), Is.True, $"reload {gen}: {workers} workers");
        }
        var result = run.Result;
        TestContext.Out.WriteLine(result);
        Assert.That(result.Failed, Is.Zero, result.ToString());
        Assert.That(result.Succeeded, Is.GreaterThan(1000), result.ToString());
    }

    [Test]
    [CancelAfter(60_000)]
    public void AKilledWorkerIsRestartedAndTheServiceGoesOn()
    {
        var proxy = StartMaster(ReturnConfig("alive"));
        int[] before = proxy.ChildPids();
        int responses = 0;
        var load = new LoadRunner
        {
            Port = proxy.Port,
            Clients = 4,
            RequestsPerClient = 1_000_000,
            Deadline = TimeSpan.FromSeconds(8),
            Request = _ => LoadRequest.Get("/", Encoding.ASCII.GetBytes("alive")),
            OnResponse = (_, _) => Interlocked.Increment(ref responses),
        };
        var run = Task.Run(() => load.Run(Cancellation));
        Assert.That(Wait.Until(() => Volatile.Read(ref responses) > 200, Settle), Is.True, "load runs");

        proxy.ExpectLog($"worker process {before[0]} exited on signal 9, restarting it");
        ProxyProcess.SendSignal(before[0], Kill);
        Assert.That(Wait.Until(() => proxy.ChildPids() is { Length: 2 } now && !now.Contains(before[0]), Settle), Is.True, "a new worker replaces the killed one");
        int afterRespawn = Volatile.Read(ref responses);
        Assert.That(Wait.Until(() => Volatile.Read(ref responses) > afterRespawn + 200, Settle), Is.True, "the service goes on");

        var result = run.Result;
        TestContext.Out.WriteLine(result);
        // Only what the killed worker had in flight fails: at most one request per client connection.
        Assert.That(result.Failed, Is.LessThanOrEqualTo(load.Clients), result.ToString());
        Assert.That(proxy.ErrorLog, Does.Contain($"worker process {before[0]} exited on signal 9"));
    }

    [Test]
    [CancelAfter(30_000)]
    public void WorkersExitWithinASecondOfTheMastersDeath()
    {
        var proxy = StartMaster(ReturnConfig("orphan"));
        int[] workers = proxy.ChildPids();
        proxy.ExpectLog("the master process is gone, exiting");   // each worker, as it leaves
        try
        {
            proxy.Signal(Kill);
            Assert.That(proxy.WaitForExit(TimeSpan.FromSeconds(5)), Is.Not.Null);
            var clock = Stopwatch.StartNew();
            bool gone = Wait.Until(() => workers.All(p => !File.Exists($"/proc/{p}/stat") || IsZombie(p)), TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(20));
            Assert.That(gone, Is.True, $"workers still running {clock.ElapsedMilliseconds} ms after the master died");
        }
        finally
        {
            foreach (int pid in workers)
            {
                try { ProxyProcess.SendSignal(pid, Kill); } catch (InvalidOperationException) { }
            }
        }
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public void QuitLetsInFlightRequestsFinishThenTheMasterExitsAndRemovesThePidFile()
    {
        var backend = StartBackend();
        var proxy = StartMaster($$"""
            worker_processes 2;
            events { worker_connections 256; }
            http {
                upstream b { server 127.0.0.1:{BACKEND}; keepalive 8; }
                server {
                    listen 127.0.0.1:{PORT};
                    location / { proxy_pass http://b; }
                }
            }
            """, backend.Port);
        Assert.That(Wait.Until(() => File.Exists(proxy.PidFilePath), Settle), Is.True);
        Assert.That(int.Parse(File.ReadAllText(proxy.PidFilePath).Trim()), Is.EqualTo(proxy.ProcessId));

        // Requests in flight on several connections (so on both workers, most likely), held at the backend
        // until every worker has begun to drain.
        int[] workers = proxy.ChildPids();
        Assert.That(workers.All(w => ProcessesProbe.Listens(w, proxy.Port)), Is.True, "each worker listens");
        var slow = Enumerable.Range(0, 4).Select(_ => Connect(proxy)).ToList();
        foreach (var c in slow)
            c.Send("GET /slow?hold=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.That(Wait.Until(() => backend.RequestCount >= slow.Count, Settle), Is.True, "requests reached the backend");

        proxy.Signal(Quit);
        Assert.That(Wait.Until(() => !workers.Any(w => ProcessesProbe.Listens(w, proxy.Port)), Settle), Is.True,
            "the workers drain: they close their listening sockets");
        backend.ReleaseHeld();
        foreach (var c in slow)
        {
            var response = c.ReadResponse();
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.KeepAlive, Is.False, "a draining worker answers with Connection: close");
        }
        Assert.That(proxy.WaitForExit(Settle), Is.Not.Null, "the master exits");
        Assert.That(File.Exists(proxy.PidFilePath), Is.False, "the pid file is removed");
        Assert.That(proxy.ErrorLog, Does.Contain("gracefully shutting down"));
    }

    [Test]
    [CancelAfter(60_000)]
    public void ABrokenReloadKeepsTheOldConfigAndLogsFileAndLine()
    {
        var proxy = StartMaster(ReturnConfig("old"));
        int[] workers = proxy.ChildPids();
        string broken = proxy.ConfigText.Replace("return 200 \"old\";", "return 200 \"new\"; bogus_directive on;", StringComparison.Ordinal);
        File.WriteAllText(proxy.ConfigPath, broken);
        int line = ProxyProcess.LineOf(broken, "bogus_directive");

        proxy.ExpectLog($"unknown directive \"bogus_directive\" in {proxy.ConfigPath}:{line}");
        proxy.Signal(Hup);
        Assert.That(proxy.WaitForErrorLog($"unknown directive \"bogus_directive\" in {proxy.ConfigPath}:{line}"), Is.True, proxy.ErrorLog);
        using var client = Connect(proxy);
        Assert.That(client.Get("/").BodyText, Is.EqualTo("old"));
        Assert.That(proxy.ChildPids(), Is.EqualTo(workers), "the old workers keep running");
    }
}
