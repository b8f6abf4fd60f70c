using System.Globalization;
using GenMetrics.Features;
using GenMetrics.Imaging;

namespace GenMetrics.Evaluation;

/// <summary>Which set KID draws its subset from first in each round (only matters with a seeded generator).</summary>
public enum KidDrawOrder
{
    /// <summary>Generated rows first, then real (torch-fidelity's input1 = generated; StyleGAN2-ADA; clean-fid).</summary>
    FakeFirst,
    /// <summary>Real rows first, then generated (torchmetrics, dgm-eval).</summary>
    RealFirst,
}

/// <summary>What KID does when a set has fewer rows than the subset size.</summary>
public enum KidSmallSets
{
    /// <summary>Use m = min(N_real, N_fake, subset size) (StyleGAN2-ADA, clean-fid, dgm-eval).</summary>
    Shrink,
    /// <summary>Refuse, as torch-fidelity and torchmetrics do.</summary>
    Error,
}

/// <summary>
/// A reference tool's settings by name (`--convention NAME`): every choice that makes its published number,
/// read from the tool's source (metrics-spec §15 lists the commits). Choices that change our computation are
/// typed; the others (squared or not, radius rule, the tool's distance arithmetic) are stated, because on the
/// same features our exact k-NN decisions do not depend on them. <see cref="Differences"/> says where the
/// tool cannot be reproduced bit for bit.
/// </summary>
public sealed record Convention
{
    /// <summary>The name given to `--convention`.</summary>
    public required string Name { get; init; }

    /// <summary>Other accepted spellings (e.g. stylegan3 for stylegan2-ada).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The tool and version, e.g. "mseitzer/pytorch-fid 0.3.0".</summary>
    public required string Tool { get; init; }

    /// <summary>The metric groups the tool computes that this engine has; null: every group the inputs allow.</summary>
    public IReadOnlyList<MetricGroup>? Groups { get; init; }

    public CovarianceDivisor CovarianceDivisor { get; init; } = CovarianceDivisor.NMinusOne;
    public int KidSubsets { get; init; } = MetricDefaults.KidSubsets;
    public int KidSubsetSize { get; init; } = MetricDefaults.KidSubsetSize;
    public KidDrawOrder KidDrawOrder { get; init; } = KidDrawOrder.FakeFirst;
    public KidSmallSets KidSmallSets { get; init; } = KidSmallSets.Shrink;

    /// <summary>Seed of our numpy-compatible draws (KID subsets, IS shuffle).</summary>
    public int Seed { get; init; } = MetricDefaults.Seed;

    /// <summary>Whether the tool's own draws are seeded with <see cref="Seed"/> (only then are its subsets reproduced).</summary>
    public bool ToolSeeded { get; init; }

    /// <summary>k of every k-NN group; null: each group's reference default (pr 3, prdc and sym 5).</summary>
    public int? K { get; init; }

    /// <summary>The tool's membership test: "&lt;=" or "&lt;"; null: per group (pr &lt;=, prdc and sym &lt;).</summary>
    public string? Comparison { get; init; }

    /// <summary>Whether the tool compares squared distances (same truth value as plain distances in exact arithmetic).</summary>
    public bool? SquaredDistances { get; init; }

    /// <summary>How the tool spells the k-NN radius (all are the (k+1)-th smallest distance, self included).</summary>
    public string Radius { get; init; } = "(k+1)-th smallest distance within the set, self included";

    /// <summary>Arithmetic of the tool's k-NN distances.</summary>
    public string ToolDistanceArithmetic { get; init; } = "float32";

    /// <summary>Image preprocessing (resize and normalisation) for folder / zip inputs.</summary>
    public ResizeMode ImageMode { get; init; } = ResizeMode.Clean;

    /// <summary>Network and layer of the FID/KID features.</summary>
    public string FeatureNetwork { get; init; } = "inception-v3 (FID weights) pool3, 2048";

    /// <summary>Network of the k-NN features (image inputs).</summary>
    public string KnnNetwork { get; init; } = "vgg16";

    /// <summary>Layer of the k-NN features: fc2_relu (NVIDIA, torch-fidelity) or fc2 (manifmetric).</summary>
    public string KnnLayer { get; init; } = "fc2_relu";

