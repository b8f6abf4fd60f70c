using GenMetrics.Compute;
using GenMetrics.Cuda;
using GenMetrics.Cuda.Interop;

namespace GenMetrics.Tests.Cuda;

/// <summary>Tests that need no GPU: library probing, status messages, embedded kernels, the kernel cache.</summary>
public class CudaInteropTests
{
    [Test]
    public void ProbeTriesNamesInOrderAndReportsEachAttempt()
    {
        var tried = new List<string>();
        var probe = NativeLibraryProbe.Load("NVRTC", ["libnvrtc.so.13", "libnvrtc.so.12"], name =>
        {
            tried.Add(name);
            return name == "libnvrtc.so.12" ? 42 : 0;
        });
        Assert.Multiple(() =>
        {
            Assert.That(tried, Is.EqualTo(new[] { "libnvrtc.so.13", "libnvrtc.so.12" }));
            Assert.That(probe.IsLoaded, Is.True);
            Assert.That(probe.LoadedName, Is.EqualTo("libnvrtc.so.12"));
            Assert.That(probe.Attempts, Is.EqualTo(new[] { "libnvrtc.so.13: not found", "libnvrtc.so.12: loaded" }));
        });
    }

    [Test]
    public void FailedProbeMessageListsEveryNameTried()
    {
        var probe = NativeLibraryProbe.Load("cuBLAS", ["libcublas.so.13", "libcublas.so.12"], _ => 0);
        Assert.That(probe.IsLoaded, Is.False);
        Assert.That(probe.FailureMessage, Is.EqualTo("no cuBLAS library (tried libcublas.so.13: not found, libcublas.so.12: not found)"));
    }

    [Test]
    public void LoaderExceptionsBecomeAttemptsNotCrashes()
    {
        var probe = NativeLibraryProbe.Load("CUDA driver", ["libcuda.so.1"], _ => throw new BadImageFormatException("wrong ELF class"));
        Assert.That(probe.IsLoaded, Is.False);
        Assert.That(probe.FailureMessage, Does.Contain("libcuda.so.1: wrong ELF class"));
    }

    [Test]
    public void CandidateNamesAreNewestFirst()
    {
        if (OperatingSystem.IsWindows()) Assert.Ignore("Linux naming");
        Assert.Multiple(() =>
        {
            Assert.That(CudaLibraries.DriverNames, Is.EqualTo(new[] { "libcuda.so.1" }));
            Assert.That(CudaLibraries.ToolkitMajors, Is.EqualTo(new[] { 13, 12 }));
            Assert.That(CudaLibraries.ToolkitMajors.Select(t => $"libnvrtc.so.{CudaLibraries.NvrtcVersionOf(t)}"), Is.EqualTo(new[] { "libnvrtc.so.13", "libnvrtc.so.12" }));
            Assert.That(CudaLibraries.ToolkitMajors.Select(t => $"libcublas.so.{CudaLibraries.CublasVersionOf(t)}"), Is.EqualTo(new[] { "libcublas.so.13", "libcublas.so.12" }));
            Assert.That(CudaLibraries.ToolkitMajors.Select(t => $"libcusolver.so.{CudaLibraries.CusolverVersionOf(t)}"), Is.EqualTo(new[] { "libcusolver.so.12", "libcusolver.so.11" }));
        });
    }

