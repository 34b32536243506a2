using NUnit.Framework;
using RawKeepalive.Upstream;

namespace RawKeepalive.Tests.Upstream;

/// <summary>The retry and next-peer policy as a table: each row is one failed try of a request over
/// two peers (a fresh policy each time), and what the policy does next.</summary>
[TestFixture, CancelAfter(10_000)]
public sealed class UpstreamTriesTests
{
    private const UpstreamPhase Connecting = UpstreamPhase.Connecting;
    private const UpstreamPhase Sending = UpstreamPhase.SendingRequest;
    private const UpstreamPhase ReadingHead = UpstreamPhase.ReadingResponseHeader;

    // phase, timed out, reused, before any response byte, replayable, proxy_next_upstream allows it → decision
    private static readonly object[] Rows =
    [
        new object[] { ReadingHead, false, true, true, true, true, RetryDecision.FreshConnection },      // a stale pooled connection: same peer, fresh connection
        new object[] { ReadingHead, false, true, true, true, false, RetryDecision.FreshConnection },     // ... even with proxy_next_upstream off (not a peer failure)
        new object[] { ReadingHead, true, true, true, true, true, RetryDecision.NextPeer },              // a timeout is no stale connection
        new object[] { ReadingHead, false, true, true, false, true, RetryDecision.Fail },               // POST on a stale connection: never replayed
        new object[] { ReadingHead, false, true, false, true, true, RetryDecision.Fail },               // part of a response came: the exchange has begun
        new object[] { Connecting, false, false, true, false, true, RetryDecision.NextPeer },            // nothing was sent: even a POST moves on
        new object[] { Connecting, false, false, true, false, false, RetryDecision.Fail },              // proxy_next_upstream off
        new object[] { Sending, false, false, true, true, true, RetryDecision.NextPeer },
        new object[] { Sending, false, false, true, false, true, RetryDecision.Fail },                  // a POST partly sent is not replayed
        new object[] { ReadingHead, false, false, false, true, true, RetryDecision.Fail },
    ];

    [TestCaseSource(nameof(Rows))]
    public void Decides(UpstreamPhase phase, bool timedOut, bool reused, bool beforeResponse, bool replayable, bool allowed, RetryDecision expected)
    {
        var tries = new UpstreamTries();
        tries.Start(peerCount: 2, maxTries: 0, firstPeer: 0);
        var decision = tries.Decide(new UpstreamFailure(phase, timedOut, reused, beforeResponse, replayable), allowed, peerCount: 2);
        Assert.That(decision, Is.EqualTo(expected));
        Assert.That(tries.Peer, Is.EqualTo(expected == RetryDecision.NextPeer ? 1 : 0), "the peer moves only for NextPeer");
    }

    [Test]
    public void TheStaleRetry_IsTakenOnce_ThenTriesCount()
    {
        var tries = new UpstreamTries();
        tries.Start(peerCount: 2, maxTries: 0, firstPeer: 1);
        var stale = new UpstreamFailure(ReadingHead, TimedOut: false, Reused: true, BeforeResponse: true, Replayable: true);
        Assert.That(tries.Decide(stale, true, 2), Is.EqualTo(RetryDecision.FreshConnection));
        Assert.That(tries.Decide(stale, true, 2), Is.EqualTo(RetryDecision.NextPeer), "the second stale failure is a peer failure");
        Assert.That(tries.Peer, Is.EqualTo(0), "round robin wraps");
        Assert.That(tries.Decide(stale, true, 2), Is.EqualTo(RetryDecision.Fail), "two peers, two tries");
    }

    [Test]
    public void ProxyNextUpstreamTries_CapsTheTries()
    {
        var tries = new UpstreamTries();
        tries.Start(peerCount: 3, maxTries: 1, firstPeer: 0);
        var refused = new UpstreamFailure(Connecting, false, false, true, true);
        Assert.That(tries.Decide(refused, true, 3), Is.EqualTo(RetryDecision.Fail));
    }

    [Test]
    public void Phases_AreDescribedInNginxWords()
    {
        Assert.Multiple(() =>
        {
            Assert.That(UpstreamTries.Describe(Connecting), Is.EqualTo("connecting to upstream"));
            Assert.That(UpstreamTries.Describe(Sending), Is.EqualTo("sending request to upstream"));
            Assert.That(UpstreamTries.Describe(ReadingHead), Is.EqualTo("reading response header from upstream"));
            Assert.That(UpstreamTries.Describe(UpstreamPhase.ReadingResponseBody), Is.EqualTo("reading upstream"));
        });
    }
}
