using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using IType = ArchUnitNET.Domain.IType;
using ArchUnitNET.Loader;
using ArchUnitNET.NUnit;
using NUnit.Framework;
using RawKeepalive.Http;
using static ArchUnitNET.Fluent.ArchRuleDefinition;
using ArchArchitecture = ArchUnitNET.Domain.Architecture;

namespace RawKeepalive.Tests;

/// <summary>The layering of the <c>rawkeepalive</c> assembly, as dependency rules between its namespaces.
/// Each rule's subject namespace must hold types (asserted first), so renaming or emptying it fails the
/// test instead of making the rule vacuously true. A forbidden namespace that has no types yet (Routing
/// and Transforms before the folder moves land) is named in the test output; that part of the rule checks
/// nothing until types arrive there. Namespaces are matched "or below": a sub-namespace counts as its parent.</summary>
[TestFixture]
public class ArchitectureTests
{
    private const string Root = "RawKeepalive";
    private const string Http = "RawKeepalive.Http";
    private const string Loop = "RawKeepalive.Loop";
    private const string Native = "RawKeepalive.Native";
    private const string Upstream = "RawKeepalive.Upstream";
    private const string Routing = "RawKeepalive.Routing";       // server and location selection
    private const string Transforms = "RawKeepalive.Transforms"; // head rewriters, variables, maps
    private const string Proxy = "RawKeepalive.Proxy";           // client side: ClientConnection, Worker
    private const string Config = "RawKeepalive.Config";
    private const string Process = "RawKeepalive.Process";
    private const string Observability = "RawKeepalive.Observability";

    /// <summary>Source files longer than this are reported by <see cref="SourceFilesStayUnderLineLimit"/>.</summary>
    private const int MaxSourceLines = 400;

    /// <summary>Types with more fields than this are reported by <see cref="NoTypeHoldsTooMuchState"/>.</summary>
    private const int MaxFields = 25;

    private static readonly Assembly Production = typeof(RequestParser).Assembly;

    // Loaded once for the fixture: ArchLoader reads the assembly with Mono.Cecil, which takes a moment.
    private static readonly ArchArchitecture Architecture = new ArchLoader().LoadAssemblies(Production).Build();

    [Test]
    public void HttpDependsOnNoTransportRoutingOrClientSide()
    {
        AssertNamespaceRule(Http, Loop, Native, Upstream, Routing, Proxy);
    }

    [Test]
    public void LoopDependsOnNoProtocolOrPolicy()
    {
        AssertNamespaceRule(Loop, Http, Proxy, Upstream, Routing, Transforms, Config);
    }

    [Test]
    public void UpstreamKnowsNoParserInternals()
    {
        // Simplest form of "no parser internals": no dependency on RawKeepalive.Http at all.
        AssertNamespaceRule(Upstream, Http);
    }

    /// <summary>The one-way flow: the client side uses Routing, Transforms and Upstream, never the reverse
    /// (variables read the request through IRequestVariables, an upstream connection knows its exchange
    /// only as an IUpstreamOwner).</summary>
    [Test]
    public void RoutingTransformsAndUpstreamKnowNoClientSide()
    {
        AssertNamespaceRule(Routing, Proxy, Process);
        AssertNamespaceRule(Transforms, Proxy, Process);
        AssertNamespaceRule(Upstream, Proxy, Process);
    }

    [Test]
    public void ConfigDependsOnNothingAboveIt()
    {
        // Root is RawKeepalive itself (Program, CommandLine) only, not the namespaces below it.
        AssertNamespaceRule(Config, Proxy, Routing, Transforms, Upstream, Process, Loop, Observability, Native);
        var rootTypes = Types().That().ResideInNamespace(Root).GetObjects(Architecture).ToList();
        Assert.That(rootTypes, Is.Not.Empty, $"namespace {Root} (Program, CommandLine) has no types");
        Types().That().ResideInNamespaceOrBelow(Config)
            .Should().NotDependOnAny(Types().That().ResideInNamespace(Root).As($"types in {Root} itself (Program, CommandLine)"))
            .Check(Architecture);
    }

