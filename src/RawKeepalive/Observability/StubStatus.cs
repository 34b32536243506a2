using System.Text.Unicode;

namespace RawKeepalive.Observability;

/// <summary>ngx_http_stub_status_module's page, byte for byte (the trailing spaces included).</summary>
public static class StubStatus
{
    /// <summary>Room for the page with every figure at its longest (seven 20-digit numbers).</summary>
    public const int MaxLength = 256;

    /// <summary>Writes the page for <paramref name="t"/>; the number of bytes, or -1 when it does not fit.</summary>
    public static int Write(in SharedCounters.Totals t, Span<byte> destination) =>
        Utf8.TryWrite(destination,
            $"Active connections: {t.Active} \nserver accepts handled requests\n {t.Accepts} {t.Handled} {t.Requests} \nReading: {t.Reading} Writing: {t.Writing} Waiting: {t.Waiting} \n",
            out int written) ? written : -1;
}
