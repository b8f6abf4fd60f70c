using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;

namespace GenMetrics.Models;

/// <summary>
/// Reads a PyTorch state_dict (`torch.save(model.state_dict(), f)`) in either serialisation without Python:
/// the zip archive of torch >= 1.6 (`*/data.pkl`, `*/data/KEY`) and the legacy stream (magic number,
/// protocol, sys info, the state_dict pickle, the sorted storage keys, then each storage as an int64
/// element count followed by its raw little-endian bytes). The pickles go through
/// <see cref="RestrictedUnpickler"/>, so nothing in the file is executed.
/// </summary>
public static class TorchCheckpoint
{
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356");

    private sealed record StorageRef(string Key, string DType, long Numel);

    /// <summary>Every tensor of the state_dict by name, in file order. A top-level {"state_dict": ...} wrapper is unwrapped.</summary>
    public static IReadOnlyDictionary<string, TorchTensor> Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw InputException.For(path, $"cannot read checkpoint: {e.Message}");
        }
        return Read(bytes, path);
    }

    public static IReadOnlyDictionary<string, TorchTensor> Read(byte[] bytes, string source)
    {
        if (bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4)
            return ReadZip(bytes, source);
        if (bytes.Length >= 2 && bytes[0] == 0x80)
            return ReadLegacy(bytes, source);
        throw InputException.For(source, "not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)");
    }

    private static IReadOnlyDictionary<string, TorchTensor> ReadZip(byte[] bytes, string source)
    {
        using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
        if (zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.FullName.Contains("/code/", StringComparison.Ordinal)))
            throw InputException.For(source, "this is a TorchScript archive (e.g. NVIDIA's inception-2015-12-05.pt or vgg16.pt), not a state_dict; " +
                "TorchScript is not supported: use pytorch-fid's pt_inception-2015-12-05-6726825d.pth or torchvision's vgg16-397923af.pth");
        var pickleEntry = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            ?? throw InputException.For(source, "zip checkpoint without a data.pkl");
        string prefix = pickleEntry.FullName[..^"data.pkl".Length];
        var pickle = ReadEntry(pickleEntry);
        var (root, _) = RestrictedUnpickler.Load(pickle, 0, source, pid => ParseStorageRef(pid, source, legacy: false));
        var cache = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        byte[] StorageBytes(string key)
        {
            if (cache.TryGetValue(key, out var b)) return b;
            var entry = zip.GetEntry(prefix + "data/" + key) ?? throw InputException.For(source, $"storage '{key}' missing from the archive");
            return cache[key] = ReadEntry(entry);
        }
        return BuildTensors(root, source, StorageBytes);
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        using var s = entry.Open();
        var buffer = new byte[entry.Length];
        s.ReadExactly(buffer);
        return buffer;
    }

    private static IReadOnlyDictionary<string, TorchTensor> ReadLegacy(byte[] bytes, string source)
    {
        var (magic, pos) = RestrictedUnpickler.Load(bytes, 0, source);
        bool magicOk = magic switch { BigInteger b => b == LegacyMagic, long l => l == LegacyMagic, _ => false };
        if (!magicOk) throw InputException.For(source, "legacy checkpoint with a wrong magic number");
        (var protocol, pos) = RestrictedUnpickler.Load(bytes, pos, source);
        if (protocol is not 1001L) throw InputException.For(source, $"unsupported legacy checkpoint protocol {protocol}");
        (var sysInfo, pos) = RestrictedUnpickler.Load(bytes, pos, source);
        if (sysInfo is Dictionary<object, object?> info && info.TryGetValue("little_endian", out var le) && le is false)
            throw InputException.For(source, "big-endian checkpoint");
        var refs = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        (var root, pos) = RestrictedUnpickler.Load(bytes, pos, source, pid =>
        {
            var r = ParseStorageRef(pid, source, legacy: true);
            refs.TryAdd(r.Key, r);
            return r;
        });
        (var keyList, pos) = RestrictedUnpickler.Load(bytes, pos, source);
        if (keyList is not List<object?> keys) throw InputException.For(source, "legacy checkpoint without its storage key list");
        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var k in keys)
        {
            string key = k as string ?? throw InputException.For(source, "storage key is not a string");
            if (pos + 8 > bytes.Length) throw InputException.For(source, $"truncated before storage '{key}'");
            long numel = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(pos, 8));
            pos += 8;
            int size = refs.TryGetValue(key, out var r) ? ElementSize(r.DType) : throw InputException.For(source, $"storage '{key}' is not used by any tensor");
            long length = numel * size;
            if (numel < 0 || pos + length > bytes.Length) throw InputException.For(source, $"storage '{key}' runs past the end of the file (truncated download?)");
            storages[key] = bytes.AsSpan(pos, (int)length).ToArray();
            pos += (int)length;
        }
        return BuildTensors(root, source, key => storages.TryGetValue(key, out var b) ? b : throw InputException.For(source, $"storage '{key}' missing"));
    }

    private static StorageRef ParseStorageRef(object? pid, string source, bool legacy)
    {
        // zip: ('storage', StorageType, key, location, numel); legacy adds view_metadata (None unless a view).
        if (pid is not object?[] t || t.Length < 5 || t[0] is not "storage")
            throw InputException.For(source, "unexpected persistent id (not a tensor storage)");
        if (legacy && t.Length >= 6 && t[5] is not null)
            throw InputException.For(source, "legacy storage views (pre-0.4 shared storages) are not supported");
        var type = t[1] as PickleGlobal ?? throw InputException.For(source, "storage without a type");
        string dtype = type.Name switch
        {
            "FloatStorage" => "float32",
            "DoubleStorage" => "float64",
            "HalfStorage" => "float16",
            "BFloat16Storage" => "bfloat16",
            "LongStorage" => "int64",
            "IntStorage" => "int32",
            _ => throw InputException.For(source, $"unsupported storage type {type.FullName}"),
        };
        string key = t[2] as string ?? throw InputException.For(source, "storage key is not a string");
        long numel = t[4] is long n ? n : throw InputException.For(source, "storage size is not an integer");
        return new StorageRef(key, dtype, numel);
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "float32" or "int32" => 4,
        "float16" or "bfloat16" => 2,
        _ => 8,
    };

    private static Dictionary<string, TorchTensor> BuildTensors(object? root, string source, Func<string, byte[]> storageBytes)
    {
        if (root is not Dictionary<object, object?> dict)
            throw InputException.For(source, "the checkpoint is not a state_dict (a dict of tensors)");
        if (dict.Count == 1 && dict.TryGetValue("state_dict", out var inner) && inner is Dictionary<object, object?>)
            dict = (Dictionary<object, object?>)inner!;
        var result = new Dictionary<string, TorchTensor>(StringComparer.Ordinal);
        foreach (var (k, v) in dict)
        {
            string name = k as string ?? throw InputException.For(source, "state_dict key is not a string");
            result[name] = BuildTensor(v, name, source, storageBytes);
        }
        return result;
    }

    private static TorchTensor BuildTensor(object? value, string name, string source, Func<string, byte[]> storageBytes)
    {
        if (value is PickleCall { Callable.Name: "_rebuild_parameter" } p && p.Arguments.Length >= 1)
            value = p.Arguments[0];
        if (value is not PickleCall { Callable.Name: "_rebuild_tensor_v2" or "_rebuild_tensor" } call || call.Arguments.Length < 4)
            throw InputException.For(source, $"'{name}' is not a tensor");
        var a = call.Arguments;
        var storage = a[0] as StorageRef ?? throw InputException.For(source, $"'{name}': tensor without a storage");
        long offset = a[1] is long o ? o : throw InputException.For(source, $"'{name}': bad storage offset");
        long[] shape = Longs(a[2], name, source);
        long[] stride = Longs(a[3], name, source);
        if (shape.Length != stride.Length || shape.Any(s => s < 0)) throw InputException.For(source, $"'{name}': shape and stride disagree");
        long count = shape.Aggregate(1L, (x, y) => x * y);
        long maxIndex = offset;
        for (int d = 0; d < shape.Length; d++)
            if (shape[d] > 0) maxIndex += (shape[d] - 1) * stride[d];
        if (count > 0 && (offset < 0 || maxIndex >= storage.Numel))
            throw InputException.For(source, $"'{name}': shape {string.Join("x", shape)} reaches past its storage of {storage.Numel} elements");
        var raw = storageBytes(storage.Key);
        int size = ElementSize(storage.DType);
        if (raw.LongLength < storage.Numel * size) throw InputException.For(source, $"'{name}': storage '{storage.Key}' is shorter than declared");

        bool contiguous = true;
        long expected = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && stride[d] != expected) contiguous = false;
            expected *= shape[d];
        }
        if (contiguous && storage.DType == "float32" && BitConverter.IsLittleEndian)
        {
            var f = new float[count];
            raw.AsSpan(checked((int)(offset * 4)), checked((int)(count * 4))).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan()));
            return new TorchTensor("float32", shape, f, null, null);
        }

        // Stride-aware gather: a saved view (transpose, slice) keeps its parent's storage and strides.
        var indices = new long[count];
        var counter = new long[shape.Length];
        for (long i = 0; i < count; i++)
        {
            long idx = offset;
            for (int d = 0; d < shape.Length; d++) idx += counter[d] * stride[d];
            indices[i] = idx;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++counter[d] < shape[d]) break;
                counter[d] = 0;
            }
        }
        var span = raw.AsSpan();
        switch (storage.DType)
        {
            case "float32":
            {
                var f = new float[count];
                for (long i = 0; i < count; i++) f[i] = BinaryPrimitives.ReadSingleLittleEndian(span.Slice((int)(indices[i] * 4), 4));
                return new TorchTensor("float32", shape, f, null, null);
            }
            case "float16":
            {
                var f = new float[count];
                for (long i = 0; i < count; i++) f[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(span.Slice((int)(indices[i] * 2), 2));
                return new TorchTensor("float16", shape, f, null, null);
            }
            case "bfloat16":
            {
                var f = new float[count];
                for (long i = 0; i < count; i++) f[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(span.Slice((int)(indices[i] * 2), 2)) << 16);
                return new TorchTensor("bfloat16", shape, f, null, null);
            }
            case "float64":
            {
                var d = new double[count];
                for (long i = 0; i < count; i++) d[i] = BinaryPrimitives.ReadDoubleLittleEndian(span.Slice((int)(indices[i] * 8), 8));
                return new TorchTensor("float64", shape, null, d, null);
            }
            case "int32":
            {
                var l = new long[count];
                for (long i = 0; i < count; i++) l[i] = BinaryPrimitives.ReadInt32LittleEndian(span.Slice((int)(indices[i] * 4), 4));
                return new TorchTensor("int32", shape, null, null, l);
            }
            default:
            {
                var l = new long[count];
                for (long i = 0; i < count; i++) l[i] = BinaryPrimitives.ReadInt64LittleEndian(span.Slice((int)(indices[i] * 8), 8));
                return new TorchTensor("int64", shape, null, null, l);
            }
        }
    }

    private static long[] Longs(object? o, string name, string source)
    {
        if (o is not object?[] t) throw InputException.For(source, $"'{name}': shape/stride is not a tuple");
        return t.Select(x => x is long l ? l : throw InputException.For(source, $"'{name}': non-integer shape/stride")).ToArray();
    }
}
