using RawKeepalive.Config;
using RawKeepalive.Routing;

namespace RawKeepalive.Observability;

/// <summary>The error logs of http, server and location levels (nginx's per-location error_log): one
/// <see cref="ErrorLog"/> per distinct list after inheritance (levels that inherit share the list), the
/// main one for a level that names none. A request's lines belong in <see cref="For"/>'s log. Only error
/// paths look it up (a dictionary by reference); opened at worker start, reopened on USR1.</summary>
public sealed class LevelErrorLogs : IDisposable
{
    private readonly Dictionary<IReadOnlyList<ErrorLogConfig>, ErrorLog> _logs = new(ReferenceEqualityComparer.Instance);

    public ErrorLog Main { get; }

    public LevelErrorLogs(HttpConfig http, ErrorLog main)
    {
        Main = main;
        foreach (var server in http.Servers)
            foreach (var list in server.Locations.Select(l => l.ErrorLogs).Prepend(server.ErrorLogs))
            {
                if (list is null || _logs.ContainsKey(list)) continue;
                try { _logs[list] = new ErrorLog(list); }
                catch (IOException e)
                {
                    // The start checked every file (LogFiles.CheckAtStart); one that fails now keeps its
                    // lines in the main log rather than losing them.
                    main.Write(LogLevel.Emerg, 0, e.Message);
                    _logs[list] = main;
                }
            }
    }

    /// <summary>The error log of the request's location, else of its server, else the main one.</summary>
    public ErrorLog For(LocationRuntime? location, ServerRuntime? server)
    {
        var list = location?.Config.ErrorLogs ?? server?.Config.ErrorLogs;
        return list is not null && _logs.TryGetValue(list, out var log) ? log : Main;
    }

    public void Reopen()
    {
        foreach (var log in _logs.Values.Distinct())
            if (log != Main) log.Reopen();
    }

    public void Dispose()
    {
        foreach (var log in _logs.Values.Distinct())
            if (log != Main) log.Dispose();
        _logs.Clear();
    }
}