    public int InceptionScoreSplits { get; init; } = MetricDefaults.InceptionScoreSplits;
    public bool InceptionScoreShuffle { get; init; }

    /// <summary>Where our number is not the tool's bit for bit, and by how much.</summary>
    public IReadOnlyList<string> Differences { get; init; } = [];

    /// <summary>The source files read for this convention (repository @ commit: paths).</summary>
    public required string Source { get; init; }

    public bool Matches(string name) =>
        Normalise(Name) == Normalise(name) || Aliases.Any(a => Normalise(a) == Normalise(name));

    private static string Normalise(string s) => s.Trim().ToLowerInvariant().Replace('_', '-').Replace('/', ':');
}

/// <summary>Where a resolved choice applies.</summary>
public enum ChoiceScope { Fid, Kid, Knn, Images, ImagesFidKid, ImagesKnn, InceptionScore }

/// <summary>One resolved choice: its key (also the JSON key), value, and whether an explicit option replaced the convention's value.</summary>
/// <param name="Key">JSON key, e.g. "cov_divisor".</param>
/// <param name="Value">A string, an int or a bool.</param>
/// <param name="Scope">The groups (or inputs) it applies to.</param>
/// <param name="Overridden">The convention's own value when an explicit option replaced it; null otherwise.</param>
/// <param name="IsDefault">
/// True when the convention does not define this choice (its tool lacks the metric, e.g. pytorch-fid and
/// precision/recall) and the value is GenMetrics' default.
/// </param>
public sealed record ConventionChoice(string Key, object Value, ChoiceScope Scope, string? Overridden = null, bool IsDefault = false)
{
    public string Text => Format(Value);

