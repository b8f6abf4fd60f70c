using System.Security.Cryptography;
using System.Text.Json;
using GenMetrics.Features;
using GenMetrics.Randomness;

namespace GenMetrics.Generators;

/// <summary>Opens the generator a description file (<c>generator.json</c>) names.</summary>
public static class Generator
{
    /// <param name="descriptionPath">The JSON description; model file names in it are relative to its folder.</param>
    /// <param name="threads">ONNX Runtime intra-op threads; 0 lets it choose.</param>
    public static IGenerator Load(string descriptionPath, int threads = 0)
    {
        if (!File.Exists(descriptionPath)) throw InputException.For(descriptionPath, "generator description not found");
        var description = GeneratorDescription.Read(descriptionPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(descriptionPath))!;
        return description.Kind == "single"
            ? new SingleGraphGenerator(description, folder, descriptionPath, threads)
            : new StyleGanGenerator(description, folder, descriptionPath, threads);
    }

    internal static (double Low, double High) OutputRange(GeneratorDescription d) =>
        d.OutputRange is { } r ? (r[0], r[1]) : (-1.0, 1.0);

    /// <summary>Checks an image output's declared shape: [N, 3, H, W]; H and W when the model fixes them (0 otherwise).</summary>
    internal static (int H, int W) CheckImageOutput(OnnxGraph graph, string name, int[] dims)
    {
        if (dims.Length != 4 || (dims[1] > 0 && dims[1] != 3))
            throw InputException.For(graph.Source, $"output '{name}' has shape {OnnxGraph.ShapeText(dims)}, expected an image batch [N, 3, H, W]");
        return (Math.Max(dims[2], 0), Math.Max(dims[3], 0));
    }

    internal static void CheckImageShape(OnnxGraph graph, string name, long[] shape, int n, int h, int w)
    {
        if (shape.Length != 4 || shape[0] != n || shape[1] != 3 || (h > 0 && shape[2] != h) || (w > 0 && shape[3] != w))
            throw InputException.For(graph.Source, $"output '{name}' came out as [{string.Join(", ", shape)}], expected [{n}, 3, {(h > 0 ? h : "H")}, {(w > 0 ? w : "W")}]");
    }

    internal static void CheckLatents(ReadOnlySpan<float> z, int n, int latentDim)
    {
        if (n < 0 || z.Length != (long)n * latentDim) throw new ArgumentException($"z holds {z.Length} floats, expected {n}x{latentDim}");
    }
}

/// <summary>One graph: z [N, Z] (+ optional psi [1] and one-hot class [N, C] inputs) -> image [N, 3, H, W].</summary>
internal sealed class SingleGraphGenerator : IGenerator
{
    private readonly OnnxGraph _graph;
    private readonly string _latentInput, _output;
    private readonly string? _psiInput, _classInput;
    private readonly long[] _psiShape = [];
    private readonly int _classCount;
    private readonly double _low, _high;

    public string Name { get; }
    public int LatentDim { get; }
    public (int Height, int Width) ImageSize { get; }

