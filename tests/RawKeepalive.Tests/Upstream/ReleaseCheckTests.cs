using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using RawKeepalive.Config;
using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Tests.Support;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Upstream;

/// <summary>Issue 12: a connection goes back to the pool only if it is alive when its exchange releases
/// it. Each case is made exact, which end to end it cannot be (when the upstream's FIN lands against the
/// proxy's last read is up to the scheduler): <see cref="UpstreamConnections"/> over a real loopback
/// connection and a real epoll set, the test playing the worker loop (it dispatches the events) and the
/// exchange (it reads the response and releases the connection), and the upstream's socket in its hand.</summary>
[TestFixture, CancelAfter(30_000)]
public sealed class ReleaseCheckTests
{
    private static readonly TimeSpan Settles = TimeSpan.FromSeconds(10);

    [Test]
    public void AliveAndDrained_IsPooled_WithoutAPeek()
    {
        using var h = new Harness();
        h.Respond(drain: true);
        Assert.That(h.Up.ReadReady, Is.False, "the last read stopped at EAGAIN");
        h.Release();
        Assert.That(h.Pool.Contains(h.Up.Slot), Is.True);
        Assert.That(h.ClosedCount, Is.Zero);
    }

    [Test]
    public void AliveButNotDrained_IsPooledAfterThePeek()
    {
        using var h = new Harness();
        h.Respond(drain: false);
        Assert.That(h.Up.ReadReady, Is.True, "the last read did not reach EAGAIN");
        h.Release();
        Assert.That(h.Pool.Contains(h.Up.Slot), Is.True);
    }

    [Test]
    public void FinReportedWhileActive_ClosedAtRelease()
    {
        using var h = new Harness();
        h.Respond(drain: true);
        h.Server.Shutdown(SocketShutdown.Send);
        // The exchange sees the event (EPOLLIN|EPOLLRDHUP) and reads the EOF or not: either way epoll
        // will not report it again, so the pool's watch would never learn of it.
        h.PumpUntil(() => h.Up.HungUp, "EPOLLRDHUP reported");
        h.Release();
        h.AssertClosed(UpstreamCloseReason.ClosedAtRelease);
    }

    [Test]
    public void FinWaitingUnreported_AfterAnUndrainedRead_ClosedAtRelease()
    {
        using var h = new Harness();
        h.Respond(drain: false);
        h.Server.Shutdown(SocketShutdown.Send);
        h.WaitPending();
        h.Release();   // no event dispatched: the peek finds the EOF
        h.AssertClosed(UpstreamCloseReason.ClosedAtRelease);
    }

    [Test]
    public void ResetReportedWhileActive_ClosedAtRelease()
    {
        using var h = new Harness();
        h.Respond(drain: true);
        h.Server.LingerState = new LingerOption(true, 0);
        h.Server.Close();   // RST
        h.PumpUntil(() => h.Up.HungUp, "EPOLLHUP/EPOLLERR reported");
        h.Release();
        h.AssertClosed(UpstreamCloseReason.ClosedAtRelease);
    }

    [Test]
    public void StrayBytesAfterTheResponse_UnexpectedDataAtRelease()
    {
        using var h = new Harness();
        h.Respond(drain: true);
        h.Server.Send("HTTP/1.1 200 OK\r\n"u8.ToArray());   // nothing asked for it
        h.PumpUntil(() => h.Up.ReadReady, "EPOLLIN reported");
        h.Release();
        h.AssertClosed(UpstreamCloseReason.UnexpectedDataAtRelease);
        Assert.That(h.Up.HungUp, Is.False);
    }

    [Test]
    public void FinArrivingAfterADrainedRead_IsPooled_ThenClosedWhileIdleByItsEvent()
    {
        using var h = new Harness();
        h.Respond(drain: true);
        h.Server.Shutdown(SocketShutdown.Send);
        h.WaitPending();
        h.Release();   // its event is still queued in epoll: the connection is pooled, and that event is not lost
        Assert.That(h.Pool.Contains(h.Up.Slot), Is.True);
        h.PumpUntil(() => h.ClosedCount == 1, "closed by the idle watch");
        h.AssertClosed(UpstreamCloseReason.ClosedWhileIdle);
    }

