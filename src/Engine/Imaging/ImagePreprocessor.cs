namespace GenMetrics.Imaging;

/// <summary>How images are resized and normalised before the network (metrics-spec §2.2).</summary>
public enum ResizeMode
{
    /// <summary>clean-fid <c>clean</c>: PIL bicubic with antialias on float32 channels, clip to [0,255], (x−128)/128.</summary>
    Clean,

    /// <summary>pytorch-fid: uint8/255, PyTorch bilinear (align_corners=False, no antialias), 2x−1.</summary>
    LegacyPyTorch,

    /// <summary>TTUR / torch-fidelity / NVIDIA: float 0..255, TF1 bilinear, (x−128)/128.</summary>
    LegacyTensorFlow,

    /// <summary>No resampling: the image must already have the target size; (x−128)/128.</summary>
    None,
}

/// <summary>
/// RGB8 image → network input CHW float32 [3, Height, Width], bit-for-bit the reference pipeline of
/// the chosen <see cref="ResizeMode"/> up to float32 rounding.
/// </summary>
public sealed class ImagePreprocessor
{
    public ImagePreprocessor(ResizeMode mode, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"target size must be positive, got {width}x{height}");
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode));
        Mode = mode;
        Width = width;
        Height = height;
    }

    public ImagePreprocessor(ResizeMode mode, int size) : this(mode, size, size) { }

    public ResizeMode Mode { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>
    /// The value map after resizing, replacing the mode's (2x − 1 for legacy-pytorch, (x − 128)/128 otherwise);
    /// null keeps the mode's. For networks fed otherwise (DINOv2, CLIP: <see cref="InputNormalization.ImageNet"/>, <see cref="InputNormalization.Clip"/>).
    /// </summary>
    public InputNormalization? Normalization { get; init; }

    /// <summary>
    /// Keep the aspect ratio: resize so the image covers Width × Height (torchvision <c>Resize(size)</c>: the
    /// binding side to the target, the other to int(target · long / short)), with the mode's filter, then
    /// take the centre (torchvision <c>CenterCrop</c>: offsets round((in − out) / 2), halves to even), as
    /// CLIP's preprocessing does. False (default): stretch to Width × Height, as the FID tools do.
    /// </summary>
    public bool CenterCrop { get; init; }

    /// <summary>Number of floats one preprocessed image occupies.</summary>
    public int OutputLength => 3 * Width * Height;

    /// <summary>The user-facing names: clean, legacy-pytorch, legacy-tensorflow, none.</summary>
    public static string ModeName(ResizeMode mode) => mode switch
    {
        ResizeMode.Clean => "clean",
        ResizeMode.LegacyPyTorch => "legacy-pytorch",
        ResizeMode.LegacyTensorFlow => "legacy-tensorflow",
        ResizeMode.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static ResizeMode ParseMode(string name) => name.ToLowerInvariant() switch
    {
        "clean" => ResizeMode.Clean,
        "legacy-pytorch" or "legacy_pytorch" => ResizeMode.LegacyPyTorch,
        "legacy-tensorflow" or "legacy_tensorflow" => ResizeMode.LegacyTensorFlow,
        "none" => ResizeMode.None,
        _ => throw InputException.For(null, $"unknown resize mode '{name}' (expected clean, legacy-pytorch, legacy-tensorflow or none)"),
    };

    public float[] Process(RgbImage image, string name)
    {
        var output = new float[OutputLength];
        Process(image, name, output);
        return output;
    }

    /// <summary>Writes [3, Height, Width] into <paramref name="output"/>. <paramref name="name"/> names the file in errors.</summary>
    public void Process(RgbImage image, string name, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (output.Length < OutputLength) throw new ArgumentException($"output holds {output.Length} floats, needs {OutputLength}");
        if (Mode == ResizeMode.None && (image.Width != Width || image.Height != Height))
            throw InputException.For(name, $"image is {image.Width}x{image.Height} but resize mode 'none' needs {Width}x{Height}");

        int pixels = image.Width * image.Height;
        int outPixels = Width * Height;
        var plane = System.Buffers.ArrayPool<float>.Shared.Rent(pixels);
        try
        {
            for (int c = 0; c < 3; c++)
            {
                var target = output.Slice(c * outPixels, outPixels);
                if (Mode == ResizeMode.Clean && !CenterCrop)
                {
                    // The resampler reads the channel straight from the interleaved bytes (same values, no plane).
                    Resampling.PilBicubicRgb8(image.Pixels, c, image.Width, image.Height, Width, Height, target);
                }
                else
                {
                    // pytorch-fid resizes ToTensor's [0,1] values (v/255 in float32); the others resize 0..255.
                    if (Mode == ResizeMode.LegacyPyTorch)
                        for (int i = 0; i < pixels; i++) plane[i] = image.Pixels[i * 3 + c] / 255f;
                    else
                        for (int i = 0; i < pixels; i++) plane[i] = image.Pixels[i * 3 + c];
                    if (CenterCrop && Mode != ResizeMode.None) ResizeAndCrop(plane.AsSpan(0, pixels), image.Width, image.Height, target);
                    else Resize(plane.AsSpan(0, pixels), image.Width, image.Height, target);
                }
                if (Normalization is { } normalization)
                {
                    if (Mode == ResizeMode.Clean)
                        for (int i = 0; i < outPixels; i++) target[i] = Math.Clamp(target[i], 0f, 255f);
                    normalization.Apply(target, c, unitScale: Mode == ResizeMode.LegacyPyTorch);
                    continue;
                }
                switch (Mode)
                {
                    case ResizeMode.Clean:
                        // clean-fid clips PIL's bicubic overshoot but keeps the float (no uint8 re-quantisation).
                        ClipAndCenter(target);
                        break;
                    case ResizeMode.LegacyPyTorch:
                        for (int i = 0; i < outPixels; i++) target[i] = 2f * target[i] - 1f;
                        break;
                    default:
                        for (int i = 0; i < outPixels; i++) target[i] = (target[i] - 128f) / 128f;
                        break;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(plane);
        }
    }

    // x → (clamp(x, 0, 255) − 128) / 128, SIMD; /128 is exact as × 1/128, so every lane equals the scalar form.
    static void ClipAndCenter(Span<float> values)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var lo = System.Numerics.Vector<float>.Zero;
            var hi = new System.Numerics.Vector<float>(255f);
            var offset = new System.Numerics.Vector<float>(128f);
            var scale = new System.Numerics.Vector<float>(1f / 128f);
            for (; i <= values.Length - System.Numerics.Vector<float>.Count; i += System.Numerics.Vector<float>.Count)
            {
                var v = new System.Numerics.Vector<float>(values.Slice(i));
                ((System.Numerics.Vector.Min(System.Numerics.Vector.Max(v, lo), hi) - offset) * scale).CopyTo(values.Slice(i));
            }
        }
        for (; i < values.Length; i++) values[i] = (Math.Clamp(values[i], 0f, 255f) - 128f) / 128f;
    }

    /// <summary>The resampling step alone, on one channel plane (no clipping, no normalisation), into [Height, Width].</summary>
    public void Resize(ReadOnlySpan<float> plane, int inWidth, int inHeight, Span<float> output) =>
        Resize(plane, inWidth, inHeight, Width, Height, output);

    /// <summary>The size <see cref="CenterCrop"/> resizes an inWidth × inHeight image to before cropping.</summary>
    public (int Width, int Height) CoverSize(int inWidth, int inHeight) =>
        (long)Width * inHeight >= (long)Height * inWidth
            ? (Width, Math.Max(Height, (int)((double)Width * inHeight / inWidth)))
            : (Math.Max(Width, (int)((double)Height * inWidth / inHeight)), Height);

    void ResizeAndCrop(ReadOnlySpan<float> plane, int inWidth, int inHeight, Span<float> output)
    {
        var (w, h) = CoverSize(inWidth, inHeight);
        var covered = System.Buffers.ArrayPool<float>.Shared.Rent(w * h);
        try
        {
            Resize(plane, inWidth, inHeight, w, h, covered.AsSpan(0, w * h));
            int top = (int)Math.Round((h - Height) / 2.0, MidpointRounding.ToEven);
            int left = (int)Math.Round((w - Width) / 2.0, MidpointRounding.ToEven);
            for (int y = 0; y < Height; y++)
                covered.AsSpan((top + y) * w + left, Width).CopyTo(output.Slice(y * Width, Width));
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(covered);
        }
    }

    void Resize(ReadOnlySpan<float> plane, int inWidth, int inHeight, int outWidth, int outHeight, Span<float> output)
    {
        switch (Mode)
        {
            case ResizeMode.Clean: Resampling.PilBicubic(plane, inWidth, inHeight, outWidth, outHeight, output); break;
            case ResizeMode.LegacyPyTorch: Resampling.PyTorchBilinear(plane, inWidth, inHeight, outWidth, outHeight, output); break;
            case ResizeMode.LegacyTensorFlow: Resampling.Tf1Bilinear(plane, inWidth, inHeight, outWidth, outHeight, output); break;
            default: plane.CopyTo(output); break;
        }
    }
}