    public SingleGraphGenerator(GeneratorDescription d, string folder, string source, int threads)
    {
        Name = Path.GetFileName(source);
        _graph = OnnxGraph.Load(Path.Combine(folder, d.Model!), threads);
        try
        {
            var named = new List<string>();
            if (d.PsiInput is not null)
            {
                var (name, dims) = _graph.Input(d.PsiInput, "psi_input");
                _psiInput = name;
                if (dims.Length > 1 || (dims.Length == 1 && dims[0] > 1))
                    throw InputException.For(_graph.Source, $"psi input '{name}' has shape {OnnxGraph.ShapeText(dims)}, expected a scalar or [1]");
                _psiShape = dims.Length == 0 ? [] : [1];
                named.Add(name);
            }
            if (d.ClassInput is not null)
            {
                var (name, dims) = _graph.Input(d.ClassInput, "class_input");
                if (dims.Length != 2 || dims[1] <= 0)
                    throw InputException.For(_graph.Source, $"class input '{name}' has shape {OnnxGraph.ShapeText(dims)}, expected one-hot [N, C] with a fixed C");
                _classInput = name;
                _classCount = dims[1];
                named.Add(name);
            }
            string? latentName = d.LatentInput;
            if (latentName is null)
            {
                var others = _graph.InputNames.Where(k => !named.Contains(k)).ToArray();
                if (others.Length == 1) latentName = others[0];
            }
            var (latent, latentDims) = _graph.Input(latentName, "latent_input");
            if (latentDims.Length != 2 || latentDims[1] <= 0)
                throw InputException.For(_graph.Source, $"latent input '{latent}' has shape {OnnxGraph.ShapeText(latentDims)}, expected [N, Z] with a fixed Z");
            _latentInput = latent;
            LatentDim = latentDims[1];
            named.Add(latent);
            _graph.RequireOnlyInputs(named);
            var (output, outDims) = _graph.Output(d.Output, "output");
            _output = output;
            var (h, w) = Generator.CheckImageOutput(_graph, output, outDims);
            (_low, _high) = Generator.OutputRange(d);
            if (h == 0 || w == 0)
            {
                // Open output size: learn it from one sample rather than asking the user.
                var (_, shape) = RunRaw(new float[LatentDim], 1, 1.0, null);
                Generator.CheckImageShape(_graph, _output, shape, 1, h, w);
                (h, w) = ((int)shape[2], (int)shape[3]);
            }
            ImageSize = (h, w);
        }
        catch
        {
            _graph.Dispose();
            throw;
        }
    }

    public float[] Generate(ReadOnlySpan<float> z, int n, double psi = 1.0, GenerationOptions? options = null)
    {
        Generator.CheckLatents(z, n, LatentDim);
        CheckRequest(psi, options);
        if (n == 0) return [];
        var (data, shape) = RunRaw(z.ToArray(), n, psi, options?.ClassIndex);
        Generator.CheckImageShape(_graph, _output, shape, n, ImageSize.Height, ImageSize.Width);
        ImageQuantizer.ToPixelScale(data, _low, _high);
        return data;
    }

    public void CheckRequest(double psi, GenerationOptions? options = null)
    {
        Truncation.CheckPsi(psi);
        if (psi != 1.0 && _psiInput is null)
            throw InputException.For(Name, $"psi {psi} asked for, but the generator has no psi input (name one with \"psi_input\")");
        if (options?.TruncationCutoff is not null)
            throw InputException.For(Name, "a truncation cutoff needs a stylegan generator (style layers); this one is a single graph");
        if (_classInput is not null)
        {
            int c = options?.ClassIndex ?? (_classCount == 1 ? 0 : throw InputException.For(Name, $"the generator is conditional ({_classCount} classes): give a class index"));
            if (c < 0 || c >= _classCount) throw InputException.For(Name, $"class {c} is outside 0..{_classCount - 1}");
        }
        else if (options?.ClassIndex is not null)
        {
            throw InputException.For(Name, "a class index was given, but the generator has no class input (name one with \"class_input\")");
        }
    }

    private (float[] Data, long[] Shape) RunRaw(float[] z, int n, double psi, int? classIndex)
    {
        var inputs = new List<(string, float[], long[])> { (_latentInput, z, [n, LatentDim]) };
        if (_psiInput is not null) inputs.Add((_psiInput, [(float)psi], _psiShape));
        if (_classInput is not null)
        {
            int c = classIndex ?? (_classCount == 1 ? 0 : throw InputException.For(Name, $"the generator is conditional ({_classCount} classes): give a class index"));
            if (c < 0 || c >= _classCount) throw InputException.For(Name, $"class {c} is outside 0..{_classCount - 1}");
            var onehot = new float[n * _classCount];
            for (int i = 0; i < n; i++) onehot[i * _classCount + c] = 1f;
            inputs.Add((_classInput, onehot, [n, _classCount]));
        }
        else if (classIndex is not null)
        {
            throw InputException.For(Name, "a class index was given, but the generator has no class input (name one with \"class_input\")");
        }
        return _graph.Run(inputs, _output);
    }

