using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GenMetrics.Models;

/// <summary>A network that `genmetrics models install` knows: where its public PyTorch weights live and how to convert them.</summary>
public sealed record KnownModel(string Id, string CheckpointFileName, string Url, string Sha256Prefix, Func<NetworkSpec> Spec, string DefaultOutput)
{
    public static KnownModel Inception { get; } = new("inception", "pt_inception-2015-12-05-6726825d.pth",
        "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
        "6726825d", StandardNetworks.FidInception, "pool3");

    public static KnownModel Vgg16 { get; } = new("vgg16", "vgg16-397923af.pth",
        "https://download.pytorch.org/models/vgg16-397923af.pth",
        "397923af", StandardNetworks.Vgg16, "fc2_relu");

    public static IReadOnlyList<KnownModel> All { get; } = [Inception, Vgg16];

    public static KnownModel? Find(string id) => All.FirstOrDefault(m => m.Id == id);
}

/// <summary>
/// What `models install` records next to each ONNX file (JSON, snake_case). <see cref="Verified"/> is false
/// when the checkpoint's SHA-256 was not the official one and it was converted with --allow-unverified
/// (null in manifests written before the field existed, which were all verified).
/// </summary>
public sealed record ModelManifest(
    string Model, string Network, string SourceFile, string SourceSha256, string OnnxFile, string OnnxSha256,
    long OnnxBytes, int[] Input, string[] Outputs, int Opset, DateTime InstalledUtc, bool? Verified = null)
{
    /// <summary>True unless installed with --allow-unverified from a checkpoint whose hash is not the official one.</summary>
    public bool IsVerified => Verified != false;
}

/// <summary>Which installed checkpoint a feature layer came from, for the results' JSON (feature_networks).</summary>
public sealed record FeatureProvenance(string Model, string Layer, string CheckpointSha256, bool Verified);

/// <summary>Source-generated (de)serialisation of the manifest: no reflection, so the NativeAOT C library can contain it.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ModelManifestJson : JsonSerializerContext;

/// <summary>
/// The converted models on disk: DIR/ID.onnx plus DIR/ID.json (the manifest). DIR is $GENMETRICS_HOME/models,
/// or ~/.cache/genmetrics/models. Both files are written to a temporary name and moved into place, the
/// manifest last, so a manifest always describes a complete model and a killed install leaves none.
/// </summary>
public sealed class ModelStore(string directory)
{

    public string Directory { get; } = directory;

