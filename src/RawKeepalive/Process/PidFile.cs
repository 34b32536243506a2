namespace RawKeepalive.Process;

/// <summary>The pid file: written by whoever runs the server (the master, or the single process),
/// removed when it exits cleanly; -s finds the master through it.</summary>
public static class PidFile
{
    public static void Write(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Environment.ProcessId + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"rawkeepalive: [alert] could not write pid file \"{path}\": {e.Message}");
        }
    }

    public static void Remove(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