    /// <summary>Only RawKeepalive.Native declares P/Invoke. Checked by reflection, not by ArchUnitNET's
    /// attribute conditions: DllImportAttribute is a pseudo-attribute (the method's PinvokeImpl flag and an
    /// ImplMap row, not a custom attribute), so Mono.Cecil, and with it ArchUnitNET, does not list it.
    /// LibraryImport's generated partial declares its DllImport stub inside the same type, and a nested or
    /// compiler-generated type reports its declaring type's namespace, so all of them count as Native.</summary>
    [Test]
    public void OnlyNativeDeclaresPInvoke()
    {
        var types = Production.GetTypes(); // every type: nested, compiler-generated and non-public included
        Assert.That(types, Is.Not.Empty, "assembly rawkeepalive has no types");

        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static
                                 | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var declarations = (
            from type in types
            from method in type.GetMethods(all)
            where (method.Attributes & MethodAttributes.PinvokeImpl) != 0
                  || method.IsDefined(typeof(DllImportAttribute), inherit: false)
                  || method.IsDefined(typeof(LibraryImportAttribute), inherit: false)
            select (Namespace: type.Namespace ?? "", Name: $"{type.FullName}.{method.Name}")).ToList();

        // Sanity check of the detector itself: Native declares a few of its own (PosixErrors, ProcessInterop).
        // If Native moves them all to Tmds.LibC, this assertion is what to drop.
        Assert.That(declarations.Where(d => InNamespace(d.Namespace, Native)), Is.Not.Empty,
            $"found no P/Invoke declaration in {Native}: is the detector broken?");

        TestContext.Out.WriteLine($"P/Invoke declarations: {declarations.Count}, in "
                                  + string.Join(", ", declarations.Select(d => d.Name[..d.Name.LastIndexOf('.')]).Distinct()));
        var outside = declarations.Where(d => !InNamespace(d.Namespace, Native)).Select(d => d.Name).ToList();
        Assert.That(outside, Is.Empty, $"P/Invoke declared outside {Native}:\n  " + string.Join("\n  ", outside));
    }

    /// <summary>Small files with one job: every source file of the proxy stays under MaxSourceLines lines.</summary>
    [Test]
    public void SourceFilesStayUnderLineLimit()
    {
        var src = Path.Combine(RepositoryRoot(), "src", "RawKeepalive");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(src, f))
            .ToList();
        Assert.That(files, Is.Not.Empty, $"no source file under {src}");

