using RawKeepalive.Native;

namespace RawKeepalive.Loop;

/// <summary>The byte stream of one connection leg, client or upstream: the seam where TLS slots in
/// (client termination, <c>proxy_pass https://</c>) without the exchange changing. Plaintext is
/// <see cref="PlainTransport"/>: the socket calls themselves. A TLS transport would be one instance
/// per connection holding its session; the calls keep their non-blocking contract (EAGAIN when it
/// must wait, a byte count otherwise).</summary>
public unsafe interface ITransport
{
    PosixResult Receive(int fd, byte* buffer, int length);

    PosixResult Send(int fd, byte* buffer, int length);

    PosixResult SendVector(int fd, Iovec* iov, int count);

    /// <summary>No more bytes will be sent (lingering close; TLS would send close_notify first).</summary>
    void ShutdownWrite(int fd);

    /// <summary>Whether bytes may move socket → pipe → socket with splice(): only when what is on the
    /// wire is the payload itself (plaintext on both legs).</summary>
    bool CanSplice { get; }

    /// <summary>Whether a Receive that returned fewer bytes than asked left nothing to read: true for
    /// plaintext (the socket's queue was emptied), not for TLS (a session hands out a record at a time).</summary>
    bool ShortReadDrains { get; }
}

/// <summary>Plaintext: every call is the socket call, and splice() keeps its zero-copy path. One
/// instance serves every connection (it holds no state).</summary>
public sealed unsafe class PlainTransport : ITransport
{
    public static readonly PlainTransport Instance = new();

    private PlainTransport() { }

    public PosixResult Receive(int fd, byte* buffer, int length) => SocketInterop.Receive(fd, buffer, length);

    public PosixResult Send(int fd, byte* buffer, int length) => SocketInterop.Send(fd, buffer, length);

    public PosixResult SendVector(int fd, Iovec* iov, int count) => SocketInterop.SendVector(fd, iov, count);

    public void ShutdownWrite(int fd) => SocketInterop.ShutdownWrite(fd);

    public bool CanSplice => true;

    public bool ShortReadDrains => true;
}

/// <summary>A connection's descriptor with its transport: what the body relays read from and write to.</summary>
public readonly unsafe struct SocketStream(ITransport transport, int fd)
{
    public ITransport Transport { get; } = transport;
    public int Fd { get; } = fd;

    public PosixResult Receive(byte* buffer, int length) => Transport.Receive(Fd, buffer, length);

    public PosixResult Send(byte* buffer, int length) => Transport.Send(Fd, buffer, length);

    public PosixResult SendVector(Iovec* iov, int count) => Transport.SendVector(Fd, iov, count);
}