    [Test]
    public void DriverStatusMessageNamesCallCodeAndError()
    {
        var e = Assert.Throws<CudaException>(() => CudaStatus.Check(CudaLibrary.Driver, "cuMemAlloc(1024 bytes)", 2))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Call, Is.EqualTo("cuMemAlloc(1024 bytes)"));
            Assert.That(e.Code, Is.EqualTo(2));
            Assert.That(e.Message, Does.StartWith("cuMemAlloc(1024 bytes) failed with CUDA driver status 2 ("));
            Assert.That(e.Message, Does.Contain("CUDA_ERROR_OUT_OF_MEMORY"));
            Assert.That(e.IsOutOfMemory, Is.True);
        });
    }

    [Test]
    public void NvrtcStatusCarriesTheLogVerbatim()
    {
        const string log = "kernel.cu(3): error: identifier \"x\" is undefined\n1 error detected";
        var e = Assert.Throws<CudaException>(() => CudaStatus.Check(CudaLibrary.Nvrtc, "nvrtcCompileProgram(k.cu)", 6, log))!;
        Assert.That(e.Message, Does.Contain("NVRTC status 6"));
        Assert.That(e.Message, Does.Contain("NVRTC_ERROR_COMPILATION").Or.Contain("compilation"));
        Assert.That(e.Message, Does.EndWith("\n" + log));
        Assert.That(e.IsOutOfMemory, Is.False);
    }

    [Test]
    public void CublasStatusNamesTheStatus()
    {
        var e = Assert.Throws<CudaException>(() => CudaStatus.Check(CudaLibrary.Cublas, "cublasSgemm", 3))!;
        Assert.That(e.Message, Does.Contain("cuBLAS status 3 (CUBLAS_STATUS_ALLOC_FAILED)"));
        Assert.That(e.IsOutOfMemory, Is.True);
        Assert.DoesNotThrow(() => CudaStatus.Check(CudaLibrary.Cublas, "cublasSgemm", 0));
    }

    [Test]
    public void VersionsAreFormattedFromTheirEncodings()
    {
        Assert.That(CudaLibraries.FormatVersion(12040), Is.EqualTo("12.4"));
        Assert.That(CudaLibraries.FormatVersion(13000), Is.EqualTo("13.0"));
        Assert.That(CudaBackend.FormatCublasVersion(130001), Is.EqualTo("13.0.1"));
        Assert.That(CudaBackend.FormatCublasVersion(120902), Is.EqualTo("12.9.2"));
    }

    [Test]
    public void KernelSourcesAreEmbeddedAndDefineTheLaunchedKernels()
    {
        var expected = new Dictionary<string, string[]>
        {
            [KernelSources.KnnSmallestDistances] = ["knn_tile_update", "knn_columns_partial", "knn_columns_merge", "exact_pair_distances", "row_hashes", "verify_row_classes"],
            [KernelSources.CrossDistanceReductions] = ["cross_tile", "cross_realism_tile"],
            [KernelSources.FeaturePreparation] = ["prepare_rows", "column_partial_sums", "column_means_finish", "shift_rows_f64", "shift_rows_f32_to_f64"],
        };
        Assert.That(KernelSources.All, Is.EquivalentTo(expected.Keys));
        foreach (var (file, kernels) in expected)
        {
            string source = KernelSources.Read(file);
            Assert.That(source.Length, Is.GreaterThan(200), file);
            Assert.That(source, Does.Not.Contain("#include"), $"{file}: NVRTC gets no host headers");
            foreach (var k in kernels)
                Assert.That(source, Does.Contain($"extern \"C\" __global__ void __launch_bounds__(256) {k}("), $"{file}: {k}");
        }
        // The distance kernels share kernels/distance_common.cuh, inlined once each.
        foreach (var file in new[] { KernelSources.KnnSmallestDistances, KernelSources.CrossDistanceReductions })
        {
            string source = KernelSources.Read(file);
            Assert.That(source.Split("float warp_exact_if_identical(").Length - 1, Is.EqualTo(1), file);
            Assert.That(source, Does.Not.Contain("#pragma once"), file);
        }
    }

    [Test]
    public void CacheKeyChangesWithEveryInput()
    {
        string[] options = ["--gpu-architecture=sm_90"];
        string key = KernelCache.Key("src", options, "sm_90", 12040, "12.4");
        Assert.Multiple(() =>
        {
            Assert.That(KernelCache.Key("src", options, "sm_90", 12040, "12.4"), Is.EqualTo(key));
            Assert.That(KernelCache.Key("src ", options, "sm_90", 12040, "12.4"), Is.Not.EqualTo(key));
            Assert.That(KernelCache.Key("src", ["--gpu-architecture=sm_90", "-lineinfo"], "sm_90", 12040, "12.4"), Is.Not.EqualTo(key));
            Assert.That(KernelCache.Key("src", options, "sm_89", 12040, "12.4"), Is.Not.EqualTo(key));
            Assert.That(KernelCache.Key("src", options, "sm_90", 13000, "12.4"), Is.Not.EqualTo(key));
            Assert.That(KernelCache.Key("src", options, "sm_90", 12040, "13.0"), Is.Not.EqualTo(key));
            // Boundaries between parts matter: moving text from the source into an option is a different key.
            Assert.That(KernelCache.Key("sr", ["c--gpu-architecture=sm_90"], "sm_90", 12040, "12.4"), Is.Not.EqualTo(key));
            Assert.That(key, Has.Length.EqualTo(64));
        });
    }

    [Test]
    public void CacheCompilesOnceAndLeavesNoTemporaryFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), "genmetrics-kcache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new KernelCache(dir);
            string path = cache.PathFor("knn_smallest_distances.cu", "sm_90", new string('a', 64), cubin: true);
            int compiles = 0;
            byte[] Compile()
            {
                compiles++;
                return [1, 2, 3];
            }
            Assert.That(cache.GetOrCompile(path, Compile), Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.That(cache.GetOrCompile(path, Compile), Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.That(compiles, Is.EqualTo(1));
            Assert.That(Path.GetFileName(path), Is.EqualTo("knn_smallest_distances-sm_90-aaaaaaaaaaaaaaaa.cubin"));
            Assert.That(Directory.GetFiles(dir), Is.EqualTo(new[] { path }));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void DefaultCacheDirectoryFollowsXdg()
    {
        string? saved = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "/tmp/xdg-test");
            Assert.That(KernelCache.DefaultDirectory(), Is.EqualTo("/tmp/xdg-test/genmetrics/kernels"));
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", null);
            Assert.That(KernelCache.DefaultDirectory(), Does.EndWith(Path.Combine(".cache", "genmetrics", "kernels")));
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved);
        }
    }

    [Test]
    public void CudaRequestWithoutCudaSaysWhatIsMissing()
    {
        var report = CudaAvailability.Probe();
        if (report.UnavailableReason is null) Assert.Ignore("CUDA is available here");
        var e = Assert.Throws<InputException>(() => ComputeBackends.Create("cuda"))!;
        Assert.That(e.Message, Does.StartWith("--backend cuda: "));
        Assert.That(e.Message, Does.Contain(report.UnavailableReason));
        string? notice = null;
        using var auto = ComputeBackends.Create("auto", n => notice = n);
        Assert.That(auto.Name, Is.EqualTo("cpu"));
        // The auto notice is one short line: the first missing piece, and where the full list is.
        Assert.That(notice, Does.StartWith("running on the CPU: " + report.UnavailableReason.Split(';')[0]));
        Assert.That(notice, Does.Contain("genmetrics devices"));
    }

    [TestCase(13000, new[] { 13, 12 })]
    [TestCase(13010, new[] { 13, 12 })]
    [TestCase(12080, new[] { 12 })]
    [TestCase(12000, new[] { 12 })]
    [TestCase(11080, new int[0])]
    public void ToolkitsFollowTheDriverVersion(int driverVersion, int[] expected)
    {
        var (toolkits, reason) = CudaLibraries.ChooseToolkits(driverVersion);
        Assert.That(toolkits, Is.EqualTo(expected));
        Assert.That(reason, Does.Contain($"CUDA {CudaLibraries.FormatVersion(driverVersion)}"));
        if (driverVersion < 13000) Assert.That(reason, Does.Contain("13"));
    }

    [Test]
    public void LibrariesTheDriverCannotRunAreNotEvenTried()
    {
        var tried = new List<string>();
        nint Load(string name)
        {
            tried.Add(name);
            return name.EndsWith(".so.1", StringComparison.Ordinal) || name.EndsWith(".so.12", StringComparison.Ordinal) || name.EndsWith(".so.11", StringComparison.Ordinal) ? 1 : 0;
        }
        if (!OperatingSystem.IsLinux()) Assert.Ignore("sonames are Linux's");
        var libs = new CudaLibraries(Load, driverVersionOverride: 12040);
        Assert.That(tried, Does.Not.Contain("libcublas.so.13").And.Not.Contain("libnvrtc.so.13").And.Not.Contain("libcusolver.so.12"));
        Assert.That(libs.CublasProbe.LoadedName, Is.EqualTo("libcublas.so.12"));
        Assert.That(libs.NvrtcProbe.LoadedName, Is.EqualTo("libnvrtc.so.12"));
        Assert.That(libs.CusolverProbe.LoadedName, Is.EqualTo("libcusolver.so.11"), "CUDA 12 ships cuSOLVER 11");
        Assert.That(libs.CublasProbe.Attempts[0], Does.StartWith("libcublas.so.13: skipped"));
        Assert.That(libs.SelectionReason, Does.Contain("12.4").And.Contain("R580"));
    }

    [Test]
    public void CusolverComesFromTheToolkitOfTheLoadedCublas()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("sonames are Linux's");
        // A CUDA 13 driver, but only CUDA 12's cuBLAS installed: cuSOLVER 12 (CUDA 13's) must not be paired with it.
        nint Load(string name) => name is "libcuda.so.1" or "libnvrtc.so.13" or "libcublas.so.12" or "libcusolver.so.12" or "libcusolver.so.11" ? 1 : 0;
        var libs = new CudaLibraries(Load, driverVersionOverride: 13000);
        Assert.That(libs.CublasProbe.LoadedName, Is.EqualTo("libcublas.so.12"));
        Assert.That(libs.CusolverProbe.LoadedName, Is.EqualTo("libcusolver.so.11"));
    }
}