        var tooLong = files
            .Select(f => (Path: Path.GetRelativePath(RepositoryRoot(), f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > MaxSourceLines)
            .OrderByDescending(f => f.Lines)
            .Select(f => $"{f.Lines,6}  {f.Path}")
            .ToList();
        Assert.That(tooLong, Is.Empty, $"source files over {MaxSourceLines} lines:\n" + string.Join("\n", tooLong));
    }

    /// <summary>No god object: no type of ours declares more than MaxFields fields (instance and static,
    /// property backing fields included, constants not: they are no state). Compiler-generated types
    /// (closures, state machines, fixed buffers) are the compiler's, not a design.</summary>
    [Test]
    public void NoTypeHoldsTooMuchState()
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static
                                      | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var counted = Production.GetTypes()
            .Where(t => !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), inherit: false)
                        && !t.Name.StartsWith('<') && !t.IsEnum)
            .Select(t => (Type: t, Fields: t.GetFields(declared).Count(f => !f.IsLiteral)))
            .ToList();
        Assert.That(counted.Any(c => c.Type.Name == "Exchange" && c.Fields > 0), Is.True, "the exchange type is not found: is the check looking at the right assembly?");
        var largest = counted.OrderByDescending(c => c.Fields).Take(5).Select(c => $"{c.Fields,4}  {c.Type.FullName}");
        TestContext.Out.WriteLine("most fields:\n" + string.Join("\n", largest));
        var tooMany = counted.Where(c => c.Fields > MaxFields).Select(c => $"{c.Fields,4}  {c.Type.FullName}").ToList();
        Assert.That(tooMany, Is.Empty, $"types with more than {MaxFields} fields:\n" + string.Join("\n", tooMany));
    }

    /// <summary>One type, one file: no partial class anywhere in the proxy (the hot path included),
    /// so a type's state and behaviour are read in one place. Checked in the source text: "partial"
    /// leaves no trace in the compiled assembly.</summary>
    [Test]
    public void NoPartialTypes()
    {
        var src = Path.Combine(RepositoryRoot(), "src", "RawKeepalive");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories).Where(f => !IsBuildOutput(src, f)).ToList();
        Assert.That(files, Is.Not.Empty, $"no source file under {src}");
        var partial = new System.Text.RegularExpressions.Regex(@"^\s*(?:(?:public|internal|private|protected|sealed|static|abstract|unsafe|readonly|ref)\s+)*partial\s+(?:class|struct|record|interface)\b");
        var found = (from f in files
                     from line in File.ReadLines(f).Select((text, i) => (text, number: i + 1))
                     where partial.IsMatch(line.text)
                     select $"{Path.GetRelativePath(RepositoryRoot(), f)}:{line.number}: {line.text.Trim()}").ToList();
        Assert.That(partial.IsMatch("public sealed unsafe partial class ClientConnection"), Is.True, "the pattern itself must find a partial class");
        Assert.That(found, Is.Empty, "partial types:\n" + string.Join("\n", found));
    }

    /// <summary>Types in <paramref name="subject"/> depend on no type in any of <paramref name="forbidden"/>.</summary>
    private static void AssertNamespaceRule(string subject, params string[] forbidden)
    {
        var subjectTypes = Types().That().ResideInNamespaceOrBelow(subject).GetObjects(Architecture).ToList();
        Assert.That(subjectTypes, Is.Not.Empty,
            $"rule subject {subject} has no types in assembly rawkeepalive (renamed or moved?): the rule would hold vacuously");

        ReportUses(subject, subjectTypes);
        foreach (var ns in forbidden)
        {
            if (!Types().That().ResideInNamespaceOrBelow(ns).GetObjects(Architecture).Any())
                TestContext.Out.WriteLine($"note: forbidden namespace {ns} has no types yet; that part of the rule checks nothing until it does");
        }

        var given = Types().That().ResideInNamespaceOrBelow(forbidden[0]);
        foreach (var ns in forbidden.Skip(1)) given = given.Or().ResideInNamespaceOrBelow(ns);
        var forbiddenTypes = given.As("types in " + string.Join(", ", forbidden));

        Types().That().ResideInNamespaceOrBelow(subject)
            .Should().NotDependOnAny(forbiddenTypes)
            .Check(Architecture);
    }

    /// <summary>Writes which of our namespaces the subject uses today, to the test output.</summary>
    private static void ReportUses(string subject, IEnumerable<IType> subjectTypes)
    {
        var uses = subjectTypes
            .SelectMany(t => t.Dependencies)
            .Select(d => d.Target)
            .Where(t => t.Namespace is not null && InNamespace(t.Namespace.FullName, Root) && !InNamespace(t.Namespace.FullName, subject))
            .GroupBy(t => t.Namespace.FullName)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        var text = new StringBuilder($"{subject} uses:");
        foreach (var g in uses)
            text.Append($"\n  {g.Key}: {string.Join(", ", g.Select(t => t.Name).Distinct().Order(StringComparer.Ordinal))}");
        TestContext.Out.WriteLine(uses.Count > 0 ? text.ToString() : $"{subject} uses no other RawKeepalive namespace");
    }

    private static bool InNamespace(string ns, string parent) => ns == parent || ns.StartsWith(parent + ".", StringComparison.Ordinal);

    private static bool IsBuildOutput(string src, string file)
    {
        var first = Path.GetRelativePath(src, file).Split(Path.DirectorySeparatorChar)[0];
        return first is "bin" or "obj";
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RawKeepalive.sln"))) dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "RawKeepalive.sln not found above the test directory");
        return dir!.FullName;
    }
}
