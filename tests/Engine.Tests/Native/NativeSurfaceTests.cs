using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using GenMetrics.Native;

namespace GenMetrics.Tests.Native;

/// <summary>
/// The C API's surface: every export of the engine is declared in include/genmetrics.h and every function
/// the header declares is exported (the loader forwards exactly the exported names), and the version and
/// instruction-set strings say what they promise.
/// </summary>
public unsafe class NativeSurfaceTests
{
    [Test]
    public void HeaderAndExportsDeclareTheSameFunctions()
    {
        var exported = typeof(Exports).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Select(m => m.GetCustomAttribute<UnmanagedCallersOnlyAttribute>()?.EntryPoint)
            .OfType<string>()
            .ToHashSet();
        string header = File.ReadAllText(Path.Combine(RepositoryRoot(), "include", "genmetrics.h"));
        var declared = Regex.Matches(header, @"\b(genmetrics_[a-z_0-9]+)\s*\(").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.That(exported, Is.Not.Empty);
        Assert.That(declared.Except(exported), Is.Empty, "declared in the header but not exported");
        Assert.That(exported.Except(declared), Is.Empty, "exported but not declared in the header");
    }

    [Test]
    public void VersionIsTheProductVersionOfDirectoryBuildProps()
    {
        string props = File.ReadAllText(Path.Combine(RepositoryRoot(), "Directory.Build.props"));
        string version = Regex.Match(props, "<Version>([^<]+)</Version>").Groups[1].Value;
        delegate* unmanaged<byte*> get = &Exports.GetVersion;
        Assert.That(Marshal.PtrToStringUTF8((nint)get()), Is.EqualTo(version));
    }

    [Test]
    public void InstructionSetNamesTheVectorWidthInUse()
    {
        delegate* unmanaged<byte*> get = &Exports.GetInstructionSet;
        string text = Marshal.PtrToStringUTF8((nint)get())!;
        string expected = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512 (x86-64-v4)"
            : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2 (x86-64-v3)" : "(x86-64)";
        Assert.That(text, Does.Contain(expected));
        nint first = (nint)get();
        Assert.That((nint)get(), Is.EqualTo(first), "static storage: the same pointer on every call");
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Engine.sln not found above the test directory");
    }
}
