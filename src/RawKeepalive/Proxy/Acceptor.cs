using RawKeepalive.Loop;
using RawKeepalive.Native;
using RawKeepalive.Observability;
using RawKeepalive.Routing;

namespace RawKeepalive.Proxy;

/// <summary>Takes new client connections from a worker's listeners. When every connection slot is in
/// use it first frees idle keepalive clients (nginx's ngx_drain_connections); with none to free it
/// pauses, leaving new connections in the listen backlog, and resumes once a slot is free. When the
/// process runs out of descriptors (EMFILE, ENFILE) it pauses for <see cref="RetryDelayMs"/> and
/// tries again, as nginx's ngx_event_accept disables accept events for accept_mutex_delay. The
/// listeners are edge-triggered: each call accepts until EAGAIN, and after a pause the queue is
/// taken without waiting for a new connection to report it.</summary>
public sealed unsafe class Acceptor : IDisposable
{
    private const int AddressSize = 128;
    /// <summary>nginx's accept_mutex_delay default: how long accepting pauses after EMFILE or ENFILE.</summary>
    public const long RetryDelayMs = 500;

    private readonly Worker _w;
    private readonly LoopHost _host;
    private readonly ClientConnection[] _clients;
    private readonly Listener[] _listeners;
    private readonly Func<bool> _freeSlots;
    private readonly byte* _address = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(AddressSize);
    private long _connectionNumber;
    private bool _paused;
    private long _retryAtMs = long.MaxValue;

    /// <param name="freeSlots">Frees connection slots when every one is taken; false when it could not.</param>
    public Acceptor(Worker worker, LoopHost host, ClientConnection[] clients, Listener[] listeners, Func<bool> freeSlots)
    {
        _w = worker;
        _host = host;
        _clients = clients;
        _listeners = listeners;
        _freeSlots = freeSlots;
        for (int i = 0; i < listeners.Length; i++) host.AddListener(listeners[i].Fd, i);
    }

    /// <summary>When accepting resumes after running out of descriptors; long.MaxValue when it has not.</summary>
    public long RetryAtMs => _retryAtMs;

    public void OnReady(int index)
    {
        if (_retryAtMs == long.MaxValue) Accept(_listeners[index]);   // out of descriptors: the retry takes the queue
    }

    /// <summary>After each batch: a paused acceptor resumes once a slot is free, or once the pause after
    /// running out of descriptors is over.</summary>
    public void AfterBatch()
    {
        var table = _host.Table;
        bool resume = _retryAtMs != long.MaxValue ? _host.NowMs >= _retryAtMs : _paused && table.InUse < table.Capacity;
        if (!resume) return;
        _paused = false;
        _retryAtMs = long.MaxValue;
        foreach (var l in _listeners)   // edge-triggered: connections already queued raise no new event
            if (_retryAtMs == long.MaxValue) Accept(l);
    }

    /// <summary>A draining worker stops listening. Another process (the master, a new worker) still holds
    /// these sockets, so closing ours would not take them out of this epoll set: they are removed first.
    /// What is queued is taken and answered here: a slot the reload retired has no next worker, and its
    /// socket's queue would be reset when the last copy closes (the master already steers new
    /// connections away from it).</summary>
    public void StopListening()
    {
        foreach (var l in _listeners)
        {
            Accept(l);
            _host.RemoveListener(l.Fd);
            SocketInterop.Close(l.Fd);
        }
        _paused = false;   // nothing is left to resume accepting on
        _retryAtMs = long.MaxValue;
    }

    private void Accept(Listener listener)
    {
        var table = _host.Table;
        for (int accepted = 0; ; accepted++)
        {
            if (table.InUse == table.Capacity && !_freeSlots())
            {
                // Nothing to close: new connections wait in the listen backlog until a slot frees.
                _paused = true;
                return;
            }
            var r = SocketInterop.Accept(listener.Fd, _address, out int addrLen);
            if (r.IsError)
            {
                if (r.Errno == PosixErrors.EMFILE || r.Errno == PosixErrors.ENFILE)
                {
                    _w.Log.Write(LogLevel.Crit, 0, $"accept4() failed ({r})");
                    _retryAtMs = _host.NowMs + RetryDelayMs;
                }
                else if (!r.IsAgain && r.Errno != PosixErrors.EINTR)
                    _w.Log.Write(LogLevel.Alert, 0, $"accept4() failed ({r})");
                _host.Profile?.AcceptsPerEvent.Add(accepted);
                return;
            }
            int fd = (int)r.Value;
            int slot = table.Allocate(SlotKind.Client);   // free: checked above
            SocketInterop.SetNoDelay(fd);
            var client = _clients[slot];
            new ReadOnlySpan<byte>(_address, Math.Min(addrLen, AddressSize)).CopyTo(client.PeerAddress);
            client.Open(fd, ++_connectionNumber, listener);
            _w.Counters.Accepted();
            _w.Counters.Enter(ref client.Phase, ClientPhase.Waiting);
            _host.Add(fd, slot);
        }
    }

    public void Dispose() => System.Runtime.InteropServices.NativeMemory.Free(_address);
}
