namespace GenMetrics.Imaging;

/// <summary>
/// The common PNGs — 8 bits per sample, not interlaced, gray, gray + alpha, RGB or RGBA — decoded from the
/// image data that <see cref="PngIntegrity"/> has already inflated (through .NET's zlib) and checked, so the
/// file is inflated once instead of twice (the check, then StbImageSharp's own, slower inflate). What is
/// left is the PNG specification's five row filters (§9) and dropping alpha / replicating gray, which is
/// all PIL's <c>convert('RGB')</c> does for these types: tRNS, gAMA, iCCP, sRGB and cHRM change no sample
/// values there (PIL keeps tRNS as `info["transparency"]` and ignores the colour chunks), and neither does
/// this. Palette, 1/2/4/16-bit and Adam7-interlaced files return null and go to StbImageSharp as before.
/// Tests: ImageDecoderTests (PIL's decodes of the committed fixtures, and equality with stb on every filter
/// type, colour type and odd width).
/// </summary>
internal static class PngRowDecoder
{
    public static RgbImage? TryDecode(PngData png)
    {
        if (png.BitDepth != 8 || png.Interlaced || png.ColorType is not (0 or 2 or 4 or 6)) return null;
        int channels = png.ColorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        int width = png.Width, height = png.Height;
        long rowBytes = (long)width * channels;
        if (3L * width * height > Array.MaxLength) return null;
        var raw = png.Filtered;
        Unfilter(raw, rowBytes, height, channels);
        var rgb = PixelBuffers.Allocate(3 * width * height); // every byte is written below
        unsafe
        {
            fixed (byte* rawBase = raw, rgbBase = rgb)
            {
                for (int y = 0; y < height; y++)
                {
                    byte* source = rawBase + y * (rowBytes + 1) + 1;
                    byte* target = rgbBase + 3L * y * width;
                    switch (channels)
                    {
                        case 3:
                            Buffer.MemoryCopy(source, target, rowBytes, rowBytes);
                            break;
                        case 4:
                            for (int x = 0; x < width; x++, source += 4, target += 3)
                            {
                                target[0] = source[0];
                                target[1] = source[1];
                                target[2] = source[2];
                            }
                            break;
                        default: // gray (1) or gray + alpha (2): the gray sample three times
                            for (int x = 0; x < width; x++, source += channels, target += 3)
                                target[0] = target[1] = target[2] = source[0];
                            break;
                    }
                }
            }
        }
        return new RgbImage(width, height, rgb);
    }

    // In place: each row is [filter type, bytes...]; afterwards its bytes are the reconstructed samples.
    // The filter types were checked (0–4) by PngIntegrity. a = left, b = above, c = above-left (0 outside).
    static unsafe void Unfilter(byte[] raw, long rowBytes, int height, int bpp)
    {
        fixed (byte* rawBase = raw)
        {
            byte* previous = null;
            for (int y = 0; y < height; y++)
            {
                byte* row = rawBase + y * (rowBytes + 1);
                byte filter = row[0];
                byte* cur = row + 1;
                switch (filter)
                {
                    case 1: // Sub
                        for (long i = bpp; i < rowBytes; i++) cur[i] += cur[i - bpp];
                        break;
                    case 2: // Up
                        if (previous != null)
                            for (long i = 0; i < rowBytes; i++) cur[i] += previous[i];
                        break;
                    case 3: // Average
                        if (previous == null)
                            for (long i = bpp; i < rowBytes; i++) cur[i] += (byte)(cur[i - bpp] >> 1);
                        else
                        {
                            for (long i = 0; i < bpp; i++) cur[i] += (byte)(previous[i] >> 1);
                            for (long i = bpp; i < rowBytes; i++) cur[i] += (byte)((cur[i - bpp] + previous[i]) >> 1);
                        }
                        break;
                    case 4: // Paeth
                        if (previous == null)
                            for (long i = bpp; i < rowBytes; i++) cur[i] += cur[i - bpp]; // b = c = 0: the predictor is a
                        else
                        {
                            for (long i = 0; i < bpp; i++) cur[i] += previous[i]; // a = c = 0: the predictor is b
                            if (bpp == 3) PaethRgb(cur, previous, rowBytes);
                            else
                                for (long i = bpp; i < rowBytes; i++) cur[i] += Paeth(cur[i - bpp], previous[i], previous[i - bpp]);
                        }
                        break;
                }
                previous = cur;
            }
        }
    }

    // Paeth for 3 bytes per pixel with the left and upper-left samples kept in registers: three independent
    // chains, none waiting on a store and reload of the byte it has just written.
    static unsafe void PaethRgb(byte* cur, byte* previous, long rowBytes)
    {
        int a0 = cur[0], a1 = cur[1], a2 = cur[2];
        int c0 = previous[0], c1 = previous[1], c2 = previous[2];
        for (long i = 3; i + 3 <= rowBytes; i += 3)
        {
            int b0 = previous[i], b1 = previous[i + 1], b2 = previous[i + 2];
            a0 = (byte)(cur[i] + Paeth(a0, b0, c0));
            a1 = (byte)(cur[i + 1] + Paeth(a1, b1, c1));
            a2 = (byte)(cur[i + 2] + Paeth(a2, b2, c2));
            cur[i] = (byte)a0;
            cur[i + 1] = (byte)a1;
            cur[i + 2] = (byte)a2;
            c0 = b0;
            c1 = b1;
            c2 = b2;
        }
    }

    // pa = |p − a| = |b − c|, pb = |p − b| = |a − c|, pc = |p − c| = |a + b − 2c| with p = a + b − c; a when
    // pa ≤ pb and pa ≤ pc, else b when pb ≤ pc, else c. Without branches: on photo-like data the choice is
    // close to random, and mispredicted branches made this loop the PNG decode's largest cost.
    static byte Paeth(int a, int b, int c)
    {
        int pa = b - c, pb = a - c;
        int pc = pa + pb;
        pa = (pa ^ (pa >> 31)) - (pa >> 31);
        pb = (pb ^ (pb >> 31)) - (pb >> 31);
        pc = (pc ^ (pc >> 31)) - (pc >> 31);
        int notA = ((pb - pa) | (pc - pa)) >> 31;  // −1 when pb < pa or pc < pa
        int useC = (pc - pb) >> 31;                 // −1 when pc < pb
        int bc = (b & ~useC) | (c & useC);
        return (byte)((a & ~notA) | (bc & notA));
    }
}
