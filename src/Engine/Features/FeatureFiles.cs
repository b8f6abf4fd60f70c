using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;

namespace GenMetrics.Features;

/// <summary>
/// Reading and writing feature arrays (.npy, or an .npz member) and Gaussian statistics (.npz with `mu`
/// and `sigma`, as pytorch-fid, TTUR and clean-fid save them). Formats: metrics-spec §13.
/// </summary>
public static class FeatureFiles
{
    /// <summary>
    /// Opens a feature or statistics file, recognised by its first bytes rather than its extension. In an
    /// .npz, <paramref name="key"/> names the feature array; without it the file must hold `mu` and `sigma`
    /// or exactly one 2-D array. <paramref name="key"/> is ignored for a .npy.
    /// </summary>
    public static FeatureInput Open(string path, string? key = null) => Open(path, key, defer: null);

    /// <summary>
    /// As <see cref="Open(string, string?)"/>, but a statistics file's positive-semi-definiteness check (the one
    /// step that uses every core: a Cholesky of Σ) is handed back in <paramref name="pendingCheck"/> instead of
    /// run, so that a caller reading two files at once can run both checks one after the other (they share
    /// one pooled work buffer). The caller must run it before using the statistics; null when nothing is pending.
    /// </summary>
    internal static FeatureInput OpenDeferringCovarianceCheck(string path, string? key, out Action? pendingCheck)
    {
        Action? pending = null;
        var input = Open(path, key, defer: check => pending = check);
        pendingCheck = pending;
        return input;
    }

    static FeatureInput Open(string path, string? key, Action<Action>? defer)
    {
        using var file = OpenFile(path);
        Span<byte> magic = stackalloc byte[6];
        int got = file.ReadAtLeast(magic, 6, throwOnEndOfStream: false);
        file.Position = 0;
        if (got == 6 && magic.SequenceEqual(NpyHeader.Magic))
        {
            var header = NpyHeader.Read(file, path);
            return Features(path, null, path, header, file.Length);
        }
        if (got == 0) throw InputException.For(path, "empty file (0 bytes), not a .npy or .npz");
        if (got >= 4 && magic[..4].SequenceEqual("PK\x03\x04"u8)) return OpenNpz(path, file, key, defer);
        if (got >= 4 && magic[..4].SequenceEqual("PK\x05\x06"u8)) throw InputException.For(path, "an empty zip archive, not an .npz");
        throw InputException.For(path, "not a .npy or .npz file (unrecognised first bytes)");
    }

