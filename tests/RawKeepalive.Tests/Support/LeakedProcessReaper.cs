using NUnit.Framework;
using RawKeepalive.Tests.Support;

namespace RawKeepalive.Tests;

/// <summary>Assembly-wide teardown: kills any proxy process a failed or aborted test left running.</summary>
[SetUpFixture]
public sealed class LeakedProcessReaper
{
    [OneTimeTearDown]
    public void KillLeakedProxies()
    {
        int killed = ProxyProcess.KillAll();
        if (killed > 0)
            TestContext.Progress.WriteLine($"LeakedProcessReaper: killed {killed} proxy process(es) left running by tests");
    }
}
