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
            throw InputException.For(path, $"cannot read checkpoint: {IoErrors.Describe(e)}");
        }
        return Read(bytes, path);
    }

    public static IReadOnlyDictionary<string, TorchTensor> Read(byte[] bytes, string source)
    {
        try
        {
            if (bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4)
                return ReadZip(bytes, source);
            if (bytes.Length >= 2 && bytes[0] == 0x80)
                return ReadLegacy(bytes, source);
        }
        catch (InvalidDataException e)
        {
            throw InputException.For(source, $"damaged checkpoint archive ({IoErrors.Zip(e)})");
        }
        catch (OverflowException)
        {
            throw InputException.For(source, "damaged checkpoint: a declared size or offset is out of range");
        }
        throw InputException.For(source, "not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)");
    }

    /// <summary>Deflate cannot expand data by more than about 1032:1; a member declaring more is forged.</summary>
    private const long MaxDeflateRatio = 1032;

    private static IReadOnlyDictionary<string, TorchTensor> ReadZip(byte[] bytes, string source)
    {
        using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
        if (zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.FullName.Contains("/code/", StringComparison.Ordinal)))
            throw InputException.For(source, "this is a TorchScript archive (e.g. NVIDIA's inception-2015-12-05.pt or vgg16.pt), not a state_dict; " +
                "TorchScript is not supported: use pytorch-fid's pt_inception-2015-12-05-6726825d.pth or torchvision's vgg16-397923af.pth");
        var pickleEntry = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            ?? throw InputException.For(source, "zip checkpoint without a data.pkl");
        string prefix = pickleEntry.FullName[..^"data.pkl".Length];
        var pickle = ReadMember(pickleEntry, source, bytes.LongLength);
        var refs = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        var (root, _) = RestrictedUnpickler.Load(pickle, 0, source, pid => Remember(refs, ParseStorageRef(pid, source, legacy: false), source));
        // Every storage's declared size is checked against its member's size before any tensor is built.
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var r in refs.Values)
        {
            var entry = zip.GetEntry(prefix + "data/" + r.Key) ?? throw InputException.For(source, $"storage '{r.Key}' missing from the archive");
            long need = r.Numel * ElementSize(r.DType);
            if (entry.Length < need)
                throw InputException.For(source, $"storage '{r.Key}' declares {r.Numel} {r.DType} elements ({need} bytes) but its archive member holds {entry.Length} bytes");
            entries[r.Key] = entry;
        }
        // Storages are read one tensor at a time and dropped: no cache of the whole file's tensors twice.
        return BuildTensors(root, source, refs, key => ReadMember(entries[key], $"{source}:{entries[key].FullName}", bytes.LongLength));
    }

    /// <summary>One zip member, CRC-checked, after its declared size was checked against the bytes it can come from.</summary>
    private static byte[] ReadMember(ZipArchiveEntry entry, string source, long fileBytes)
    {
        long limit = entry.CompressedLength == entry.Length ? fileBytes : Math.Min(entry.CompressedLength, fileBytes) * MaxDeflateRatio;
        if (entry.Length > limit)
            throw InputException.For(source, $"archive member {entry.FullName} declares {entry.Length} bytes, more than its {entry.CompressedLength} stored bytes can hold (forged or damaged file)");
        return CrcCheckedStream.ReadAll(entry, $"{source}:{entry.FullName}");
    }

    private static StorageRef Remember(Dictionary<string, StorageRef> refs, StorageRef r, string source)
    {
        if (refs.TryGetValue(r.Key, out var known))
        {
            if (known.DType != r.DType || known.Numel != r.Numel)
                throw InputException.For(source, $"storage '{r.Key}' is declared twice with different types or sizes");
            return known;
        }
        refs[r.Key] = r;
        return r;
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
        (var root, pos) = RestrictedUnpickler.Load(bytes, pos, source, pid => Remember(refs, ParseStorageRef(pid, source, legacy: true), source));
        (var keyList, pos) = RestrictedUnpickler.Load(bytes, pos, source);
        if (keyList is not List<object?> keys) throw InputException.For(source, "legacy checkpoint without its storage key list");
        // The storages stay where they are in the file's bytes: no copy.
        var storages = new Dictionary<string, ArraySegment<byte>>(StringComparer.Ordinal);
        foreach (var k in keys)
        {
            string key = k as string ?? throw InputException.For(source, "storage key is not a string");
            if (pos + 8 > bytes.Length) throw InputException.For(source, $"truncated before storage '{key}'");
            long numel = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(pos, 8));
            pos += 8;
            var r = refs.TryGetValue(key, out var known) ? known : throw InputException.For(source, $"storage '{key}' is not used by any tensor");
            int size = ElementSize(r.DType);
            if (numel < 0 || numel > (bytes.Length - pos) / size)
                throw InputException.For(source, $"storage '{key}' declares {numel} elements, more than the {bytes.Length - pos} bytes left in the file (truncated download?)");
            if (numel < r.Numel) throw InputException.For(source, $"storage '{key}' holds {numel} elements but its tensors declare {r.Numel}");
            int length = (int)(numel * size);
            if (!storages.TryAdd(key, new ArraySegment<byte>(bytes, pos, length)))
                throw InputException.For(source, $"storage '{key}' appears twice");
            pos += length;
        }
        return BuildTensors(root, source, refs, key => storages.TryGetValue(key, out var b) ? b : throw InputException.For(source, $"storage '{key}' missing"));
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
        if (numel < 0 || numel > long.MaxValue / 8) throw InputException.For(source, $"storage '{key}' declares an impossible size of {numel} elements");
        return new StorageRef(key, dtype, numel);
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "float32" or "int32" => 4,
        "float16" or "bfloat16" => 2,
        _ => 8,
    };

    /// <summary>A tensor as the pickle describes it, checked against its storage, before anything is read.</summary>
    private sealed record TensorView(StorageRef Storage, long Offset, long[] Shape, long[] Stride, long Count)
    {
        public string Identity => $"{Storage.Key}|{Offset}|{string.Join(",", Shape)}|{string.Join(",", Stride)}";
    }

    private static Dictionary<string, TorchTensor> BuildTensors(object? root, string source, Dictionary<string, StorageRef> refs, Func<string, ArraySegment<byte>> storageBytes)
    {
        if (root is not Dictionary<object, object?> dict)
            throw InputException.For(source, "the checkpoint is not a state_dict (a dict of tensors)");
        if (dict.Count == 1 && dict.TryGetValue("state_dict", out var inner) && inner is Dictionary<object, object?>)
            dict = (Dictionary<object, object?>)inner!;
        var views = new List<(string Name, TensorView View)>();
        foreach (var (k, v) in dict)
        {
            string name = k as string ?? throw InputException.For(source, "state_dict key is not a string");
            views.Add((name, Describe(v, name, source)));
        }
        // Memory stays tied to the real bytes: views of the same elements (tied weights, or a forged file
        // naming one tensor many times) share one array, no view has more elements than its storage, and
        // the distinct views together may claim at most twice what the storages hold (a saved view beside
        // its parent, e.g. a weight and its transpose, is legitimate; 200 overlapping slices are not).
        long stored = refs.Values.Sum(r => r.Numel);
        long claimed = views.Select(v => v.View).DistinctBy(v => v.Identity).Sum(v => v.Count);
        if (claimed > 2 * stored + 65536)
            throw InputException.For(source, $"the tensors claim {claimed} elements but their storages hold {stored}: that many overlapping views of one storage are not a state_dict (forged or damaged file)");
        var built = new Dictionary<string, TorchTensor>(StringComparer.Ordinal);
        var result = new Dictionary<string, TorchTensor>(StringComparer.Ordinal);
        foreach (var (name, view) in views)
        {
            if (!built.TryGetValue(view.Identity, out var tensor))
                built[view.Identity] = tensor = Materialize(view, storageBytes(view.Storage.Key), name, source);
            result[name] = tensor;
        }
        return result;
    }

    private static TensorView Describe(object? value, string name, string source)
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
        if (shape.Length != stride.Length || shape.Any(s => s < 0) || stride.Any(s => s < 0) || offset < 0)
            throw InputException.For(source, $"'{name}': shape, stride or offset is invalid");
        // Each dimension fits in the storage, so the products below cannot overflow before the checks.
        long count = 1;
        long maxIndex = offset;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] > storage.Numel || (shape[d] > 1 && stride[d] > storage.Numel))
                throw InputException.For(source, $"'{name}': shape {string.Join("x", shape)} reaches past its storage of {storage.Numel} elements");
            count = shape[d] == 0 ? 0 : count <= storage.Numel / shape[d] ? count * shape[d] : long.MaxValue;
            if (shape[d] > 0) maxIndex += (shape[d] - 1) * stride[d];
        }
        if (count > 0 && (count > storage.Numel || maxIndex >= storage.Numel))
            throw InputException.For(source, $"'{name}': shape {string.Join("x", shape)} reaches past its storage of {storage.Numel} elements");
        return new TensorView(storage, offset, shape, stride, count);
    }

    private static TorchTensor Materialize(TensorView view, ArraySegment<byte> raw, string name, string source)
    {
        var (storage, offset, shape, stride, count) = view;
        int size = ElementSize(storage.DType);
        if (raw.Count < storage.Numel * size) throw InputException.For(source, $"'{name}': storage '{storage.Key}' is shorter than declared");
        if (count > Array.MaxLength) throw InputException.For(source, $"'{name}': {count} elements are too many for one array");

        bool contiguous = true;
        long expected = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && stride[d] != expected) contiguous = false;
            expected *= shape[d];
        }
        var span = raw.AsSpan();
        if (contiguous && storage.DType == "float32" && BitConverter.IsLittleEndian)
        {
            var f = new float[count];
            span.Slice((int)(offset * 4), (int)(count * 4)).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan()));
            return new TorchTensor("float32", shape, f, null, null);
        }

        // Stride-aware gather: a saved view (transpose, slice) keeps its parent's storage and strides. The
        // element index advances like an odometer; no index array the size of the tensor.
        var counter = new long[shape.Length];
        long idx = offset;
        long Next()
        {
            long current = idx;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++counter[d] < shape[d])
                {
                    idx += stride[d];
                    break;
                }
                idx -= (shape[d] - 1) * stride[d];
                counter[d] = 0;
            }
            return current;
        }
        switch (storage.DType)
        {
            case "float32":
            {
                var f = new float[count];
                for (long i = 0; i < count; i++) f[i] = BinaryPrimitives.ReadSingleLittleEndian(span.Slice((int)(Next() * 4), 4));
                return new TorchTensor("float32", shape, f, null, null);
            }
            case "float16":
            {
                var f = new float[count];
                for (long i = 0; i < count; i++) f[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(span.Slice((int)(Next() * 2), 2));
                return new TorchTensor("float16", shape, f, null, null);
            }
            case "bfloat16":
            {
                var f = new float[count];
                for (long i = 0; i < count; i++) f[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(span.Slice((int)(Next() * 2), 2)) << 16);
                return new TorchTensor("bfloat16", shape, f, null, null);
            }
            case "float64":
            {
                var d = new double[count];
                for (long i = 0; i < count; i++) d[i] = BinaryPrimitives.ReadDoubleLittleEndian(span.Slice((int)(Next() * 8), 8));
                return new TorchTensor("float64", shape, null, d, null);
            }
            case "int32":
            {
                var l = new long[count];
                for (long i = 0; i < count; i++) l[i] = BinaryPrimitives.ReadInt32LittleEndian(span.Slice((int)(Next() * 4), 4));
                return new TorchTensor("int32", shape, null, null, l);
            }
            default:
            {
                var l = new long[count];
                for (long i = 0; i < count; i++) l[i] = BinaryPrimitives.ReadInt64LittleEndian(span.Slice((int)(Next() * 8), 8));
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
