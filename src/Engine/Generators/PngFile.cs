using SkiaSharp;

namespace GenMetrics.Generators;

/// <summary>Writes planar RGB bytes ([3, H, W], as generators produce them) as an 8-bit RGB PNG, atomically.</summary>
public static class PngFile
{
    public static void Write(string path, ReadOnlySpan<byte> chw, int height, int width)
    {
        int plane = height * width;
        if (chw.Length != 3L * plane) throw new ArgumentException($"image holds {chw.Length} bytes, expected 3x{height}x{width}");
        byte[] encoded = Encode(chw, height, width);
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder)) throw InputException.For(path, $"the folder {folder} does not exist");
        string temp = full + $".tmp{Environment.ProcessId}";
        try
        {
            File.WriteAllBytes(temp, encoded);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot write the image: {e.Message}");
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static byte[] Encode(ReadOnlySpan<byte> chw, int height, int width)
    {
        int plane = height * width;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[4 * plane];
        for (int p = 0; p < plane; p++)
        {
            rgba[4 * p] = chw[p];
            rgba[4 * p + 1] = chw[plane + p];
            rgba[4 * p + 2] = chw[2 * plane + p];
            rgba[4 * p + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
