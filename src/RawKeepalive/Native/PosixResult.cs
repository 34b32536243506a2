namespace RawKeepalive.Native;

/// <summary>A syscall's outcome without exceptions: a non-negative value, or -errno.</summary>
public readonly struct PosixResult(long value)
{
    public readonly long Value = value;
    public bool IsError => Value < 0;
    public int Errno => (int)-Value;
    public bool IsAgain => Value == -PosixErrors.EAGAIN;

    /// <summary>Turns a libc return value into a result, reading errno right after the call.</summary>
    public static PosixResult From(long ret) => ret >= 0 ? new PosixResult(ret) : new PosixResult(-Tmds.Linux.LibC.errno);

    public override string ToString() => IsError ? $"{Errno}: {PosixErrors.Describe(Errno)}" : Value.ToString();
}