    public static string Format(object value) => value switch
    {
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>Explicit options that override a convention's values (null: not given).</summary>
public sealed record ConventionOverrides
{
    public IReadOnlyList<MetricGroup>? Groups { get; init; }
    public IReadOnlyList<int>? Ks { get; init; }
    public int? KidSubsets { get; init; }
    public int? KidSubsetSize { get; init; }
    public int? Seed { get; init; }
    public CovarianceDivisor? CovarianceDivisor { get; init; }
    public ResizeMode? ImageMode { get; init; }
    public int? InceptionScoreSplits { get; init; }
    public bool? InceptionScoreShuffle { get; init; }
    public bool CompareWithFp32 { get; init; }
}

/// <summary>
/// A convention with the caller's explicit options applied: the <see cref="EvaluationOptions"/> to run, the
/// image settings, every resolved choice (for the stderr table and the JSON) and notes (overrides, differences).
/// </summary>
public sealed class ResolvedConvention
{
    internal ResolvedConvention(Convention convention, bool named, EvaluationOptions options, ResizeMode imageMode, int isSplits, bool isShuffle,
        IReadOnlyList<ConventionChoice> choices, IReadOnlyList<string> overrideNotes)
    {
        Convention = convention;
        Named = named;
        Options = options;
        ImageMode = imageMode;
        InceptionScoreSplits = isSplits;
        InceptionScoreShuffle = isShuffle;
        Choices = choices;
        OverrideNotes = overrideNotes;
    }

    public Convention Convention { get; }

    /// <summary>False when no --convention was given (the engine's defaults, convention "genmetrics").</summary>
    public bool Named { get; }

    /// <summary>What to compute; its <see cref="EvaluationOptions.Convention"/> is this object.</summary>
    public EvaluationOptions Options { get; }
    public ResizeMode ImageMode { get; }
    public string KnnLayer => Convention.KnnLayer;
    public int InceptionScoreSplits { get; }
    public bool InceptionScoreShuffle { get; }
    public IReadOnlyList<ConventionChoice> Choices { get; }

    /// <summary>"--seed 7 overrides torch-fidelity's 2020"-style lines, one per explicit option that changed a value.</summary>
    public IReadOnlyList<string> OverrideNotes { get; }

    /// <summary>
    /// Whether the convention's tool defines the choices of <paramref name="scope"/>: false for the metrics its
    /// tool does not compute (pytorch-fid has no KID or k-NN metrics), whose choices are GenMetrics' defaults.
    /// </summary>
    public bool Defines(ChoiceScope scope) => Conventions.Defines(Convention, scope);

    /// <summary>
    /// The keys whose values are GenMetrics' defaults because the convention does not define them, among the
    /// choices for <paramref name="groups"/>; "k" too when k-NN metrics run without a k from the convention or --k.
    /// </summary>
    public IReadOnlyList<string> DefaultKeys(IReadOnlyList<ConventionChoice> choices, IReadOnlyCollection<MetricGroup> groups)
    {
        var keys = new List<string>();
        if (groups.Any(g => MetricRegistry.Get(g).IsKnn) && !Defines(ChoiceScope.Knn) && Options.Ks is null) keys.Add("k");
        keys.AddRange(choices.Where(c => c.IsDefault).Select(c => c.Key));
        return keys;
    }

    /// <summary>
    /// The choices that apply to an evaluation of <paramref name="groups"/> (image choices only for image inputs;
    /// with <paramref name="ownNetwork"/>, the user's network replaces the convention's feature networks).
    /// </summary>
    public IReadOnlyList<ConventionChoice> ChoicesFor(IReadOnlyCollection<MetricGroup> groups, bool images, string? ownNetwork = null)
    {
        var chosen = Applicable(groups, images);
        if (ownNetwork is null) return chosen;
        var own = chosen.Where(c => c.Key is not ("feature_network" or "knn_features")).ToList();
        if (images) own.Add(new ConventionChoice("feature_network", $"{ownNetwork} (--network; instead of the convention's)", ChoiceScope.Images));
        return own;
    }

    private List<ConventionChoice> Applicable(IReadOnlyCollection<MetricGroup> groups, bool images)
    {
        bool fid = groups.Contains(MetricGroup.Fid), kid = groups.Contains(MetricGroup.Kid);
        bool knn = groups.Any(g => MetricRegistry.Get(g).IsKnn);
        return Choices.Where(c => c.Scope switch
        {
            ChoiceScope.Fid => fid,
            ChoiceScope.Kid => kid,
            ChoiceScope.Knn => knn,
            ChoiceScope.Images => images,
            ChoiceScope.ImagesFidKid => images && (fid || kid),
            ChoiceScope.ImagesKnn => images && knn,
            _ => false,
        }).Select(c => c.Key == "comparison" && Convention.Comparison is null ? c with { Value = PerGroupComparison(groups) } : c).ToList();
    }

    /// <summary>The tool's differences that concern <paramref name="groups"/>, for the notes on stderr.</summary>
    public IReadOnlyList<string> DifferencesFor(IReadOnlyCollection<MetricGroup> groups, bool images = false) =>
        Named ? Convention.Differences.Where(d => Concerns(d, groups, images)).ToList() : [];

    // A difference line starts with what it concerns ("fid: ...", "kid: ...", "k-NN: ...", "images: ...").
    private static bool Concerns(string difference, IReadOnlyCollection<MetricGroup> groups, bool images)
    {
        int colon = difference.IndexOf(':');
        string head = colon < 0 ? "" : difference[..colon];
        return head switch
        {
            "fid" => groups.Contains(MetricGroup.Fid),
            "kid" => groups.Contains(MetricGroup.Kid),
            "k-NN" => groups.Any(g => MetricRegistry.Get(g).IsKnn),
            "images" => images,
            "is" => groups.Count == 0, // the Inception Score (the `is` command) evaluates no group
            _ => true,
        };
    }

    private static string PerGroupComparison(IReadOnlyCollection<MetricGroup> groups)
    {
        var parts = new List<string>();
        if (groups.Contains(MetricGroup.Pr)) parts.Add("<= (pr)");
        var strict = groups.Where(g => g is MetricGroup.Prdc or MetricGroup.Sym).Select(g => MetricRegistry.Get(g).Name).ToList();
        if (strict.Count > 0) parts.Add($"< ({string.Join(", ", strict)})");
        return string.Join(", ", parts);
    }

    /// <summary>A two-column table of the choices (stderr of the CLI).</summary>
    public static string Table(string conventionName, IReadOnlyList<ConventionChoice> choices)
    {
        int width = Math.Max("convention".Length, choices.Count == 0 ? 0 : choices.Max(c => c.Key.Length)) + 2;
        var lines = new List<string> { "convention".PadRight(width) + conventionName };
        foreach (var c in choices)
            lines.Add(c.Key.PadRight(width) + c.Text
                + (c.Overridden is { } was ? $"   (option; {conventionName}: {was})" : "")
                + (c.IsDefault ? $"   (not defined by {conventionName}; genmetrics default)" : ""));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>
/// The named conventions and their resolution against explicit options. Part of the one metric registry
/// (<see cref="MetricRegistry.Conventions"/>); docs/conventions.md describes each.
/// </summary>
public static class Conventions
{
    /// <summary>The engine's own defaults: each group at its reference default (used when no --convention is given).</summary>
    public static Convention Default { get; } = new()
    {
        Name = "genmetrics",
        Tool = "GenMetrics defaults: fid as pytorch-fid, kid as torch-fidelity, pr as NVIDIA (k = 3), prdc and sym as their papers' code (k = 5)",
        Groups = null,
        ToolSeeded = true,
        SquaredDistances = null,
        ToolDistanceArithmetic = "exact (float64-equivalent decisions)",
        Source = "docs/conventions.md",
    };

    private const string NoDraws = "kid: the tool draws its subsets from an unseeded global generator; we draw with numpy RandomState(seed), so only a subset size equal to both set sizes reproduces its KID exactly (otherwise expect differences of the order of kid_std)";
    private const string SqrtmRoute = "fid: Tr sqrt(Σ1Σ2) from the eigenvalues of a symmetric PSD form in float64 instead of scipy's sqrtm; equal to rounding (~1e-12 relative) wherever sqrtm succeeds, finite where it does not";

    public static IReadOnlyList<Convention> All { get; } =
    [
        Default,
        new()
        {
            Name = "pytorch-fid",
            Tool = "mseitzer/pytorch-fid 0.3.0 (also TTUR's fid.py)",
            Groups = [MetricGroup.Fid],
            ImageMode = ResizeMode.LegacyPyTorch,
            FeatureNetwork = "pytorch-fid InceptionV3 (pt_inception-2015-12-05) pool3, 2048; input /255, bilinear to 299, 2x-1",
            Differences = [SqrtmRoute, "fid: pytorch-fid adds 1e-6 to both diagonals when sqrtm is not finite and raises on imaginary parts > 1e-3; we need neither"],
            Source = "mseitzer/pytorch-fid @ b9c18118: src/pytorch_fid/fid_score.py, inception.py",
        },
        new()
        {
            Name = "clean-fid",
            Aliases = ["clean-fid:clean", "cleanfid"],
            Tool = "GaParmar/clean-fid, mode=\"clean\" (compute_fid / compute_kid defaults)",
            Groups = [MetricGroup.Fid, MetricGroup.Kid],
            ImageMode = ResizeMode.Clean,
            FeatureNetwork = "NVIDIA inception-2015-12-05 TorchScript pool3, 2048; PIL bicubic (antialias) to 299 on float32, (x-128)/128",
            Differences = [CleanFidMean, SqrtmRoute, NoDraws, Float32Kernel],
            Source = "GaParmar/clean-fid @ e88c4d62: cleanfid/fid.py, resize.py, features.py",
        },
        new()
        {
            Name = "clean-fid:legacy_tensorflow",
            Aliases = ["clean-fid-legacy-tensorflow", "clean-fid:legacy-tensorflow"],
            Tool = "GaParmar/clean-fid, mode=\"legacy_tensorflow\" (matches TTUR to ~2e-5 FID)",
            Groups = [MetricGroup.Fid, MetricGroup.Kid],
            ImageMode = ResizeMode.LegacyTensorFlow,
            FeatureNetwork = "NVIDIA inception-2015-12-05 TorchScript pool3, 2048; internal TF1 bilinear to 299, (x-128)/128",
            Differences = [CleanFidMean, SqrtmRoute, NoDraws, Float32Kernel],
            Source = "GaParmar/clean-fid @ e88c4d62: cleanfid/fid.py, resize.py, features.py",
        },
        new()
        {
            Name = "clean-fid:legacy_pytorch",
            Aliases = ["clean-fid-legacy-pytorch", "clean-fid:legacy-pytorch"],
            Tool = "GaParmar/clean-fid, mode=\"legacy_pytorch\" (matches pytorch-fid to ~2e-6 FID)",
            Groups = [MetricGroup.Fid, MetricGroup.Kid],
            ImageMode = ResizeMode.LegacyPyTorch,
            FeatureNetwork = "pytorch-fid InceptionV3 pool3, 2048; PyTorch bilinear to 299, clip, /255, 2x-1",
            Differences = [CleanFidMean, SqrtmRoute, NoDraws, Float32Kernel],
            Source = "GaParmar/clean-fid @ e88c4d62: cleanfid/fid.py, resize.py, inception_pytorch.py",
        },
        new()
        {
            Name = "torch-fidelity",
            Aliases = ["torch_fidelity"],
            Tool = "toshas/torch-fidelity 0.3/0.4 (fid, kid, prc, isc)",
            Groups = [MetricGroup.Fid, MetricGroup.Kid, MetricGroup.Pr],
            KidSmallSets = KidSmallSets.Error,
            ToolSeeded = true,
            K = MetricDefaults.PrK,
            Comparison = "<=",
            SquaredDistances = false,
            Radius = "kthvalue(k+1) of the cdist row, self included",
            ImageMode = ResizeMode.LegacyTensorFlow,
            FeatureNetwork = "inception-v3-compat pool3, 2048; uint8 input, TF1 bilinear to 299, (x-128)/128",
            KnnLayer = "fc2_relu",
            InceptionScoreShuffle = true,
            Differences =
            [
                "fid: torch-fidelity sums Re sqrt of np.linalg.eigvals(Σ1Σ2); we take the same eigenvalues from a symmetric PSD form (equal to rounding)",
                "fid: torch-fidelity keeps mu as the float32 mean of its float32 features and evaluates ‖mu1 − mu2‖² in float32; we keep the float64 mean and sum (differences of ~1e-7 relative in the mean term)",
                Float32Kernel,
                "k-NN: torch-fidelity's float32 torch.cdist can flip an exact tie at the last ulp; our decisions are exact",
            ],
            Source = "toshas/torch-fidelity @ 5e211a95: torch_fidelity/defaults.py, metric_fid.py, metric_kid.py, metric_prc.py, metric_isc.py",
        },
        new()
        {
            Name = "torchmetrics",
            Tool = "Lightning-AI/torchmetrics FrechetInceptionDistance / KernelInceptionDistance (feature=2048, normalize=False)",
            Groups = [MetricGroup.Fid, MetricGroup.Kid],
            KidDrawOrder = KidDrawOrder.RealFirst,
            KidSmallSets = KidSmallSets.Error,
            ImageMode = ResizeMode.LegacyTensorFlow,
            FeatureNetwork = "torch-fidelity inception-v3-compat pool3, 2048; uint8 input, TF1 bilinear to 299, (x-128)/128",
            InceptionScoreShuffle = true,
            Differences =
            [
                "fid: torchmetrics returns FID cast to the features' dtype (float32, ~1e-7 relative); we report the float64 value",
                SqrtmRoute,
                Float32Kernel,
                "is: torchmetrics shuffles with an unseeded torch.randperm; we shuffle with numpy RandomState(seed), so only the mean over splits is comparable",
                "kid: torchmetrics draws each subset with torch.randperm (unseeded torch generator); we draw real then generated rows with numpy RandomState(seed), so only a subset size equal to both set sizes reproduces its KID exactly",
            ],
            Source = "Lightning-AI/torchmetrics: src/torchmetrics/image/fid.py, kid.py, inception.py",
        },
        new()
        {
            Name = "stylegan2-ada",
            Aliases = ["stylegan3", "stylegan2-ada-pytorch", "stylegan"],
            Tool = "NVlabs/stylegan2-ada-pytorch metrics (fid50k_full, kid50k_full, pr50k3_full, is50k); StyleGAN3 ships the same metrics code",
            Groups = [MetricGroup.Fid, MetricGroup.Kid, MetricGroup.Pr],
            CovarianceDivisor = CovarianceDivisor.N,
            K = MetricDefaults.PrK,
            Comparison = "<=",
            SquaredDistances = false,
            Radius = "kthvalue(k+1) of the cdist row, self included",
            ToolDistanceArithmetic = "float16",
            ImageMode = ResizeMode.LegacyTensorFlow,
            FeatureNetwork = "NVIDIA inception-2015-12-05 TorchScript pool3, 2048; uint8, internal TF1 bilinear to 299, (x-128)/128",
            KnnLayer = "fc2_relu",
            Differences =
            [
                "fid: covariance Σxxᵀ/N − μμᵀ accumulated in float64 (we compute the same divisor-N covariance in two passes; equal to rounding)",
                "k-NN: StyleGAN2-ADA (and StyleGAN2-TF, pr50k3) compute P&R distances in float16 on the GPU; we decide exactly, so P and R can differ from its published numbers by about 1e-3",
                NoDraws,
                Float32Kernel,
                "kid: StyleGAN2-ADA reports the mean only; kid_std is ours",
            ],
            Source = "NVlabs/stylegan2-ada-pytorch @ d72cc7d0: metrics/metric_utils.py, frechet_inception_distance.py, kernel_inception_distance.py, precision_recall.py, inception_score.py",
        },
        new()
        {
            Name = "kynkaat",
            Aliases = ["improved-precision-recall", "nvidia-pr"],
            Tool = "kynkaat/improved-precision-and-recall-metric (the official TF code of Kynkäänniemi et al. 2019)",
            Groups = [MetricGroup.Pr],
            K = MetricDefaults.PrK,
            Comparison = "<=",
            SquaredDistances = true,
            Radius = "partition index k of the squared-distance row, self included",
            ImageMode = ResizeMode.LegacyTensorFlow,
            KnnLayer = "fc2_relu",
            Differences = ["k-NN: kynkaat's float32 Gram-form squared distances (clamped at 0) can flip a near-tie at the last ulp; our decisions are exact"],
            Source = "kynkaat/improved-precision-and-recall-metric @ ed8ee4cd: precision_recall.py, utils.py",
        },
        new()
        {
            Name = "prdc",
            Aliases = ["clovaai-prdc", "generative-evaluation-prdc"],
            Tool = "clovaai/generative-evaluation-prdc compute_prdc (README: nearest_k = 5)",
            Groups = [MetricGroup.Prdc],
            K = MetricDefaults.PrdcK,
            Comparison = "<",
            SquaredDistances = false,
            Radius = "max of the k+1 smallest of the sklearn euclidean row (argpartition), self included",
            ToolDistanceArithmetic = "sklearn pairwise_distances (float64 for float64 input)",
            Differences = ["images: prdc takes features, it has no extractor; image inputs use VGG-16 fc2 after ReLU"],
            Source = "clovaai/generative-evaluation-prdc @ e320c1d2: prdc/prdc.py, README.md",
        },
        new()
        {
            Name = "manifmetric",
            Aliases = ["emergent-asymmetry", "sym"],
            Tool = "mahyarkoy/emergent_asymmetry_pr manifmetric.ManifoldMetric (Khayatkhoei & AbdAlmageed, ICML 2023)",
            Groups = [MetricGroup.Prdc, MetricGroup.Sym],
            K = MetricDefaults.PrdcK,
            Comparison = "<",
            SquaredDistances = true,
            Radius = "column k of the ascending k+1 smallest squared distances, self included",
            ToolDistanceArithmetic = "input dtype, direct sum of (x - y)²",
            KnnLayer = "fc2",
            Differences = ["images: manifmetric's VGG-16 resizes the shorter side to 256 and centre-crops 224 before fc2 (pre-ReLU); our image pipeline resizes to 224 directly"],
            Source = "mahyarkoy/emergent_asymmetry_pr @ 5c35d925: manifmetric/manifmetric.py",
        },
        new()
        {
            Name = "dgm-eval",
            Aliases = ["dgm_eval"],
            Tool = "layer6ai-labs/dgm-eval (fd, kd, prdc with --nearest_k 5)",
            Groups = [MetricGroup.Fid, MetricGroup.Kid, MetricGroup.Prdc],
            KidDrawOrder = KidDrawOrder.RealFirst,
            K = MetricDefaults.PrdcK,
            Comparison = "<",
            SquaredDistances = false,
            Radius = "max of the k+1 smallest of the sklearn euclidean row, self included",
            ToolDistanceArithmetic = "sklearn pairwise_distances",
            FeatureNetwork = "DINOv2 ViT-L/14 by default (--model dinov2); give its features as files or --network",
            Differences =
            [
                SqrtmRoute,
                "kid: dgm-eval stores its features as float64 (np.empty), so sklearn's polynomial_kernel forms the products and sums in float64; we form float32 products of the float32 features and sum the kernel values in float64 (differences of ~1e-6 relative)",
                "kid: dgm-eval draws real then generated rows from the global np.random; we draw with numpy RandomState(seed), so only a subset size equal to both set sizes reproduces its KD exactly",
                "k-NN: dgm-eval first subsamples both sets to min(--reduced_n 10000, N_real, N_fake) rows with an unseeded np.random; we use every row, so its prdc numbers are reproduced only for equal set sizes up to 10000 (otherwise pass the same subsets as files)",
                "images: dgm-eval's default encoder (DINOv2) is not installed by genmetrics; image inputs use the Inception/VGG-16 features",
            ],
            Source = "layer6ai-labs/dgm-eval @ d57a6d2d: dgm_eval/__main__.py, metrics/fd.py, metrics/mmd.py, metrics/prdc.py",
        },
    ];

    private const string Float32Kernel = "kid: the tool evaluates the kernel values and sums them in float32, its features' dtype; we sum float64 kernel values of the same float32 products (differences of ~1e-6 relative)";

    private const string CleanFidMean = "fid: clean-fid keeps mu as the float32 mean of float32 features; we keep the float64 mean (differences of ~1e-7 relative in the mean term)";

    /// <summary>Whether <paramref name="c"/>'s tool computes the metrics the choices of <paramref name="scope"/> belong to.</summary>
    internal static bool Defines(Convention c, ChoiceScope scope)
    {
        if (c.Groups is not { } groups) return true;
        bool fid = groups.Contains(MetricGroup.Fid), kid = groups.Contains(MetricGroup.Kid);
        bool knn = groups.Any(g => MetricRegistry.Get(g).IsKnn);
        return scope switch
        {
            ChoiceScope.Fid => fid,
            ChoiceScope.Kid => kid,
            ChoiceScope.Knn or ChoiceScope.ImagesKnn => knn,
            ChoiceScope.ImagesFidKid => fid || kid,
            _ => true,
        };
    }

    /// <summary>The convention of a name or alias (case-insensitive; '_' and '-' alike); an <see cref="InputException"/> names the known ones.</summary>
    public static Convention Find(string name) =>
        All.FirstOrDefault(c => c.Matches(name))
            ?? throw new InputException($"--convention: unknown convention '{name}' (known: {string.Join(", ", All.Select(c => c.Name))}; genmetrics list --conventions)");

    /// <summary>
    /// Applies explicit options on top of a convention (<paramref name="name"/> null: the engine's defaults).
    /// An explicit value that differs from the convention's is used, and said so in
    /// <see cref="ResolvedConvention.OverrideNotes"/>.
    /// </summary>
    public static ResolvedConvention Resolve(string? name, ConventionOverrides? overrides = null)
    {
        overrides ??= new ConventionOverrides();
        var c = name is null ? Default : Find(name);
        bool named = name is not null;
        var notes = new List<string>();
        var choices = new List<ConventionChoice>();
        // The convention whose value a choice takes: its own for what its tool computes, else GenMetrics' default
        // (labelled so in the table and the JSON; an explicit option then overrides no tool value).
        Convention Of(ChoiceScope scope) => Defines(c, scope) ? c : Default;
        bool Undefined(ChoiceScope scope) => named && !Defines(c, scope);

        T Pick<T>(string key, string option, T conventionValue, T? explicitValue, ChoiceScope scope, Func<T, object>? show = null) where T : struct
        {
            show ??= v => v;
            T value = explicitValue ?? conventionValue;
            string? overridden = null;
            if (explicitValue is { } e && !EqualityComparer<T>.Default.Equals(e, conventionValue) && !Undefined(scope))
            {
                overridden = ConventionChoice.Format(show(conventionValue));
                if (named) notes.Add($"{option} {ConventionChoice.Format(show(e))} overrides {c.Name}'s {key} {overridden}");
            }
            choices.Add(new ConventionChoice(key, show(value), scope, named ? overridden : null, IsDefault: explicitValue is null && Undefined(scope)));
            return value;
        }

        void Add(string key, object value, ChoiceScope scope) => choices.Add(new(key, value, scope, IsDefault: Undefined(scope)));

        var divisor = Pick("cov_divisor", "--cov-divisor", Of(ChoiceScope.Fid).CovarianceDivisor, overrides.CovarianceDivisor, ChoiceScope.Fid, d => d == CovarianceDivisor.N ? "n" : "n-1");
        var kid = Of(ChoiceScope.Kid);
        int subsets = Pick("kid_subsets", "--kid-subsets", kid.KidSubsets, overrides.KidSubsets, ChoiceScope.Kid);
        int subsetSize = Pick("kid_subset_size", "--kid-subset-size", kid.KidSubsetSize, overrides.KidSubsetSize, ChoiceScope.Kid);
        Add("kid_small_sets", kid.KidSmallSets == KidSmallSets.Error ? "error" : "shrink", ChoiceScope.Kid);
        Add("kid_draw_first", kid.KidDrawOrder == KidDrawOrder.FakeFirst ? "fake" : "real", ChoiceScope.Kid);
        int seed = Pick("seed", "--seed", kid.Seed, overrides.Seed, ChoiceScope.Kid);
        if (named && !Undefined(ChoiceScope.Kid)) Add("tool_seeded", kid.ToolSeeded, ChoiceScope.Kid);

        var knn = Of(ChoiceScope.Knn);
        IReadOnlyList<int>? ks = overrides.Ks ?? (knn.K is { } k ? [k] : null);
        if (named && knn.K is { } ck && overrides.Ks is { } ek && !(ek.Count == 1 && ek[0] == ck) && !Undefined(ChoiceScope.Knn))
            notes.Add($"--k {string.Join(",", ek)} overrides {c.Name}'s k {ck}");
        Add("comparison", knn.Comparison ?? "", ChoiceScope.Knn);
        if (knn.SquaredDistances is { } squared) Add("squared_distances", squared, ChoiceScope.Knn);
        Add("radius", knn.Radius, ChoiceScope.Knn);
        if (named && !Undefined(ChoiceScope.Knn)) Add("tool_distance_arithmetic", knn.ToolDistanceArithmetic, ChoiceScope.Knn);

        var mode = Pick("image_mode", "--mode", c.ImageMode, overrides.ImageMode, ChoiceScope.Images, m => ImagePreprocessor.ModeName(m));
        Add("feature_network", Of(ChoiceScope.ImagesFidKid).FeatureNetwork, ChoiceScope.ImagesFidKid);
        var knnImages = Of(ChoiceScope.ImagesKnn);
        Add("knn_features", $"{knnImages.KnnNetwork} {knnImages.KnnLayer}", ChoiceScope.ImagesKnn);

        int isSplits = Pick("is_splits", "--splits", c.InceptionScoreSplits, overrides.InceptionScoreSplits, ChoiceScope.InceptionScore);
        bool isShuffle = Pick("is_shuffle", "--shuffle", c.InceptionScoreShuffle, overrides.InceptionScoreShuffle, ChoiceScope.InceptionScore);

        if (named && overrides.Groups is { } groups && c.Groups is { } own && !groups.SequenceEqual(own))
            notes.Add($"--metrics {string.Join(",", groups.Select(g => MetricRegistry.Get(g).Name))} overrides {c.Name}'s metrics {string.Join(",", own.Select(g => MetricRegistry.Get(g).Name))}");

        var options = new EvaluationOptions
        {
            Groups = overrides.Groups,
            Ks = ks,
            KidSubsets = subsets,
            KidSubsetSize = subsetSize,
            KidDrawOrder = kid.KidDrawOrder,
            KidSmallSets = kid.KidSmallSets,
            Seed = seed,
            CovarianceDivisor = divisor,
            CompareWithFp32 = overrides.CompareWithFp32,
        };
        var resolved = new ResolvedConvention(c, named, options, mode, isSplits, isShuffle, choices, notes);
        options.Convention = resolved;
        return resolved;
    }
}
