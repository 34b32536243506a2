using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// <see cref="Clients"/> parallel keep-alive clients (one thread each), each sending
/// <see cref="RequestsPerClient"/> requests in turn on its connection, reconnecting only when the
/// server closes it or a request fails. Request <c>j</c> of client <c>c</c> has global index
/// <c>c * RequestsPerClient + j</c>. The run is bounded by <see cref="Deadline"/> and by cancellation,
/// which also closes every client connection so no thread stays blocked.
/// </summary>
public sealed class LoadRunner
{
    private const int KeptFailures = 10;

    public required int Port { get; init; }
    public int Clients { get; init; } = 1;
    public int RequestsPerClient { get; init; } = 1;

    /// <summary>The request for a global index.</summary>
    public required Func<int, LoadRequest> Request { get; init; }

    /// <summary>Extra validation after status and body: null when the response is right, else why not.</summary>
    public Func<int, LoadRequest, HttpResponse, string?>? Validate { get; init; }

    /// <summary>Pause before request <c>j</c> of client <c>c</c> (think time).</summary>
    public Func<int, int, TimeSpan>? ThinkTime { get; init; }

    /// <summary>Observes every response that arrived (from the client threads, concurrently).</summary>
    public Action<int, HttpResponse>? OnResponse { get; init; }

    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan ReceiveTimeout { get; init; } = RawHttpClient.DefaultTimeout;

    public LoadResult Run(CancellationToken cancel = default)
    {
        int succeeded = 0, failed = 0, notRun = 0, connections = 0, timedOut = 0;
        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentQueue<string>();
        var live = new ConcurrentDictionary<int, RawHttpClient>();
        var clock = Stopwatch.StartNew();

        void Fail(int index, string why)
        {
            Interlocked.Increment(ref failed);
            if (failures.Count < KeptFailures)
                failures.Enqueue($"#{index}: {why}");
        }

        void Client(int client)
        {
            RawHttpClient? connection = null;
            try
            {
                for (int j = 0; j < RequestsPerClient; j++)
                {
                    if (ThinkTime?.Invoke(client, j) is { } pause && pause > TimeSpan.Zero)
                        cancel.WaitHandle.WaitOne(pause);
                    if (cancel.IsCancellationRequested || clock.Elapsed > Deadline)
                    {
                        Interlocked.Add(ref notRun, RequestsPerClient - j);
                        Interlocked.Exchange(ref timedOut, 1);
                        return;
                    }
                    int index = client * RequestsPerClient + j;
                    var request = Request(index);
                    try
                    {
                        if (connection is null)
                        {
                            connection = new RawHttpClient(Port, ReceiveTimeout);
                            live[client] = connection;
                            Interlocked.Increment(ref connections);
                        }
                        connection.Send(request.Head, request.Body);
                        var response = connection.ReadResponse(request.IsHead);
                        statuses.AddOrUpdate(response.Status, 1, (_, n) => n + 1);
                        OnResponse?.Invoke(index, response);
                        string? error = Check(index, request, response);
                        if (error is null)
                            Interlocked.Increment(ref succeeded);
                        else
                            Fail(index, error);
                        if (!response.KeepAlive)
                        {
                            connection.Dispose();
                            connection = null;
                        }
                    }
                    catch (Exception e) when (e is SocketException or IOException or InvalidDataException or ObjectDisposedException)
                    {
                        Fail(index, $"{e.GetType().Name}: {e.Message} (request: {request.Head.Split("\r\n")[0]})");
                        connection?.Dispose();
                        connection = null;
                    }
                }
            }
            finally
            {
                live.TryRemove(client, out _);
                connection?.Dispose();
            }
        }

        using var onCancel = cancel.Register(() =>
        {
            foreach (var client in live.Values)
                client.Dispose();
        });
        var threads = Enumerable.Range(0, Clients)
            .Select(c => new Thread(() => Client(c)) { IsBackground = true, Name = $"load-client-{c}" })
            .ToList();
        threads.ForEach(t => t.Start());
        var joinBy = Deadline + ReceiveTimeout + TimeSpan.FromSeconds(10);
        foreach (var thread in threads)
        {
            var left = joinBy - clock.Elapsed;
            if (!thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                foreach (var client in live.Values)
                    client.Dispose();
                thread.Join(TimeSpan.FromSeconds(5));
            }
        }
        return new LoadResult
        {
            Planned = Clients * RequestsPerClient,
            Succeeded = succeeded,
            Failed = failed,
            NotRun = notRun,
            TimedOut = timedOut != 0,
            ClientConnections = connections,
            StatusCounts = new Dictionary<int, int>(statuses),
            FirstFailures = failures.ToArray(),
            Elapsed = clock.Elapsed,
        };
    }

    private string? Check(int index, LoadRequest request, HttpResponse response)
    {
        if (response.Status != request.ExpectedStatus)
            return $"status {response.Status}, expected {request.ExpectedStatus} (request: {request.Head.Split("\r\n")[0]})\n{response.Head}";
        if (request.ExpectedBody is { } expected && !response.Body.AsSpan().SequenceEqual(expected))
            return $"body differs: {response.Body.Length} bytes, expected {expected.Length}, first difference at {FirstDifference(response.Body, expected)} (request: {request.Head.Split("\r\n")[0]})";
        return Validate?.Invoke(index, request, response);
    }

    public static int FirstDifference(byte[] actual, byte[] expected)
    {
        int common = actual.AsSpan().CommonPrefixLength(expected);
        return common;
    }
}
