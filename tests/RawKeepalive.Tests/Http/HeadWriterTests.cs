using System.Text;
using NUnit.Framework;
using RawKeepalive.Http;

namespace RawKeepalive.Tests.Http;

/// <summary>Issue 10: a generated head is measured, then written into room of that size, and a write
/// that does not fit says so instead of cutting.</summary>
[TestFixture]
public sealed class HeadWriterTests
{
    [Test]
    public void Measuring_CountsEverything_AndTheClientsShare()
    {
        var w = HeadWriter.Measuring();
        Assert.That(w.TryAppend("X-A: "u8) && w.TryAppendClient("client"u8) && w.TryAppendDecimal(12345) && w.TryAppendByte((byte)'\n'), Is.True);
        Assert.That((w.Length, w.ClientBytes), Is.EqualTo((5 + 6 + 5 + 1, 6)));
    }

    [Test]
    public void Writing_IntoTheMeasuredRoom_FillsItExactly()
    {
        var measured = HeadWriter.Measuring();
        Write(ref measured);
        var room = new byte[measured.Length];
        var w = new HeadWriter(room);
        Assert.That(Write(ref w), Is.True);
        Assert.That(Encoding.ASCII.GetString(room), Is.EqualTo("Host: example.test\r\nContent-Length: 42\r\n"));
    }

    [Test]
    public void AnAppendThatDoesNotFit_ReturnsFalse_AndWritesNothingOfIt()
    {
        var room = new byte[8];
        var w = new HeadWriter(room);
        Assert.That(w.TryAppend("Host"u8), Is.True);
        Assert.That(w.TryAppend(": example"u8), Is.False);
        Assert.That(w.Length, Is.EqualTo(4));
        Assert.That(room.AsSpan(4).ToArray(), Is.All.EqualTo(0), "no partial copy");
        Assert.That(w.TryAppendDecimal(123456), Is.False);
        Assert.That(w.TryAppendClientLower("ABCD"u8), Is.True);
        Assert.That(Encoding.ASCII.GetString(room), Is.EqualTo("Hostabcd"));
        Assert.That(w.TryAppendByte((byte)'x'), Is.False);
    }

    [Test]
    public void Rewind_DropsWhatWasAppendedSince()
    {
        var room = new byte[16];
        var w = new HeadWriter(room);
        Assert.That(w.TryAppend("A: "u8), Is.True);
        int length = w.Length, client = w.ClientBytes;
        Assert.That(w.TryAppend("X-Empty: "u8) && w.TryAppendClient("v"u8), Is.True);
        w.Rewind(length, client);
        Assert.That((w.Length, w.ClientBytes), Is.EqualTo((3, 0)));
        Assert.That(w.TryAppendClient("bc"u8), Is.True);
        Assert.That(Encoding.ASCII.GetString(room, 0, w.Length), Is.EqualTo("A: bc"));
    }

    private static bool Write(ref HeadWriter w) =>
        w.TryAppend("Host: "u8) && w.TryAppendClientLower("Example.Test"u8) && w.TryAppend("\r\n"u8)
        && HeaderBytes.TryWriteContentLength(42, ref w);
}
