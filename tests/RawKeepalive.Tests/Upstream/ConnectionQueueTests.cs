using NUnit.Framework;
using RawKeepalive.Tests.Support;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Upstream;

[TestFixture, CancelAfter(60_000)]
public class ConnectionQueueTests
{
    /// <summary>A waiter that resumes while <see cref="Free"/> connections last, and records what happened to it.</summary>
    private sealed class Waiter(int id, List<string> log, Func<bool> take) : IQueuedRequest
    {
        public bool TryResume()
        {
            if (!take()) return false;
            log.Add($"resumed {id}");
            return true;
        }

        public void OnQueueTimeout() => log.Add($"timed out {id}");
    }

    private static (ConnectionQueue, List<string>, Waiter[], Func<int>, Action<int>) Setup(int capacity, long timeoutMs)
    {
        var q = new ConnectionQueue(capacity, timeoutMs, maxId: 16);
        var log = new List<string>();
        int free = 0;
        var waiters = Enumerable.Range(0, 16).Select(i => new Waiter(i, log, () => free > 0 && free-- > 0)).ToArray();
        return (q, log, waiters, () => free, n => free = n);
    }

    [Test]
    public void Serve_ResumesInArrivalOrder_WhileConnectionsLast_TheRestKeepTheirPlace()
    {
        var (q, log, w, _, setFree) = Setup(8, 1000);
        foreach (int id in new[] { 5, 2, 9, 1 }) Assert.That(q.Enqueue(id, w[id], 0), Is.True);
        setFree(2);
        q.Woken = true;
        q.Serve(10);
        Assert.That(log, Is.EqualTo(new[] { "resumed 5", "resumed 2" }));
        Assert.That(q.Count, Is.EqualTo(2));
        q.Serve(20);   // not woken: nothing is tried
        setFree(1);
        q.Serve(30);
        Assert.That(q.Count, Is.EqualTo(2), "only a released or closed connection wakes it");
        q.Woken = true;
        q.Serve(40);
        Assert.That(log, Is.EqualTo(new[] { "resumed 5", "resumed 2", "resumed 9" }), "the one put back at the head went first");
    }

    [Test]
    public void Full_RefusesTheNext_ALeaverFreesItsPlace()
    {
        var (q, _, w, _, _) = Setup(2, 1000);
        Assert.That(q.Enqueue(3, w[3], 0), Is.True);
        Assert.That(q.Enqueue(4, w[4], 0), Is.True);
        Assert.That(q.Enqueue(5, w[5], 0), Is.False);
        Assert.That(q.Remove(3), Is.True);
        Assert.That(q.Remove(3), Is.False);
        Assert.That(q.Enqueue(5, w[5], 0), Is.True);
        Assert.That(q.Contains(4) && q.Contains(5) && !q.Contains(3), Is.True);
    }

    [Test]
    public void Timeout_AnswersTheHeadsWhoseDeadlinePassed()
    {
        var (q, log, w, _, _) = Setup(8, 100);
        q.Enqueue(1, w[1], 0);
        q.Enqueue(2, w[2], 50);
        q.Enqueue(3, w[3], 120);
        Assert.That(q.NextDeadlineMs, Is.EqualTo(100));
        q.Serve(160);
        Assert.That(log, Is.EqualTo(new[] { "timed out 1", "timed out 2" }));
        Assert.That(q.NextDeadlineMs, Is.EqualTo(220));
        q.Serve(220);
        Assert.That(q.Count, Is.EqualTo(0));
        Assert.That(q.NextDeadlineMs, Is.EqualTo(long.MaxValue));
    }

    [Test]
    public void EnqueueLeaveServe_AllocateNothing()
    {
        var (q, _, w, _, setFree) = Setup(16, 1000);
        long bytes = Allocations.SteadyState(() =>
        {
            for (int i = 0; i < 16; i++) q.Enqueue(i, w[i], 0);
            for (int i = 0; i < 16; i += 2) q.Remove(i);
            setFree(0);
            q.Woken = true;
            q.Serve(1);
            for (int i = 1; i < 16; i += 2) q.Remove(i);
        });
        Assert.That(bytes, Is.EqualTo(0));
    }
}