    public static string DefaultDirectory()
    {
        var home = Environment.GetEnvironmentVariable("GENMETRICS_HOME");
        if (!string.IsNullOrEmpty(home)) return Path.Combine(home, "models");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "genmetrics", "models");
    }

    public static ModelStore Default() => new(DefaultDirectory());

    public string OnnxPath(string id) => Path.Combine(Directory, id + ".onnx");

    private string ManifestPath(string id) => Path.Combine(Directory, id + ".json");

    /// <summary>Every installed model whose ONNX file is present with the recorded size, by id.</summary>
    public IReadOnlyList<ModelManifest> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        var result = new List<ModelManifest>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            ModelManifest? m;
            try
            {
                m = JsonSerializer.Deserialize(File.ReadAllText(path), ModelManifestJson.Default.ModelManifest);
            }
            catch (JsonException)
            {
                continue;
            }
            if (m is null) continue;
            var onnx = new FileInfo(Path.Combine(Directory, m.OnnxFile));
            if (onnx.Exists && onnx.Length == m.OnnxBytes) result.Add(m);
        }
        return result;
    }

    /// <summary>
    /// Converts a checkpoint after checking its SHA-256 prefix; returns the manifest written. With
    /// <paramref name="allowUnverified"/> a checkpoint with another hash (a fine-tuned or retrained network
    /// of the same layout) is converted too and recorded as unverified, with its full SHA-256.
    /// </summary>
    public ModelManifest Install(KnownModel model, string checkpointPath, IProgress<double>? progress = null, bool allowUnverified = false)
    {
        CheckCheckpointPath(model, checkpointPath);
        string sourceHash = Sha256File(checkpointPath);
        bool verified = sourceHash.StartsWith(model.Sha256Prefix, StringComparison.Ordinal);
        if (!verified && !allowUnverified)
            throw InputException.For(checkpointPath, $"SHA-256 is {sourceHash[..16]}..., expected it to start with {model.Sha256Prefix} (not {model.CheckpointFileName}, or a corrupt download; --allow-unverified converts your own checkpoint of this network)");
        progress?.Report(0.2);
        var stateDict = TorchCheckpoint.Read(checkpointPath);
        progress?.Report(0.5);
        var spec = model.Spec();
        System.IO.Directory.CreateDirectory(Directory);
        string onnxPath = OnnxPath(model.Id);
        string onnxTemp = onnxPath + $".{Environment.ProcessId}.tmp";
        using var trackedOnnx = TempFiles.Track(onnxTemp);
        string onnxHash;
        long onnxBytes;
        try
        {
            using (var file = new FileStream(onnxTemp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20))
            {
                OnnxExporter.Export(spec, stateDict, checkpointPath, file);
                file.Flush(flushToDisk: true);
                onnxBytes = file.Length;
                file.Position = 0;
                onnxHash = Convert.ToHexStringLower(SHA256.HashData(file));
            }
            progress?.Report(0.9);
            var manifest = new ModelManifest(model.Id, spec.Name, Path.GetFileName(checkpointPath), sourceHash, Path.GetFileName(onnxPath), onnxHash,
                onnxBytes, [spec.InputChannels, spec.InputHeight, spec.InputWidth], spec.Outputs.Select(o => o.Name).ToArray(),
                OnnxExporter.OpsetVersion, DateTime.UtcNow, verified ? null : false);
            string manifestPath = ManifestPath(model.Id);
            string manifestTemp = manifestPath + $".{Environment.ProcessId}.tmp";
            using var trackedManifest = TempFiles.Track(manifestTemp);
            // The old manifest goes first: between the two moves no manifest points at a mismatched model.
            File.Delete(manifestPath);
            File.Move(onnxTemp, onnxPath, overwrite: true);
            File.WriteAllText(manifestTemp, JsonSerializer.Serialize(manifest, ModelManifestJson.Default.ModelManifest));
            File.Move(manifestTemp, manifestPath, overwrite: true);
            progress?.Report(1);
            return manifest;
        }
        finally
        {
            if (File.Exists(onnxTemp)) File.Delete(onnxTemp);
        }
    }

    /// <summary>
    /// For an image folder or zip given where features could have been: an error that says the path is
    /// read as images and what that needs (the network to install, or a feature file instead), when
    /// <paramref name="model"/> is not installed. <paramref name="purpose"/> says which metrics need it.
    /// </summary>
    public void RequireForImages(string imagePath, KnownModel model, string purpose)
    {
        if (List().Any(m => m.Model == model.Id)) return;
        throw InputException.For(imagePath, $"{ImageSourceKind(imagePath)}, read as a set of images; {purpose} from images need{(purpose.Contains(" and ", StringComparison.Ordinal) ? "" : "s")} the {model.Id} network, " +
            $"which is not installed in {Directory} (run: genmetrics models install {model.Id}), or give a .npy/.npz of features instead");
    }

    /// <summary>"is a folder" or "is a .zip archive", for messages about image inputs.</summary>
    public static string ImageSourceKind(string path) => System.IO.Directory.Exists(path) ? "is a folder" : "is a .zip archive";

    /// <summary>The installed model as a feature network; output e.g. "pool3", "logits_unbiased", "fc2", "fc2_relu".</summary>
    public OnnxFeatureNetwork Open(KnownModel model, string? output = null, int threads = 0, NetworkDevice? device = null, Action<string>? notice = null)
    {
        var manifest = List().FirstOrDefault(m => m.Model == model.Id)
            ?? throw InputException.For(Directory, $"model '{model.Id}' is not installed (run: genmetrics models install {model.Id})");
        var bytes = File.ReadAllBytes(OnnxPath(model.Id));
        string name = $"{manifest.Network} ({Path.GetFileNameWithoutExtension(manifest.SourceFile)}{(manifest.IsVerified ? "" : ", unverified")})";
        string layer = output ?? model.DefaultOutput;
        return new OnnxFeatureNetwork(bytes, layer, name, OnnxPath(model.Id), threads: threads, device: device, notice: notice)
        {
            Provenance = new FeatureProvenance(model.Id, layer, manifest.SourceSha256, manifest.IsVerified),
        };
    }

    /// <summary>
    /// A clear error for a checkpoint path that is a folder (naming the file to pass when the folder holds
    /// it) or that does not exist, instead of the operating system's "access denied".
    /// </summary>
    public static void CheckCheckpointPath(KnownModel model, string path)
    {
        if (System.IO.Directory.Exists(path))
        {
            string inside = Path.Combine(path, model.CheckpointFileName);
            throw InputException.For(path, File.Exists(inside)
                ? $"is a folder; --from takes the checkpoint file itself: --from {inside}"
                : $"is a folder; --from takes the checkpoint file itself ({model.CheckpointFileName}, from {model.Url})");
        }
        if (!File.Exists(path))
            throw InputException.For(path, $"no such file (the checkpoint is {model.CheckpointFileName}, from {model.Url})");
    }

    public static string Sha256File(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(s));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot read: {IoErrors.Describe(e)}");
        }
    }

    /// <summary>
    /// Downloads <paramref name="url"/> to <paramref name="destination"/> through DESTINATION.part, resuming a
    /// previous partial download with an HTTP Range request (a server that ignores it restarts from zero).
    /// On failure the .part file stays for the next attempt and an <see cref="InputException"/> says so, with the
    /// offline command for <paramref name="model"/> (e.g. "inception"; MODEL when null).
    /// </summary>
    public static async Task DownloadAsync(HttpClient client, string url, string destination, IProgress<double>? progress = null, CancellationToken cancel = default, string? model = null)
    {
        string part = destination + ".part";
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                // The .part already holds the whole file; the SHA-256 check after the move decides.
                File.Move(part, destination, overwrite: true);
                return;
            }
            response.EnsureSuccessStatusCode();
            bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
            if (!resumed) have = 0;
            long? total = response.Content.Headers.ContentLength is { } len ? len + have : null;
            await using (var input = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false))
            await using (var output = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var buffer = new byte[1 << 20];
                long done = have;
                int read;
                while ((read = await input.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), cancel).ConfigureAwait(false);
                    done += read;
                    if (total is > 0) progress?.Report((double)done / total.Value);
                }
                if (total is { } t && done != t)
                    throw new IOException($"connection closed after {done} of {t} bytes");
            }
            File.Move(part, destination, overwrite: true);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            // Name the .part file only when it exists and holds something to resume from.
            long kept = File.Exists(part) ? new FileInfo(part).Length : 0;
            if (kept == 0 && File.Exists(part)) File.Delete(part);
            string resume = kept > 0 ? $"{kept} bytes kept in {part}; run the command again to resume, or " : "";
            throw InputException.For(url, $"download failed: {e.Message} ({resume}to install without network, download {url} on another machine and run: genmetrics models install {model ?? "MODEL"} --from {Path.GetFileName(destination)})");
        }
    }
}
