using System.Collections.Concurrent;
using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests.Integration;

/// <summary>
/// Issue 12, "A dead connection is pooled": the upstream answers <c>200</c> with <c>Content-Length: 2</c> and
/// closes (FIN) right after each response without saying so. A GET, then ~200 ms later a POST: the POST must
/// never go out on the connection the GET left behind, because the upstream had closed it before it was
/// released (a POST is not replayed, so it would be a 502).
/// </summary>
[TestFixture, Category("Integration"), CancelAfter(120_000)]
public sealed class ReleaseLivenessTests : ProxyTestBase
{
    // Five clients at once, each on its own location: with the implicit "keepalive 32 local" a location only
    // takes back its own connections, so each client's POST meets exactly the connection its GET left, as
    // with one client, and 200 pairs take a fifth of the time.
    private const int Clients = 5, PairsPerClient = 40;

    [Test]
    public void UpstreamClosingAfterEachResponse_NoPostMeetsTheDeadConnection()
    {
        var backend = StartBackend();
        string locations = string.Concat(Enumerable.Range(0, Clients).Select(i => $"location /l{i} {{ proxy_pass http://app_backend; }}\n"));
        var proxy = StartProxy($$"""
            events { worker_connections 1024; }
            http {
                upstream app_backend { server 127.0.0.1:{BACKEND}; }
                server {
                    listen 127.0.0.1:{PORT};
                    {{locations}}
                }
            }
            """, backend);
        var clients = Enumerable.Range(0, Clients).Select(_ => Connect(proxy)).ToArray();
        var failures = new ConcurrentQueue<string>();
        int postFailures = 0, getFailures = 0;

        var threads = Enumerable.Range(0, Clients).Select(c => new Thread(() =>
        {
            var client = clients[c];
            try
            {
                Pairs(c, client);
            }
            catch (Exception e)
            {
                failures.Enqueue($"client {c}: {e.GetType().Name}: {e.Message}");
            }
        }) { IsBackground = true, Name = $"pairs-{c}" }).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.That(t.Join(TimeSpan.FromSeconds(100)), Is.True, "the pairs finish");

        TestContext.Out.WriteLine($"measured: {postFailures} of {Clients * PairsPerClient} POSTs and {getFailures} GETs failed; " +
            $"{backend.AcceptedConnections} upstream connections");
        Assert.That(failures, Has.Count.Zero,
            $"{postFailures} POST and {getFailures} GET failures of {Clients * PairsPerClient} pairs; first: {string.Join("; ", failures.Take(10))}");
        Assert.That(backend.RequestCount, Is.EqualTo(2 * Clients * PairsPerClient), "each request reached the backend once");

        void Pairs(int c, RawHttpClient client)
        {
            for (int i = 0; i < PairsPerClient && !Cancellation.IsCancellationRequested; i++)
            {
                var get = client.Get($"/l{c}?size=2&fin=1");
                if (get.Status != 200 || get.Body.Length != 2)
                {
                    Interlocked.Increment(ref getFailures);
                    failures.Enqueue($"client {c} pair {i} GET: {get.Status}");
                }
                Thread.Sleep(200);   // the stimulus: the upstream's FIN has long arrived when the POST comes
                var post = client.Post($"/l{c}?size=2&fin=1", TestBackend.Body(2));
                if (post.Status != 200 || post.Body.Length != 2)
                {
                    Interlocked.Increment(ref postFailures);
                    failures.Enqueue($"client {c} pair {i} POST: {post.Status}");
                }
            }
        }
    }
}
