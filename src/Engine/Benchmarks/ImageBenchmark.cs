using System.Diagnostics;
using System.Runtime.InteropServices;
using GenMetrics.Imaging;
using GenMetrics.Reports;
using SkiaSharp;

namespace GenMetrics.Benchmarks;

/// <summary>
/// Decode and resize throughput per core (one thread, files already in memory, so no disk I/O): decode
/// alone, decode + clean (clean-fid's PIL bicubic, 299×299), decode + legacy-pytorch, for 256×256 JPEG
/// (quality 90) and PNG. The folders are perf/make_bench_images.py's (which also times PIL on them) when
/// given, else the same kind of images made here. Also the clean resize alone on the decoded images.
/// Seconds = process CPU time per image after three warm-up passes (the work is on one thread; GC and JIT
/// threads count too); the note gives images/s per core, and by the measuring thread's CPU time alone.
/// </summary>
public static class ImageBenchmark
{
    public static IReadOnlyList<BenchmarkResult> Run(BenchmarkOptions options, string? folder, Action<BenchmarkResult>? onResult = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var results = new BenchmarkResults(onResult);
        int count = options.Quick ? 16 : 96;
        int repeats = Math.Max(1, options.Repeats);
        foreach (var kind in new[] { "jpeg", "png" })
        {
            var files = folder is not null ? Read(Path.Combine(folder, kind), count) : Make(kind, count, options.Seed);
            var decoder = StbImageDecoder.Instance;
            var clean = new ImagePreprocessor(ResizeMode.Clean, 299);
            var pytorch = new ImagePreprocessor(ResizeMode.LegacyPyTorch, 299);
            var output = new float[clean.OutputLength];
            var decoded = files.Select(b => decoder.Decode(b, kind)).ToList();
            int next = 0;
            var steps = new (string Name, Action<byte[]> Work)[]
            {
                // As the feature pipeline decodes: into one reused pixel array per thread.
                ("decode", b => decoder.DecodeTransient(b, kind)),
                ("decode+clean-299", b => clean.Process(decoder.DecodeTransient(b, kind), kind, output)),
                ("decode+legacy-pytorch-299", b => pytorch.Process(decoder.DecodeTransient(b, kind), kind, output)),
                // The resize alone, on the images decoded above (the share of decode+clean that is not decode).
                ("clean-299-only", _ => clean.Process(decoded[next++ % decoded.Count], kind, output)),
            };
            foreach (var (name, work) in steps)
            {
                // Warm-up: three passes, so that the measured code runs tier-1 JIT code (tiering promotes a
                // method after 30 calls and a short delay) and the pools and scratch buffers exist.
                for (int pass = 0; pass < 3; pass++)
                    foreach (var f in files) work(f);
                var times = new List<(double Process, double Thread)>();
                for (int r = 0; r < repeats; r++)
                {
                    // CPU time, not wall time: per-core throughput on a shared machine, as the PIL script measures.
                    // Process time counts the runtime's own threads too (GC, JIT), the thread's time only this one.
                    var start = Process.GetCurrentProcess().TotalProcessorTime;
                    double threadStart = ThreadCpuSeconds();
                    foreach (var f in files) work(f);
                    double thread = ThreadCpuSeconds() - threadStart;
                    times.Add(((Process.GetCurrentProcess().TotalProcessorTime - start).TotalSeconds / files.Count, thread / files.Count));
                }
                times.Sort();
                var (perImage, perImageThread) = times[times.Count / 2];
                string threadNote = double.IsNaN(perImageThread) ? "" : $", this thread {1 / perImageThread:0}";
                results.Add(new BenchmarkResult($"images-{kind}-{name}", "cpu", $"{files.Count} x 256x256", perImage, repeats,
                    Note: $"{1 / perImage:0} images/s per core (process CPU time{threadNote}){(folder is null ? "" : $" ({folder})")}"));
            }
        }
        return results.All;
    }

    // CLOCK_THREAD_CPUTIME_ID through libc's clock_gettime (Linux); NaN elsewhere.
    static readonly unsafe delegate* unmanaged<int, long*, int> ClockGetTime = LoadClockGetTime();

    static unsafe delegate* unmanaged<int, long*, int> LoadClockGetTime()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out nint libc)) return null;
        return NativeLibrary.TryGetExport(libc, "clock_gettime", out nint f) ? (delegate* unmanaged<int, long*, int>)f : null;
    }

    static unsafe double ThreadCpuSeconds()
    {
        if (ClockGetTime == null) return double.NaN;
        long* timespec = stackalloc long[2];
        const int ClockThreadCpuTime = 3;
        return ClockGetTime(ClockThreadCpuTime, timespec) == 0 ? timespec[0] + timespec[1] * 1e-9 : double.NaN;
    }

    static List<byte[]> Read(string dir, int count)
    {
        if (!Directory.Exists(dir)) throw InputException.For(dir, "no such folder (make it with perf/make_bench_images.py)");
        var files = Directory.GetFiles(dir).Order(StringComparer.Ordinal).Take(count).Select(File.ReadAllBytes).ToList();
        return files.Count > 0 ? files : throw InputException.For(dir, "no images");
    }

    // Smooth gradients with texture and noise: compresses like a photo, not like a flat test card.
    static List<byte[]> Make(string kind, int count, int seed)
    {
        var rng = new Random(seed);
        var files = new List<byte[]>();
        for (int n = 0; n < count; n++)
        {
            var pixels = new byte[256 * 256 * 3];
            double fx = 0.02 + rng.NextDouble() * 0.1, fy = 0.02 + rng.NextDouble() * 0.1, phase = rng.NextDouble() * 6;
            for (int y = 0; y < 256; y++)
                for (int x = 0; x < 256; x++)
                    for (int c = 0; c < 3; c++)
                        pixels[(y * 256 + x) * 3 + c] = (byte)Math.Clamp(128 + 90 * Math.Sin(fx * x * (c + 1) + fy * y + phase) + rng.Next(-20, 21), 0, 255);
            var image = new RgbImage(256, 256, pixels);
            if (kind == "png")
            {
                string temp = Path.GetTempFileName();
                try
                {
                    PngWriter.Write(temp, image);
                    files.Add(File.ReadAllBytes(temp));
                }
                finally
                {
                    File.Delete(temp);
                }
            }
            else
            {
                using var bitmap = new SKBitmap(new SKImageInfo(256, 256, SKColorType.Rgba8888, SKAlphaType.Opaque));
                var rgba = new byte[256 * 256 * 4];
                for (int i = 0; i < 256 * 256; i++)
                {
                    rgba[4 * i] = pixels[3 * i];
                    rgba[4 * i + 1] = pixels[3 * i + 1];
                    rgba[4 * i + 2] = pixels[3 * i + 2];
                    rgba[4 * i + 3] = 255;
                }
                System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
                using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
                files.Add(data.ToArray());
            }
        }
        return files;
    }
}