    /// <summary>The statistics in an npz with `mu` and `sigma`; an error if the file holds features.</summary>
    public static GaussianStatistics ReadStatistics(string path) => Open(path) switch
    {
        StatisticsInput s => s.Statistics,
        FeatureFileInput f => throw InputException.For(path, $"holds features [{f.Rows}, {f.Dim}], not statistics (an npz with mu and sigma)"),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Writes a little-endian float32 .npy (format 1.0, C order), atomically.</summary>
    public static void WriteNpy(string path, ReadOnlySpan<float> data, params int[] shape) => WriteNpyFile(path, data, shape);

    /// <summary>Writes a little-endian float64 .npy (format 1.0, C order), atomically.</summary>
    public static void WriteNpy(string path, ReadOnlySpan<double> data, params int[] shape) => WriteNpyFile(path, data, shape);

    /// <summary>
    /// Writes <paramref name="features"/> [N, D] as a little-endian float32 .npy (format 1.0, C order),
    /// atomically, block by block: any size, no copy.
    /// </summary>
    public static void WriteNpy(string path, FeatureMatrix features)
    {
        ArgumentNullException.ThrowIfNull(features);
        string temp = TempPath(path);
        using var tracked = TempFiles.Track(temp);
        try
        {
            using (var stream = CreateFile(temp, path))
            {
                stream.Write(NpyHeader.Format("<f4", false, [features.Rows, features.Dim]));
                int per = Math.Max(1, Math.Min(features.RowsPerSpan, (1 << 20) / features.Dim));
                for (int start = 0; start < features.Rows; start += per)
                    stream.Write(MemoryMarshal.AsBytes(features.RowRange(start, Math.Min(per, features.Rows - start))));
            }
            Commit(temp, path);
        }
        catch { TryDelete(temp); throw; }
    }

    static void WriteNpyFile<T>(string path, ReadOnlySpan<T> data, int[] shape) where T : unmanaged
    {
        CheckShape(data.Length, shape);
        string temp = TempPath(path);
        using var tracked = TempFiles.Track(temp);
        try
        {
            using (var stream = CreateFile(temp, path)) WriteArray(stream, data, shape);
            Commit(temp, path);
        }
        catch { TryDelete(temp); throw; }
    }

    /// <summary>
    /// Writes `mu` [D] and `sigma` [D, D] as float64 in a deflated npz, the layout np.savez_compressed
    /// gives pytorch-fid's and TTUR's stats files, atomically.
    /// </summary>
    public static void WriteStatistics(string path, GaussianStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        string temp = TempPath(path);
        using var tracked = TempFiles.Track(temp);
        try
        {
            using (var stream = CreateFile(temp, path))
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Create))
            {
                using (var mu = zip.CreateEntry("mu.npy", CompressionLevel.Optimal).Open())
                    WriteArray<double>(mu, statistics.Mean, [statistics.Dim]);
                using (var sigma = zip.CreateEntry("sigma.npy", CompressionLevel.Optimal).Open())
                    WriteArray<double>(sigma, statistics.Covariance, [statistics.Dim, statistics.Dim]);
            }
            Commit(temp, path);
        }
        catch { TryDelete(temp); throw; }
    }

    static FeatureInput OpenNpz(string path, FileStream file, string? key, Action<Action>? defer)
    {
        try
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
            var members = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
                if (entry.FullName.EndsWith(".npy", StringComparison.Ordinal) && !ArchiveEntries.IsHidden(entry.FullName)) members[entry.FullName[..^4]] = entry;
            if (members.Count == 0) throw InputException.For(path, "a zip archive without .npy members, not an .npz");
            string keys = string.Join(", ", members.Keys);

            if (key != null)
            {
                if (!members.TryGetValue(key, out var chosen))
                    throw InputException.For(path, $"no array named '{key}' (available: {keys})");
                return Features(path, chosen.FullName, $"{path}[{key}]", ReadHeader(chosen, $"{path}[{key}]"), chosen.Length);
            }
            if (members.TryGetValue("mu", out var muEntry) && members.TryGetValue("sigma", out var sigmaEntry))
                return new StatisticsInput(path, ReadStatistics(path, muEntry, sigmaEntry, "mu", "sigma", defer));

            var arrays = members.Select(m => (Key: m.Key, Entry: m.Value, Header: ReadHeader(m.Value, $"{path}[{m.Key}]"))).ToList();
            var matrices = arrays.Where(a => a.Header.Shape.Length == 2).ToList();
            // Statistics under other names (chainer-gan-lib's mean/cov, ...): recognised by shape, since a
            // [D, D] beside a [D] read as features would give FID of D covariance rows taken for samples.
            var pairs = (from v in arrays where v.Header.Shape.Length == 1
                         from m in matrices where m.Header.Shape[0] == v.Header.Shape[0] && m.Header.Shape[1] == v.Header.Shape[0]
                         select (Vector: v, Matrix: m)).ToList();
            if (pairs.Count == 1 && matrices.Count == 1)
            {
                var (v, m) = pairs[0];
                return new StatisticsInput(path, ReadStatistics(path, v.Entry, m.Entry, v.Key, m.Key, defer),
                    $"{path}: read as statistics by shape: mean from '{v.Key}' {v.Header.ShapeText}, covariance from '{m.Key}' {m.Header.ShapeText} (no mu/sigma keys)");
            }
            if (pairs.Count > 0)
                throw InputException.For(path, "holds arrays shaped like statistics ("
                    + string.Join("; ", pairs.Select(p => $"{p.Vector.Key} {p.Vector.Header.ShapeText} with {p.Matrix.Key} {p.Matrix.Header.ShapeText}"))
                    + $") among other arrays ({string.Join(", ", arrays.Select(a => $"{a.Key} {a.Header.ShapeText}"))}): "
                    + "keep only mu and sigma for statistics, or choose a feature array with --key");
            if (matrices.Count == 1)
            {
                var (k, entry, header) = matrices[0];
                return Features(path, entry.FullName, $"{path}[{k}]", header, entry.Length);
            }
            if (matrices.Count == 0)
                throw InputException.For(path, "holds neither a 2-D feature array nor mu and sigma statistics (arrays: "
                    + string.Join(", ", arrays.Select(a => $"{a.Key} {a.Header.ShapeText}")) + ")");
            throw InputException.For(path, $"holds several 2-D arrays ({string.Join(", ", matrices.Select(m => m.Key))}): choose one with --key");
        }
        catch (InvalidDataException e)
        {
            throw InputException.For(path, $"not a readable zip archive ({IoErrors.Zip(e)})");
        }
    }

    static NpyHeader ReadHeader(ZipArchiveEntry entry, string name)
    {
        using var stream = entry.Open();
        return NpyHeader.Read(stream, name);
    }

    static FeatureFileInput Features(string path, string? member, string name, NpyHeader header, long storedLength)
    {
        // The dtype first: an object array (np.save with allow_pickle) is refused for what it is, not for its shape.
        header.EnsureFloat(name);
        if (header.Shape.Length != 2)
            throw InputException.For(name, $"array has shape {header.ShapeText}: features must be a 2-D [N, D] array");
        if (header.Shape[1] == 0 || header.Shape[0] > int.MaxValue || header.Shape[1] > int.MaxValue)
            throw InputException.For(name, $"unusable feature shape {header.ShapeText}");
        var input = new FeatureFileInput(path, member, name, header);
        if (storedLength - header.DataOffset < header.ElementCount * header.ItemSize) throw input.Truncated();
        return input;
    }

    static GaussianStatistics ReadStatistics(string path, ZipArchiveEntry muEntry, ZipArchiveEntry sigmaEntry, string muKey, string sigmaKey, Action<Action>? defer)
    {
        PhaseTrace.Mark($"{path}: start");
        var (mu, muHeader) = ReadWhole(muEntry, $"{path}[{muKey}]");
        if (muHeader.Shape.Length != 1)
            throw InputException.For(path, $"{muKey} has shape {muHeader.ShapeText}: it must be 1-D [D]");
        int d = mu.Length;
        var (sigma, sigmaHeader) = ReadWhole(sigmaEntry, $"{path}[{sigmaKey}]");
        if (sigmaHeader.Shape.Length != 2 || sigmaHeader.Shape[0] != d || sigmaHeader.Shape[1] != d)
            throw InputException.For(path, $"{sigmaKey} has shape {sigmaHeader.ShapeText}: it must be [{d}, {d}] to match {muKey} {muHeader.ShapeText}");
        PhaseTrace.Mark($"{path}: read");
        if (IndexOfNonFinite<double>(mu) is var bm and >= 0) throw InputException.For(path, $"{muKey}[{bm}] is {mu[bm]} (statistics must be finite)");
        if (IndexOfNonFinite<double>(sigma) is var bs and >= 0)
            throw InputException.For(path, $"{sigmaKey}[{bs / d}, {bs % d}] is {sigma[bs]} (statistics must be finite)");
        // Fortran order transposes; harmless for a symmetric matrix, but done so the check below is honest.
        if (sigmaHeader.FortranOrder) Transpose(sigma, d);
        if (CovarianceChecks.FirstAsymmetry(sigma, d) is var (ai, aj))
            throw InputException.For(path, $"{sigmaKey} is not symmetric: {sigmaKey}[{ai}, {aj}] = {sigma[(long)ai * d + aj]} but {sigmaKey}[{aj}, {ai}] = {sigma[(long)aj * d + ai]}");
        PhaseTrace.Mark($"{path}: finite+symmetric");
        void Check()
        {
            CovarianceChecks.EnsurePositiveSemiDefinite(sigma, d, path, sigmaKey);
            PhaseTrace.Mark($"{path}: psd");
        }
        if (defer is null) Check();
        else defer(Check);
        return new GaussianStatistics(mu, sigma, 0, path);
    }

    static (double[] Values, NpyHeader Header) ReadWhole(ZipArchiveEntry entry, string name)
    {
        using var stream = CrcCheckedStream.Open(entry, name);
        var header = NpyHeader.Read(stream, name);
        header.EnsureFloat(name);
        long count = header.ElementCount;
        if (count > Array.MaxLength) throw InputException.For(name, $"shape {header.ShapeText} is too large");
        // The declared shape must fit in the member's declared size before anything that large is allocated.
        if (entry.Length - header.DataOffset < count * header.ItemSize)
            throw InputException.For(name, $"file is truncated: shape {header.ShapeText} {header.DTypeName} needs {count * header.ItemSize} bytes of data");
        var values = new double[count];
        long dataBytes = count * header.ItemSize;
        // Through a small reused buffer, copied into the result by user code, not read() straight into it: on
        // this project's virtual machines every later pass over an array that the kernel filled ran ~25x slower
        // (a CRC-32 pass over 32 MiB: 84–101 CPU-ms every time, against 3 ms for the same bytes copied in user
        // mode; perf/NOTES.md, "CLI FID from statistics files, second pass"), and Σ is passed over many times.
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var target = MemoryMarshal.AsBytes(values.AsSpan());
            for (long done = 0; done < dataBytes;)
            {
                int n = (int)Math.Min(chunk.Length, dataBytes - done);
                if (stream.ReadAtLeast(chunk.AsSpan(0, n), n, throwOnEndOfStream: false) < n)
                    throw InputException.For(name, $"file is truncated: shape {header.ShapeText} {header.DTypeName} needs {dataBytes} bytes of data");
                if (header.IsFloat64)
                {
                    chunk.AsSpan(0, n).CopyTo(target[(int)done..]);
                }
                else
                {
                    var floats = MemoryMarshal.Cast<byte, float>(chunk.AsSpan(0, n));
                    var dst = values.AsSpan((int)(done / sizeof(float)), floats.Length);
                    for (int i = 0; i < floats.Length; i++) dst[i] = floats[i];
                }
                done += n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
        return (values, header);
    }

    static void Transpose(double[] m, int d)
    {
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++)
                (m[(long)i * d + j], m[(long)j * d + i]) = (m[(long)j * d + i], m[(long)i * d + j]);
    }

    /// <summary>Index of the first NaN or infinity, or -1.</summary>
    internal static int IndexOfNonFinite<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // |x| < inf is false exactly for NaN and ±inf.
            var infinity = new Vector<T>(T.PositiveInfinity);
            var vectors = MemoryMarshal.Cast<T, Vector<T>>(values);
            while (i < vectors.Length && Vector.LessThanAll(Vector.Abs(vectors[i]), infinity)) i++;
            i *= Vector<T>.Count;
        }
        for (; i < values.Length; i++)
            if (!T.IsFinite(values[i])) return i;
        return -1;
    }

    internal static FileStream OpenFile(string path)
    {
        if (Directory.Exists(path)) throw InputException.For(path, "is a folder; a .npy/.npz feature file is needed here (folders of images are features only after a feature network: genmetrics metrics reads them)");
        if (!File.Exists(path)) throw InputException.For(path, "no such file");
        try
        {
            // bufferSize 1 disables FileStream's own buffer: large reads go straight into the caller's array.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot open ({IoErrors.Describe(e)})");
        }
    }

    static void WriteArray<T>(Stream stream, ReadOnlySpan<T> data, int[] shape) where T : unmanaged
    {
        stream.Write(NpyHeader.Format(typeof(T) == typeof(double) ? "<f8" : "<f4", false, shape));
        const int chunk = 1 << 20;
        for (int i = 0; i < data.Length; i += chunk)
            stream.Write(MemoryMarshal.AsBytes(data.Slice(i, Math.Min(chunk, data.Length - i))));
    }

    static void CheckShape(int length, int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            n *= d;
        }
        if (n != length) throw new ArgumentException($"shape ({string.Join(", ", shape)}) needs {n} values, data has {length}");
    }

    // The temp file sits in the destination folder so the final move is a rename, never a copy.
    static string TempPath(string path)
    {
        string full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
    }

    static FileStream CreateFile(string temp, string path)
    {
        try
        {
            return new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot write ({IoErrors.Describe(e)})");
        }
    }

    static void Commit(string temp, string path)
    {
        try
        {
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot write ({IoErrors.Describe(e)})");
        }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
