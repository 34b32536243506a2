using NUnit.Framework;
using RawKeepalive.Loop;

namespace RawKeepalive.Tests.Loop;

[TestFixture, CancelAfter(60_000)]
public class TimerWheelTests
{
    private const int Rotation = 4096;  // the wheel's slot count, at a 1 ms tick

    [Test]
    public void Set_ExpiresAtItsDueTime()
    {
        var wheel = new TimerWheel(16, 1, 0);
        wheel.Set(3, 100);
        Assert.Multiple(() =>
        {
            Assert.That(wheel.IsSet(3), Is.True);
            Assert.That(wheel.Count, Is.EqualTo(1));
            Assert.That(wheel.PopExpired(99), Is.EqualTo(-1));
            Assert.That(wheel.PopExpired(100), Is.EqualTo(3));
            Assert.That(wheel.PopExpired(100), Is.EqualTo(-1));
            Assert.That(wheel.IsSet(3), Is.False);
            Assert.That(wheel.Count, Is.Zero);
        });
    }

    [Test]
    public void Cancel_DisarmsTheTimer()
    {
        var wheel = new TimerWheel(16, 1, 0);
        wheel.Set(1, 50);
        wheel.Set(2, 60);
        wheel.Cancel(1);
        Assert.Multiple(() =>
        {
            Assert.That(wheel.IsSet(1), Is.False);
            Assert.That(wheel.Count, Is.EqualTo(1));
            Assert.That(wheel.PopExpired(1_000), Is.EqualTo(2));
            Assert.That(wheel.PopExpired(1_000), Is.EqualTo(-1));
        });
    }

    [Test]
    public void Cancel_OfAnUnarmedId_IsANoOp()
    {
        var wheel = new TimerWheel(16, 1, 0);
        wheel.Cancel(5);
        wheel.Set(4, 10);
        wheel.Cancel(5);
        wheel.Cancel(5);
        Assert.Multiple(() =>
        {
            Assert.That(wheel.Count, Is.EqualTo(1));
            Assert.That(wheel.NextTimeoutMs(0), Is.EqualTo(10));
            Assert.That(wheel.PopExpired(10), Is.EqualTo(4));
        });
    }

    [Test]
    public void Set_OfAnArmedId_Rearms()
    {
        var wheel = new TimerWheel(16, 1, 0);
        wheel.Set(1, 100);
        wheel.Set(1, 500);
        Assert.Multiple(() =>
        {
            Assert.That(wheel.Count, Is.EqualTo(1));
            Assert.That(wheel.PopExpired(499), Is.EqualTo(-1));
            Assert.That(wheel.PopExpired(500), Is.EqualTo(1));
        });

        wheel.Set(1, 600);
        wheel.Set(1, 550);  // earlier than before
        Assert.That(wheel.PopExpired(550), Is.EqualTo(1));
    }

    [Test]
    public void Set_InThePast_IsDueAtOnce()
    {
        var wheel = new TimerWheel(16, 1, 1_000);
        wheel.PopExpired(2_000);
        wheel.Set(7, 1_500);
        Assert.Multiple(() =>
        {
            Assert.That(wheel.NextTimeoutMs(2_000), Is.Zero);
            Assert.That(wheel.PopExpired(2_000), Is.EqualTo(7));
        });
    }

    [Test]
    public void PopExpired_StepByStep_ReturnsTimersInDueOrder()
    {
        var wheel = new TimerWheel(16, 1, 0);
        long[] dues = [50, 10, 30, 20, 40];
        for (int id = 0; id < dues.Length; id++)
            wheel.Set(id, dues[id]);

        var popped = new List<int>();
        for (long now = 0; now <= 60; now++)
            for (int id; (id = wheel.PopExpired(now)) >= 0;)
                popped.Add(id);

        Assert.That(popped, Is.EqualTo(new[] { 1, 3, 2, 4, 0 }));
    }

    [Test]
    public void PopExpired_AfterAJump_ReturnsTimersOfDifferentTicksInTickOrder()
    {
        var wheel = new TimerWheel(16, 10, 0);
        wheel.Set(0, 95);
        wheel.Set(1, 15);
        wheel.Set(2, 55);
        var popped = new List<int>();
        for (int id; (id = wheel.PopExpired(100)) >= 0;)
            popped.Add(id);
        Assert.That(popped, Is.EqualTo(new[] { 1, 2, 0 }));
    }

    [Test]
    public void PopExpired_NeverExpiresEarly_WithinATick()
    {
        var wheel = new TimerWheel(16, 10, 0);
        wheel.Set(0, 15);
        Assert.Multiple(() =>
        {
            Assert.That(wheel.PopExpired(10), Is.EqualTo(-1));
            Assert.That(wheel.PopExpired(14), Is.EqualTo(-1));
            Assert.That(wheel.NextTimeoutMs(14), Is.InRange(0, 1));
            Assert.That(wheel.PopExpired(15), Is.EqualTo(0));
        });
    }

    [Test]
    public void Timer_ManyRotationsAhead_WaitsForItsRound()
    {
        var wheel = new TimerWheel(16, 1, 0);
        long due = 5L * Rotation + 7;
        wheel.Set(0, due);
        wheel.Set(1, 7);  // same slot, this round
        Assert.That(wheel.PopExpired(7), Is.EqualTo(1));
        for (long now = 8; now < due; now += 997)
        {
            Assert.That(wheel.PopExpired(now), Is.EqualTo(-1), $"at {now}");
            Assert.That(wheel.NextTimeoutMs(now), Is.InRange(0, due - now), $"at {now}");
        }
        Assert.Multiple(() =>
        {
            Assert.That(wheel.PopExpired(due - 1), Is.EqualTo(-1));
            Assert.That(wheel.PopExpired(due), Is.EqualTo(0));
        });
    }

