using NUnit.Framework;

namespace RawKeepalive.Tests.Support;

/// <summary>The shipped conf/examples, found above the test assembly, so tests run the very files operators read.</summary>
public static class ExampleConfigs
{
    public static string Directory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "conf", "examples");
                if (System.IO.Directory.Exists(candidate)) return candidate;
            }
            Assert.Fail("conf/examples not found above the test assembly");
            return "";
        }
    }

    public static string Read(string file) => File.ReadAllText(Path.Combine(Directory, file));
}