    [Test]
    public void ShortRead_EmptiesTheSocket_SoReleaseNeedsNoPeek()
    {
        using var h = new Harness();
        h.Server.Send("HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
        h.PumpUntil(() => h.Up.ReadReady, "the response is readable");
        long got = h.Read();
        h.Up.AfterReceive(got, 4096);
        Assert.That(h.Up.ReadReady, Is.False, $"{got} of 4096 bytes: nothing left to read");
        h.Release();
        Assert.That(h.Pool.Contains(h.Up.Slot), Is.True);
    }

    [Test]
    public void ShortRead_AfterAReportedHangUp_LeavesTheEofToRead()
    {
        using var h = new Harness();
        h.Server.Send("HTTP/1.1 200 OK\r\n"u8.ToArray());
        h.Server.Shutdown(SocketShutdown.Send);
        h.PumpUntil(() => h.Up.HungUp, "EPOLLRDHUP reported with the data");
        h.Up.AfterReceive(h.Read(), 4096);
        Assert.That(h.Up.ReadReady, Is.True, "no event will report the EOF again");
        Assert.That(h.Read(), Is.Zero, "the EOF");
    }

    /// <summary>One upstream connection, opened through <see cref="UpstreamConnections"/> to a listener of
    /// the test's, with the listener's side of it as <see cref="Server"/>.</summary>
    private sealed unsafe class Harness : IDisposable, IUpstreamOwner
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly ConnectionTable _table = new(8);
        private readonly EventLoop _loop = new();
        private readonly BufferSlab _slab = new(4096, 8, 8);
        private readonly UpstreamConnections _upstreams;
        private readonly UpstreamGroup _group;
        private readonly LocationPool _pool;
        private long _now = 1_000;

        public KeepalivePool Pool => _pool.Cache;
        public Socket Server { get; }
        public UpstreamConnection Up { get; }

        public Harness()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(4);
            _upstreams = new UpstreamConnections(_table, _loop, _slab, new TimerWheel(8, 10, _now), () => false);
            var config = new UpstreamConfig
            {
                Name = "u", File = "test", Keepalive = 4,
                Servers = [new UpstreamServerConfig { Text = "t", Addresses = [(IPEndPoint)_listener.LocalEndPoint!] }],
            };
            _group = new UpstreamGroup(config, 8);
            _pool = _group.PoolForLocation()!;
            _upstreams.AddPool(_pool);
            Assert.That(_group.Peers[0].TryReserve(_now), Is.True, "no max_conns");
            Up = _upstreams.Open(_group.Peers[0], _group, _pool, _now, out int errno, out _)
                ?? throw new InvalidOperationException($"connect failed: {errno}");
            Server = _listener.Accept();
            _upstreams.Attach(Up, this, reused: false);
            PumpUntil(() => Up.State == UpstreamState.Active, "connected");
        }

        public long ClosedCount => Enum.GetValues<UpstreamCloseReason>().Sum(r => _group.Stats.Closed(r));

        /// <summary>Plays the worker loop until <paramref name="condition"/> holds.</summary>
        public void PumpUntil(Func<bool> condition, string what) =>
            Assert.That(Wait.Until(() => { Pump(); return condition(); }, Settles), Is.True, what);

        /// <summary>The worker's part: one epoll_wait, its events handed over.</summary>
        public void Pump()
        {
            int n = _loop.Wait(10);
            for (int i = 0; i < n; i++)
            {
                int slot = ConnectionTable.SlotOf(_loop.Event(i).Token);
                if (_table.Kind(slot) == SlotKind.Upstream) _upstreams.OnEvent(_upstreams[slot], _loop.Event(i).Events);
            }
        }

        /// <summary>The exchange's part: the upstream answers, and it is read as the exchange reads,
        /// to EAGAIN (<paramref name="drain"/>) or just the bytes a response's framing asked for.</summary>
        public void Respond(bool drain)
        {
            Server.Send("HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
            PumpUntil(() => Up.ReadReady, "the response is readable");
            byte* buffer = _slab.Pointer(Up.Buffer);
            Assert.That(SocketInterop.Receive(Up.Fd, buffer, 4096).Value, Is.EqualTo(27));
            if (drain)
            {
                Assert.That(SocketInterop.Receive(Up.Fd, buffer, 4096).IsAgain, Is.True);
                Up.ReadReady = false;
            }
        }

        /// <summary>One receive into the connection's buffer, as the exchange does it.</summary>
        public long Read() => Up.Stream.Receive(_slab.Pointer(Up.Buffer), 4096).Value;

        /// <summary>Waits until what the upstream did has reached the connection's socket.</summary>
        public void WaitPending() =>
            Assert.That(Wait.Until(() => !SocketInterop.Peek(Up.Fd).IsAgain, Settles), Is.True, "the upstream's act arrived");

        public void Release() => _upstreams.Release(Up, reusable: true, UpstreamCloseReason.NotReusable, stopping: false, _now);

        public void AssertClosed(UpstreamCloseReason reason)
        {
            Assert.Multiple(() =>
            {
                Assert.That(_group.Stats.Closed(reason), Is.EqualTo(1), reason.ToString());
                Assert.That(_group.Peers[0].Stats.Closed(reason), Is.EqualTo(1), $"{reason} for the peer");
                Assert.That(ClosedCount, Is.EqualTo(1), "closed once");
                Assert.That(Pool.Count, Is.Zero, "not pooled");
            });
        }

        public void OnUpstreamConnected(int error) => Up.State = error == 0 ? UpstreamState.Active : UpstreamState.Closed;
        public void OnUpstreamReady() { }
        public void OnUpstreamTimeout() { }

        public void Dispose()
        {
            _upstreams.CloseAll(UpstreamCloseReason.Shutdown);
            _loop.Dispose();
            Server.Dispose();
            _listener.Dispose();
        }
    }
}
