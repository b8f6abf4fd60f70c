using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

namespace GenMetrics.Models;

/// <summary>
/// Where ONNX Runtime runs a feature network: <c>cpu</c>, <c>cuda</c> / <c>cuda:N</c> (the CUDA execution
/// provider of Microsoft.ML.OnnxRuntime.Gpu, built for CUDA 13 and cuDNN 9), or <c>auto</c> (CUDA when its
/// provider loads, else the CPU with one notice saying why). On CUDA the arithmetic is full fp32 (TF32 off)
/// unless <see cref="Tf32"/> is set, so GPU features agree with CPU features to float rounding.
/// </summary>
public sealed record NetworkDevice(string Kind, int DeviceId = 0, bool Tf32 = false)
{
    public static NetworkDevice Cpu { get; } = new("cpu");
    public static NetworkDevice Auto { get; } = new("auto");

    /// <summary>Parses auto, cpu, cuda or cuda:N and the --network-precision value (fp32 or tf32).</summary>
    public static NetworkDevice Parse(string text, string precision = "fp32")
    {
        bool tf32 = precision.ToLowerInvariant() switch
        {
            "fp32" => false,
            "tf32" => true,
            _ => throw new InputException($"--network-precision: unknown precision '{precision}' (expected fp32 or tf32)"),
        };
        string t = text.Trim().ToLowerInvariant();
        if (t is "cpu" or "auto" or "cuda") return new(t, 0, tf32);
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t[5..], out int id) && id >= 0) return new("cuda", id, tf32);
        throw new InputException($"--device: unknown device '{text}' (expected auto, cpu, cuda or cuda:N)");
    }

    public override string ToString() => Kind == "cuda" ? $"cuda:{DeviceId}" : Kind;

    static int s_autoNoticeGiven;

    /// <summary>
    /// Adds the execution provider to <paramref name="options"/> and returns the device that will run
    /// ("cpu" or "cuda:N"). cuda whose provider cannot load is an <see cref="InputException"/> naming the
    /// missing library; auto then falls back to the CPU, telling <paramref name="notice"/> once per process.
    /// </summary>
    internal string Configure(SessionOptions options, Action<string>? notice)
    {
        if (Kind == "cpu") return "cpu";
        try
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(new Dictionary<string, string>
            {
                ["device_id"] = DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["use_tf32"] = Tf32 ? "1" : "0",
            });
            options.AppendExecutionProvider_CUDA(cuda);
            return ToString();
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            string reason = ExplainCudaFailure(e.Message);
            if (Kind == "cuda") throw new InputException($"--device {this}: the ONNX Runtime CUDA provider cannot load: {reason}");
            if (Interlocked.Exchange(ref s_autoNoticeGiven, 1) == 0)
                notice?.Invoke($"feature networks run on the CPU: the ONNX Runtime CUDA provider cannot load ({reason})");
            return "cpu";
        }
    }

    /// <summary>One line from ONNX Runtime's load error: the library the dynamic loader could not find, when it says.</summary>
    public static string ExplainCudaFailure(string message)
    {
        var missing = Regex.Match(message, @"(lib[A-Za-z0-9_.+-]+\.so[0-9.]*|[A-Za-z0-9_.+-]+\.dll)\s*:\s*cannot open shared object file");
        if (missing.Success) return $"{missing.Groups[1].Value} not found (CUDA 13 and cuDNN 9 libraries must be on the loader path)";
        var dll = Regex.Match(message, @"(cudnn[A-Za-z0-9_]*\.dll|cublas[A-Za-z0-9_]*\.dll|cudart[A-Za-z0-9_]*\.dll)", RegexOptions.IgnoreCase);
        if (dll.Success) return $"{dll.Groups[1].Value} not found (CUDA 13 and cuDNN 9 libraries must be on the PATH)";
        string first = message.Split('\n')[0].Trim();
        return first.Length > 200 ? first[..200] + "..." : first;
    }
}
