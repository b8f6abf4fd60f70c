namespace GenMetrics.Generators;

/// <summary>
/// Paths between latents for interpolation videos: linear, and spherical in z as the StyleGAN PPL code
/// does it (metrics-spec §10: normalise a and b, d = a·b, p = t·acos d, c = normalise(b − d·a),
/// result normalise(a cos p + c sin p)), rescaled to the interpolated length so that samples keep a
/// typical norm for N(0, I) latents.
/// </summary>
public static class LatentPath
{
    public static float[] Lerp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double t)
    {
        var r = new float[a.Length];
        for (int i = 0; i < a.Length; i++) r[i] = (float)((1 - t) * a[i] + t * (double)b[i]); // exact at both ends
        return r;
    }

    public static float[] Slerp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double t)
    {
        double na = Norm(a), nb = Norm(b);
        if (na == 0 || nb == 0) return Lerp(a, b, t);
        double d = 0;
        for (int i = 0; i < a.Length; i++) d += a[i] / na * (b[i] / nb);
        d = Math.Clamp(d, -1, 1);
        double p = t * Math.Acos(d);
        var c = new double[a.Length];
        for (int i = 0; i < a.Length; i++) c[i] = b[i] / nb - d * a[i] / na;
        double nc = Math.Sqrt(c.Sum(v => v * v));
        if (nc < 1e-12) return Lerp(a, b, t); // a and b (anti)parallel: the great circle is not defined
        double length = na + (nb - na) * t;
        var r = new float[a.Length];
        for (int i = 0; i < a.Length; i++)
            r[i] = (float)(length * (a[i] / na * Math.Cos(p) + c[i] / nc * Math.Sin(p)));
        return r;
    }

    private static double Norm(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (float x in v) s += (double)x * x;
        return Math.Sqrt(s);
    }
}