    public void Dispose() => _graph.Dispose();
}

/// <summary>
/// A StyleGAN-style pair: mapping z [N, Z] -> w [N, W] (or ws [N, L, W]), synthesis ws [N, L, W] -> image.
/// Truncation happens between the two, in W.
/// </summary>
internal sealed class StyleGanGenerator : IGenerator
{
    /// <summary>How many z the w_avg estimate averages, drawn in one stream from RandomState(<see cref="WAvgSeed"/>).</summary>
    public const int WAvgSamples = 10_000;
    public const uint WAvgSeed = 0;

    private readonly OnnxGraph _mapping, _synthesis;
    private readonly string _mappingInput, _mappingOutput, _synthesisInput, _synthesisOutput;
    private readonly bool _mappingGivesLayers;
    private readonly double _low, _high;

    public string Name { get; }
    public int LatentDim { get; }
    public int NumLayers { get; }
    public int StyleDim { get; }
    public (int Height, int Width) ImageSize { get; }
    public float[] WAvg { get; }

    /// <summary>Where the estimated w_avg was cached (null when the description gives w_avg).</summary>
    public string? WAvgCachePath { get; }

    public StyleGanGenerator(GeneratorDescription d, string folder, string source, int threads)
    {
        Name = Path.GetFileName(source);
        NumLayers = d.NumLayers!.Value;
        _mapping = OnnxGraph.Load(Path.Combine(folder, d.Mapping!), threads);
        try
        {
            _synthesis = OnnxGraph.Load(Path.Combine(folder, d.Synthesis!), threads);
        }
        catch
        {
            _mapping.Dispose();
            throw;
        }
        try
        {
            var (zName, zDims) = _mapping.Input(d.MappingInput, "mapping_input");
            if (zDims.Length != 2 || zDims[1] <= 0)
                throw InputException.For(_mapping.Source, $"latent input '{zName}' has shape {OnnxGraph.ShapeText(zDims)}, expected [N, Z] with a fixed Z");
            _mapping.RequireOnlyInputs([zName]);
            _mappingInput = zName;
            LatentDim = zDims[1];

            var (wName, wDims) = _mapping.Output(d.MappingOutput, "mapping_output");
            if (wDims.Length is not (2 or 3) || (wDims.Length == 3 && wDims[1] > 0 && wDims[1] != NumLayers))
                throw InputException.For(_mapping.Source, $"output '{wName}' has shape {OnnxGraph.ShapeText(wDims)}, expected w [N, W] or ws [N, {NumLayers}, W]");
            _mappingOutput = wName;
            _mappingGivesLayers = wDims.Length == 3;

            var (wsName, wsDims) = _synthesis.Input(d.SynthesisInput, "synthesis_input");
            if (wsDims.Length != 3 || (wsDims[1] > 0 && wsDims[1] != NumLayers))
                throw InputException.For(_synthesis.Source, $"input '{wsName}' has shape {OnnxGraph.ShapeText(wsDims)}, expected ws [N, {NumLayers}, W] (num_layers = {NumLayers})");
            _synthesis.RequireOnlyInputs([wsName]);
            _synthesisInput = wsName;

            int styleDim = wDims[^1] > 0 ? wDims[^1] : wsDims[2];
            if (styleDim <= 0) styleDim = (int)MapRaw(new float[LatentDim], 1).Shape[^1];
            if (wDims[^1] > 0 && wsDims[2] > 0 && wDims[^1] != wsDims[2])
                throw InputException.For(_synthesis.Source, $"input '{wsName}' takes W = {wsDims[2]}, but the mapping gives W = {wDims[^1]}");
            StyleDim = styleDim;

            var (imageName, imageDims) = _synthesis.Output(d.SynthesisOutput, "synthesis_output");
            _synthesisOutput = imageName;
            var (h, w) = Generator.CheckImageOutput(_synthesis, imageName, imageDims);
            (_low, _high) = Generator.OutputRange(d);

            (WAvg, WAvgCachePath) = LoadWAvg(d, folder, source);
            if (h == 0 || w == 0)
            {
                var ws = new float[NumLayers * StyleDim];
                for (int l = 0; l < NumLayers; l++) WAvg.CopyTo(ws.AsSpan(l * StyleDim));
                var (_, shape) = _synthesis.Run([(_synthesisInput, ws, [1, NumLayers, StyleDim])], _synthesisOutput);
                Generator.CheckImageShape(_synthesis, _synthesisOutput, shape, 1, h, w);
                (h, w) = ((int)shape[2], (int)shape[3]);
            }
            ImageSize = (h, w);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public float[] Generate(ReadOnlySpan<float> z, int n, double psi = 1.0, GenerationOptions? options = null)
    {
        Generator.CheckLatents(z, n, LatentDim);
        CheckRequest(psi, options);
        if (n == 0) return [];
        var ws = MapToLayers(z.ToArray(), n);
        Truncation.Apply(ws, n, NumLayers, WAvg, psi, options?.TruncationCutoff);
        return Synthesize(ws, n);
    }

    public void CheckRequest(double psi, GenerationOptions? options = null)
    {
        Truncation.CheckPsi(psi);
        if (options?.TruncationCutoff is < 0) throw InputException.For("--truncation-cutoff", $"cutoff {options.TruncationCutoff} is negative");
        if (options?.ClassIndex is not null) throw InputException.For(Name, "class-conditional StyleGAN pairs are not supported yet");
    }

    /// <summary>ws [n, L, W] for latents [n, Z], before truncation.</summary>
    public float[] MapToLayers(float[] z, int n)
    {
        var (w, shape) = MapRaw(z, n);
        if (_mappingGivesLayers)
        {
            if (shape.Length != 3 || shape[0] != n || shape[1] != NumLayers || shape[2] != StyleDim)
                throw InputException.For(_mapping.Source, $"output '{_mappingOutput}' came out as [{string.Join(", ", shape)}], expected [{n}, {NumLayers}, {StyleDim}]");
            return w;
        }
        if (shape.Length != 2 || shape[0] != n || shape[1] != StyleDim)
            throw InputException.For(_mapping.Source, $"output '{_mappingOutput}' came out as [{string.Join(", ", shape)}], expected [{n}, {StyleDim}]");
        var ws = new float[n * NumLayers * StyleDim];
        for (int i = 0; i < n; i++)
            for (int l = 0; l < NumLayers; l++)
                w.AsSpan(i * StyleDim, StyleDim).CopyTo(ws.AsSpan((i * NumLayers + l) * StyleDim));
        return ws;
    }

    /// <summary>Images [n, 3, H, W] in [0, 255] from ws [n, L, W] (already truncated, if wanted).</summary>
    public float[] Synthesize(float[] ws, int n)
    {
        if (ws.Length != (long)n * NumLayers * StyleDim) throw new ArgumentException($"ws holds {ws.Length} floats, expected {n}x{NumLayers}x{StyleDim}");
        var (image, shape) = _synthesis.Run([(_synthesisInput, ws, [n, NumLayers, StyleDim])], _synthesisOutput);
        Generator.CheckImageShape(_synthesis, _synthesisOutput, shape, n, ImageSize.Height, ImageSize.Width);
        ImageQuantizer.ToPixelScale(image, _low, _high);
        return image;
    }

    private (float[] Data, long[] Shape) MapRaw(float[] z, int n) =>
        _mapping.Run([(_mappingInput, z, [n, LatentDim])], _mappingOutput);

    private (float[], string?) LoadWAvg(GeneratorDescription d, string folder, string source)
    {
        if (d.WAvg is { ValueKind: JsonValueKind.Array } array)
        {
            var values = new float[array.GetArrayLength()];
            int i = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out double v) || !double.IsFinite(v))
                    throw InputException.For(source, $"\"w_avg\"[{i}] is not a finite number");
                values[i++] = (float)v;
            }
            CheckWAvgLength(values.Length, source);
            return (values, null);
        }
        if (d.WAvg is { ValueKind: JsonValueKind.String } file)
        {
            string path = Path.Combine(folder, file.GetString()!);
            var values = ReadVector(path);
            CheckWAvgLength(values.Length, path);
            return (values, null);
        }
        // Keyed by the mapping's bytes: a re-exported mapping never reuses a stale average.
        string hash = Convert.ToHexStringLower(SHA256.HashData(_mapping.ModelBytes))[..16];
        string cache = Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(source)}.w_avg.{hash}.npy");
        if (File.Exists(cache))
        {
            try
            {
                var cached = ReadVector(cache);
                if (cached.Length == StyleDim) return (cached, cache);
            }
            catch (Exception e) when (e is InputException or IOException)
            {
                // A damaged cache entry is estimated again and overwritten, never an error.
            }
        }
        var estimate = EstimateWAvg();
        try
        {
            FeatureFiles.WriteNpy(cache, estimate, StyleDim);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InputException)
        {
            // A read-only folder only costs the estimate again next time.
            return (estimate, null);
        }
        return (estimate, cache);
    }

    private void CheckWAvgLength(int length, string source)
    {
        if (length != StyleDim) throw InputException.For(source, $"w_avg has {length} values, the mapping gives W = {StyleDim}");
    }

    /// <summary>
    /// The mean of mapping(z) over <see cref="WAvgSamples"/> latents from RandomState(0).randn(10000, Z)
    /// (one stream, row after row), summed in float64. StyleGAN tracks w_avg as a moving average during
    /// training instead; prefer the checkpoint's own value when it is available.
    /// </summary>
    public float[] EstimateWAvg()
    {
        const int batch = 500;
        var random = new NumpyRandomState(WAvgSeed);
        var sum = new double[StyleDim];
        for (int start = 0; start < WAvgSamples; start += batch)
        {
            int n = Math.Min(batch, WAvgSamples - start);
            var z = new float[n * LatentDim];
            for (int i = 0; i < z.Length; i++) z[i] = (float)random.StandardNormal();
            var ws = MapToLayers(z, n);
            // Layer 0 stands for w: a mapping that broadcasts gives the same vector on every layer.
            for (int i = 0; i < n; i++)
            {
                var row = ws.AsSpan(i * NumLayers * StyleDim, StyleDim);
                for (int k = 0; k < StyleDim; k++) sum[k] += row[k];
            }
        }
        var mean = new float[StyleDim];
        for (int k = 0; k < StyleDim; k++) mean[k] = (float)(sum[k] / WAvgSamples);
        return mean;
    }

    private static float[] ReadVector(string path)
    {
        if (!File.Exists(path)) throw InputException.For(path, "w_avg file not found");
        using var stream = File.OpenRead(path);
        var header = NpyHeader.Read(stream, path);
        header.EnsureFloat(path);
        if (header.FortranOrder && header.Shape.Length > 1) throw InputException.For(path, "w_avg in Fortran order is not supported");
        if (!(header.Shape.Length == 1 || (header.Shape.Length == 2 && header.Shape[0] == 1)))
            throw InputException.For(path, $"w_avg has shape {header.ShapeText}, expected (W,) or (1, W)");
        int count = (int)header.Shape[^1];
        var bytes = new byte[count * header.ItemSize];
        stream.Position = header.DataOffset;
        if (stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) < bytes.Length) throw InputException.For(path, "file ends inside the w_avg data");
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double v = header.IsFloat64 ? BitConverter.ToDouble(bytes, i * 8) : BitConverter.ToSingle(bytes, i * 4);
            if (!double.IsFinite(v)) throw InputException.For(path, $"w_avg[{i}] is not finite");
            values[i] = (float)v;
        }
        return values;
    }

    public void Dispose()
    {
        _mapping?.Dispose();
        _synthesis?.Dispose();
    }
}
