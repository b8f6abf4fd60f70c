using System.Globalization;

namespace GenMetrics.Imaging;

/// <summary>
/// The value map between the resized image and a network, replacing the mode's own (2x − 1 for
/// legacy-pytorch, (x − 128)/128 otherwise) for networks that expect something else: ImageNet or CLIP
/// mean/std (DINOv2, CLIP, VGG in torchvision), 2x − 1, the TF ports' (x − 128)/128, or raw 0..255.
/// x below is the resized value on the 0..255 scale, u = x/255 (for legacy-pytorch, which resizes
/// ToTensor's [0, 1] values, u is the resized value and x = 255u).
/// </summary>
public sealed class InputNormalization
{
    enum Kind { TwoXMinusOne, Tf, None, MeanStd }

    readonly Kind _kind;
    readonly float[] _mean;
    readonly float[] _std;

    InputNormalization(Kind kind, string name, float[]? mean = null, float[]? std = null)
    {
        _kind = kind;
        Name = name;
        _mean = mean ?? [0, 0, 0];
        _std = std ?? [1, 1, 1];
    }

    /// <summary>The canonical spelling, as Parse reads it back (part of the feature-cache key).</summary>
    public string Name { get; }

    /// <summary>2u − 1 (pytorch-fid, torchvision's transform_input off; the ViTs trained on [−1, 1]).</summary>
    public static InputNormalization TwoXMinusOne { get; } = new(Kind.TwoXMinusOne, "2x-1");

    /// <summary>(x − 128)/128 (the TF-ported FID Inception of clean-fid, TTUR, NVIDIA).</summary>
    public static InputNormalization Tf { get; } = new(Kind.Tf, "tf");

    /// <summary>x unchanged (0..255 floats): networks that normalise inside their graph.</summary>
    public static InputNormalization None { get; } = new(Kind.None, "none");

    /// <summary>(u − mean)/std with torchvision's ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225): DINOv2, VGG, ResNet.</summary>
    public static InputNormalization ImageNet { get; } = MeanStd("imagenet", [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>(u − mean)/std with OpenAI CLIP's mean (0.48145466, 0.4578275, 0.40821073) and std (0.26862954, 0.26130258, 0.27577711).</summary>
    public static InputNormalization Clip { get; } = MeanStd("clip", [0.48145466f, 0.4578275f, 0.40821073f], [0.26862954f, 0.26130258f, 0.27577711f]);

    static InputNormalization MeanStd(string name, float[] mean, float[] std) => new(Kind.MeanStd, name, mean, std);

    /// <summary>
    /// Parses 2x-1, tf, imagenet, clip, none, or mean=R,G,B:std=R,G,B (on the [0, 1] scale, as
    /// torchvision's Normalize). Anything else, a non-finite number or a std ≤ 0 is an <see cref="InputException"/>.
    /// </summary>
    public static InputNormalization Parse(string text)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "2x-1": return TwoXMinusOne;
            case "tf": return Tf;
            case "none": return None;
            case "imagenet": return ImageNet;
            case "clip": return Clip;
        }
        var parts = text.Trim().Split(':');
        if (parts.Length == 2 && parts[0].StartsWith("mean=", StringComparison.OrdinalIgnoreCase) && parts[1].StartsWith("std=", StringComparison.OrdinalIgnoreCase))
        {
            var mean = Triple(parts[0][5..], text);
            var std = Triple(parts[1][4..], text);
            if (std.Any(s => s <= 0)) throw new InputException($"--normalize '{text}': every std must be positive");
            return MeanStd(string.Create(CultureInfo.InvariantCulture, $"mean={mean[0]:R},{mean[1]:R},{mean[2]:R}:std={std[0]:R},{std[1]:R},{std[2]:R}"), mean, std);
        }
        throw new InputException($"--normalize: unknown normalisation '{text}' (expected 2x-1, tf, imagenet, clip, none or mean=R,G,B:std=R,G,B)");
    }

    static float[] Triple(string values, string text)
    {
        var items = values.Split(',');
        var result = new float[3];
        if (items.Length != 3) throw new InputException($"--normalize '{text}': mean and std need three values each (R,G,B)");
        for (int i = 0; i < 3; i++)
            if (!float.TryParse(items[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]) || !float.IsFinite(result[i]))
                throw new InputException($"--normalize '{text}': '{items[i]}' is not a finite number");
        return result;
    }

    /// <summary>Maps one resized channel plane in place. <paramref name="unitScale"/>: the values are u in [0, 1] (legacy-pytorch), else x in 0..255.</summary>
    public void Apply(Span<float> plane, int channel, bool unitScale)
    {
        switch (_kind)
        {
            case Kind.TwoXMinusOne:
                if (unitScale) for (int i = 0; i < plane.Length; i++) plane[i] = 2f * plane[i] - 1f;
                else for (int i = 0; i < plane.Length; i++) plane[i] = 2f * (plane[i] / 255f) - 1f;
                break;
            case Kind.Tf:
                if (unitScale) for (int i = 0; i < plane.Length; i++) plane[i] = (plane[i] * 255f - 128f) / 128f;
                else for (int i = 0; i < plane.Length; i++) plane[i] = (plane[i] - 128f) / 128f;
                break;
            case Kind.None:
                if (unitScale) for (int i = 0; i < plane.Length; i++) plane[i] *= 255f;
                break;
            default:
                float m = _mean[channel], s = _std[channel];
                if (unitScale) for (int i = 0; i < plane.Length; i++) plane[i] = (plane[i] - m) / s;
                else for (int i = 0; i < plane.Length; i++) plane[i] = (plane[i] / 255f - m) / s;
                break;
        }
    }

    public override string ToString() => Name;
}
