using System.CommandLine;
using System.Globalization;
using GenMetrics.Models;

namespace GenMetrics.Cli.Commands;

/// <summary>`genmetrics models install inception|vgg16 [--from FILE]` and `genmetrics models list`.</summary>
public sealed class ModelsCommand : ICommand
{
    public string Name => "models";
    public string Summary => "Install (download, or --from FILE, and convert to ONNX) or list the feature networks.";
    public string Usage => "install inception|vgg16 [--from FILE] | list";
    public int Order => 80;

    public IReadOnlyList<Symbol> Options { get; } =
    [
        Opt.Positional("ACTION", "install or list", optional: true, suggestions: ["install", "list"]),
        Opt.Positional("MODEL", "inception or vgg16 (install)", optional: true, suggestions: [.. KnownModel.All.Select(m => m.Id)]),
        Opt.Text("from", "Convert this local .pth instead of downloading it", "FILE"),
        Opt.Flag("allow-unverified", "with --from: convert a checkpoint whose SHA-256 is not the official one (your own fine-tuned network of the same layout); recorded as unverified"),
        Opt.Text("dir", "Model directory (default $GENMETRICS_HOME/models or ~/.cache/genmetrics/models)", "DIR"),
    ];

    public int Run(ArgumentList args, CommandContext context)
    {
        var store = new ModelStore(args.Get("dir") ?? ModelStore.DefaultDirectory());
        string action = args.Positional.Count > 0 ? args.Positional[0] : throw new UsageException("missing action (install or list)");
        switch (action)
        {
            case "list":
                if (args.Positional.Count > 1) throw new UsageException($"unexpected argument '{args.Positional[1]}'");
                return List(store, context);
            case "install":
                if (args.Positional.Count < 2) throw new UsageException("missing MODEL");
                var model = KnownModel.Find(args.Positional[1])
                    ?? throw new UsageException($"unknown model '{args.Positional[1]}' (known: {string.Join(", ", KnownModel.All.Select(m => m.Id))})");
                if (args.Flag("allow-unverified") && !args.Has("from"))
                    throw new UsageException("--allow-unverified applies to --from FILE (a download is always checked)");
                OutputPaths.CheckFolder(store.Directory, "--dir", [], [args.Get("from")]);
                return Install(store, model, args.Get("from"), args.Flag("allow-unverified"), context);
            default:
                throw new UsageException($"unknown action '{action}' (install or list)");
        }
    }

    private static int List(ModelStore store, CommandContext context)
    {
        var installed = store.List();
        if (installed.Count == 0)
        {
            context.Out.WriteLine($"no models installed in {store.Directory}");
            return Program.ExitOk;
        }
        foreach (var m in installed)
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Model,-10} {m.Network,-18} input {string.Join("x", m.Input)}  outputs {string.Join(",", m.Outputs)}  from {m.SourceFile} (sha256 {(m.IsVerified ? m.SourceSha256[..12] : m.SourceSha256 + ", unverified")})  {m.OnnxBytes / 1e6:0.0} MB"));
        return Program.ExitOk;
    }

    private static int Install(ModelStore store, KnownModel model, string? from, bool allowUnverified, CommandContext context)
    {
        string checkpoint;
        bool downloaded = false;
        if (from is not null)
        {
            checkpoint = from;
        }
        else
        {
            checkpoint = Path.Combine(store.Directory, "downloads", model.CheckpointFileName);
            if (!File.Exists(checkpoint))
            {
                context.Notice($"downloading {model.Url}");
                using var client = new HttpClient { Timeout = TimeSpan.FromHours(2) };
                ModelStore.DownloadAsync(client, model.Url, checkpoint, context.Progress.Start("download"), model: model.Id).GetAwaiter().GetResult();
                context.Progress.Clear();
            }
            downloaded = true;
        }
        ModelManifest manifest;
        try
        {
            manifest = store.Install(model, checkpoint, context.Progress.Start("convert"), allowUnverified && !downloaded);
        }
        catch (InputException) when (downloaded)
        {
            // A bad download must not be reused by the next attempt.
            File.Delete(checkpoint);
            throw;
        }
        context.Progress.Clear();
        // The checkpoint is no longer needed once converted; a corrupt one is kept out of the way by the hash check.
        if (downloaded) File.Delete(checkpoint);
        if (!manifest.IsVerified)
            context.Notice($"{checkpoint}: SHA-256 {manifest.SourceSha256} is not the official {model.CheckpointFileName}; installed as unverified (results record it)");
        context.Out.WriteLine($"installed {model.Id}: {store.OnnxPath(model.Id)} (source sha256 {manifest.SourceSha256}{(manifest.IsVerified ? "" : ", unverified")}, outputs {string.Join(", ", manifest.Outputs)})");
        return Program.ExitOk;
    }
}