    [Test]
    public void PopExpired_AfterAJumpOfManyRotations_FindsDueTimersOnly()
    {
        var wheel = new TimerWheel(16, 1, 0);
        wheel.Set(0, 10L * Rotation);
        wheel.Set(1, 3L * Rotation + 5);
        wheel.Set(2, 20L * Rotation);
        var popped = new List<int>();
        for (int id; (id = wheel.PopExpired(10L * Rotation)) >= 0;)
            popped.Add(id);
        Assert.Multiple(() =>
        {
            Assert.That(popped, Is.EquivalentTo(new[] { 0, 1 }));
            Assert.That(wheel.IsSet(2), Is.True);
            Assert.That(wheel.PopExpired(20L * Rotation - 1), Is.EqualTo(-1));
            Assert.That(wheel.PopExpired(20L * Rotation), Is.EqualTo(2));
        });
    }

    [Test]
    public void NextTimeoutMs_IsMinusOneWhenEmpty_AndExactWithoutFarTimers()
    {
        var wheel = new TimerWheel(16, 1, 0);
        Assert.That(wheel.NextTimeoutMs(0), Is.EqualTo(-1));
        wheel.Set(0, 1_000);
        Assert.That(wheel.NextTimeoutMs(0), Is.EqualTo(1_000));
        wheel.Set(1, 250);
        Assert.That(wheel.NextTimeoutMs(100), Is.EqualTo(150));
        wheel.PopExpired(250);
        Assert.That(wheel.NextTimeoutMs(250), Is.EqualTo(750));
    }

    [Test]
    public void NextTimeoutMs_WithOnlyAFarFutureTimerInTheCurrentSlot_DoesNotSpin()
    {
        var wheel = new TimerWheel(16, 10, 0);
        wheel.Set(0, 10L * Rotation * 10 + 5);  // shares the slot of tick 0
        Assert.That(wheel.NextTimeoutMs(3), Is.GreaterThan(0));
    }

    [TestCase(1, 1), TestCase(3, 2), TestCase(10, 3), TestCase(1, 4)]
    public void RandomOperations_MatchABruteForceModel(int tickMs, int seed)
    {
        const int capacity = 64;
        var random = new Random(seed);
        long start = random.Next(0, 1_000_000);
        var wheel = new TimerWheel(capacity, tickMs, start);
        var model = new long?[capacity];
        long now = start;
        long rotationMs = (long)Rotation * tickMs;

        for (int step = 0; step < 20_000; step++)
        {
            int op = random.Next(10);
            int id = random.Next(capacity);
            if (op < 5)
            {
                long due = random.Next(4) switch
                {
                    0 => now + random.Next(-5, 30),
                    1 => now + random.NextInt64(3 * rotationMs),
                    2 => now + rotationMs * random.Next(1, 4) + random.Next(-2, 3),
                    _ => now + random.Next(2_000),
                };
                wheel.Set(id, due);
                model[id] = due;
            }
            else if (op < 7)
            {
                wheel.Cancel(id);
                model[id] = null;
            }
            else
            {
                now += random.Next(20) switch
                {
                    0 => random.NextInt64(5 * rotationMs),
                    < 5 => 0,
                    _ => random.Next(3 * tickMs),
                };
                for (int popped; (popped = wheel.PopExpired(now)) >= 0;)
                {
                    Assert.That(model[popped], Is.Not.Null.And.LessThanOrEqualTo(now), $"step {step}: popped {popped} early or unarmed");
                    model[popped] = null;
                }
                for (int i = 0; i < capacity; i++)
                    Assert.That(model[i], Is.Null.Or.GreaterThan(now - tickMs), $"step {step}: {i} overdue");
            }

            var armed = model.Where(d => d.HasValue).Select(d => d!.Value).ToList();
            int timeout = wheel.NextTimeoutMs(now);
            Assert.That(wheel.Count, Is.EqualTo(armed.Count), $"step {step}");
            if (armed.Count == 0)
                Assert.That(timeout, Is.EqualTo(-1), $"step {step}");
            else
                Assert.That(timeout, Is.InRange(0, Math.Max(0, armed.Min() - now)), $"step {step}: later than the earliest due");
            Assert.That(wheel.IsSet(id), Is.EqualTo(model[id].HasValue), $"step {step}");
        }
    }

    [Test]
    public void SteadyState_AllocatesNothing()
    {
        var wheel = new TimerWheel(1024, 1, 0);
        long now = 0;
        Churn(wheel, ref now, 10_000);  // warm-up: JIT tiers, statics

        long before = GC.GetAllocatedBytesForCurrentThread();
        Churn(wheel, ref now, 100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
    }

    private static void Churn(TimerWheel wheel, ref long now, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            int id = i & 1023;
            wheel.Set(id, now + 1 + (i * 7919 % 10_000));
            if ((i & 3) == 0)
                wheel.Cancel((id + 512) & 1023);
            now++;
            while (wheel.PopExpired(now) >= 0) { }
            wheel.NextTimeoutMs(now);
        }
    }
}
