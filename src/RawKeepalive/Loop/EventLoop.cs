using System.Runtime.InteropServices;
using RawKeepalive.Native;

namespace RawKeepalive.Loop;

/// <summary>One epoll instance and its event array. Registrations are edge-triggered and made once
/// per descriptor for its whole life (read, write and peer-close together): the owner keeps
/// ready flags and drains until EAGAIN, as nginx does, so there is never a re-arm syscall.</summary>
public sealed unsafe class EventLoop : IDisposable
{
    public const int MaxEvents = 512;
    public static readonly uint ReadWrite = EpollInterop.In | EpollInterop.Out | EpollInterop.RdHup | EpollInterop.EdgeTriggered;
    public static readonly uint ReadOnly = EpollInterop.In | EpollInterop.RdHup | EpollInterop.EdgeTriggered;

    private readonly int _epfd;
    private readonly EpollEvent* _events;

    public EventLoop()
    {
        var r = EpollInterop.Create();
        if (r.IsError) throw new InvalidOperationException($"epoll_create1() failed ({r})");
        _epfd = (int)r.Value;
        _events = (EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(EpollEvent));
    }

    public PosixResult Add(int fd, uint events, ulong token) => EpollInterop.Add(_epfd, fd, events, token);

    public PosixResult Remove(int fd) => EpollInterop.Remove(_epfd, fd);

    /// <summary>Waits for events; returns how many are in Event(0..n-1). EINTR counts as zero.</summary>
    public int Wait(int timeoutMs)
    {
        var r = EpollInterop.Wait(_epfd, _events, MaxEvents, timeoutMs);
        return r.IsError ? 0 : (int)r.Value;
    }

    public ref EpollEvent Event(int i) => ref _events[i];

    public void Dispose()
    {
        SocketInterop.Close(_epfd);
        NativeMemory.Free(_events);
    }
}
