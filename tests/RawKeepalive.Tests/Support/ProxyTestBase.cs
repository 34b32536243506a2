using NUnit.Framework;
using NUnit.Framework.Interfaces;

namespace RawKeepalive.Tests.Support;

/// <summary>
/// Base for tests that start backends, proxies and clients: everything made through it is disposed
/// (processes killed) when the test ends or its <c>CancelAfter</c> fires, and a failed test's output
/// gets each proxy's config, captured output and error log, and each backend's protocol errors.
/// Disposing a proxy (or an <see cref="InProcessWorker"/>) checks its logs (<see cref="ErrorLogCheck"/>): at
/// the end of a test that passed so far, an undeclared alert fails it; after a failure or a cancel, it is
/// only written to the output.
/// </summary>
public abstract class ProxyTestBase
{
    private readonly List<IDisposable> _resources = [];
    private readonly List<ProxyProcess> _proxies = [];
    private readonly List<TestBackend> _backends = [];
    private CancellationTokenRegistration _onCancel;

    protected static CancellationToken Cancellation => TestContext.CurrentContext.CancellationToken;

    [SetUp]
    public void TrackCancellation() => _onCancel = Cancellation.Register(() => DisposeAll(ErrorLogCheck.Mode.Report));

    [TearDown]
    public void DisposeResources()
    {
        _onCancel.Dispose();
        if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
        {
            lock (_resources)
            {
                foreach (var proxy in _proxies)
                    TestContext.Out.WriteLine(proxy.Describe());
                foreach (var backend in _backends)
                {
                    TestContext.Out.WriteLine($"--- backend :{backend.Port}: accepted {backend.AcceptedConnections}, open {backend.OpenConnections}, {backend.RequestCount} requests");
                    foreach (string error in backend.ProtocolErrors.Take(10))
                        TestContext.Out.WriteLine($"    protocol error: {error}");
                }
            }
        }
        DisposeAll(ErrorLogCheck.Mode.Fail);
    }

    /// <summary>Disposes everything, each even when another's log check fails; then fails with every such failure.</summary>
    private void DisposeAll(ErrorLogCheck.Mode logCheck)
    {
        List<IDisposable> resources;
        lock (_resources)
        {
            resources = [.. _resources];
            resources.Reverse();
            _resources.Clear();
            _proxies.Clear();
            _backends.Clear();
        }
        var failures = new List<string>();
        foreach (var resource in resources)
        {
            try
            {
                switch (resource)
                {
                    case ProxyProcess proxy:
                        proxy.Dispose(logCheck);
                        break;
                    case InProcessWorker worker:
                        worker.Dispose(logCheck);
                        break;
                    default:
                        resource.Dispose();
                        break;
                }
            }
            catch (AssertionException e)
            {
                failures.Add(e.Message);
            }
        }
        if (failures.Count > 0)
            throw new AssertionException(string.Join("\n", failures));
    }

    protected T Track<T>(T resource) where T : IDisposable
    {
        lock (_resources)
        {
            _resources.Add(resource);
            if (resource is ProxyProcess proxy)
                _proxies.Add(proxy);
            if (resource is TestBackend backend)
                _backends.Add(backend);
        }
        return resource;
    }

    protected TestBackend StartBackend(TimeSpan? idleTimeout = null, bool http10 = false) =>
        Track(new TestBackend(idleTimeout, http10));

    /// <summary>Starts the proxy on <paramref name="template"/>; <c>{BACKEND}</c>/<c>{BACKEND2}</c> become the given ports.</summary>
    protected ProxyProcess StartProxy(string template, int backend = 0, int backend2 = 0, bool preamble = true) =>
        Track(ProxyProcess.Start(template, backend, backend2, preamble));

    protected ProxyProcess StartProxy(string template, TestBackend backend, TestBackend? backend2 = null) =>
        StartProxy(template, backend.Port, backend2?.Port ?? 0);

    /// <summary>How long the backend must stay untouched after a refusal: the proxy would have connected
    /// before answering, so this only covers the backend's accept thread lagging behind.</summary>
    protected static readonly TimeSpan RefusalUntouched = TimeSpan.FromMilliseconds(300);

    /// <summary>Sends <paramref name="request"/> to <paramref name="proxy"/> on a fresh connection and checks the
    /// refusal: the status, Connection: close, the close itself, and a backend that never got a connection
    /// (so not a byte).</summary>
    protected void AssertRefused(ProxyProcess proxy, TestBackend backend, byte[] request, int status)
    {
        var client = Connect(proxy, TimeSpan.FromSeconds(10));
        client.SendRaw(request);
        var response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(status), response.ToString());
            Assert.That(response.Headers.HasToken("Connection", "close"), Is.True, $"the refusal announces the close:\n{response.Head}");
            Assert.That(client.IsClosedByPeer(TimeSpan.FromSeconds(5)), Is.True, "the connection closes after the refusal");
            Assert.That(Wait.HoldsFor(() => backend.AcceptedConnections == 0, RefusalUntouched), Is.True,
                $"nothing reaches the backend: {backend.AcceptedConnections} connections");
            Assert.That(backend.RequestCount, Is.Zero, "no request reaches the backend");
            Assert.That(proxy.HasExited, Is.False);
        });
    }

    protected RawHttpClient Connect(ProxyProcess proxy, TimeSpan? timeout = null) =>
        Track(new RawHttpClient(proxy.Port, timeout));

    protected RawHttpClient Connect(int port, TimeSpan? timeout = null) =>
        Track(new RawHttpClient(port, timeout));
}
