using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GenMetrics.Features;

/// <summary>
/// N samples of D features each, row-major float32: row i is values [i·D, (i+1)·D), addressed with 64-bit
/// offsets. float32 is what every feature network produces and what the k-NN references compute in;
/// statistics for FID are accumulated in float64 from these values.
/// </summary>
/// <remarks>
/// <para>Storage is one managed float[] (the constructor's, or one allocated by <see cref="Allocate"/> when
/// N·D ≤ <see cref="Array.MaxLength"/>), or one 64-byte aligned native block when N·D is larger (a .NET
/// array holds at most 2^31 − 1 values: 1M × 4096 features is 4.1e9). Either way the values are contiguous,
/// so row blocks are plain spans and the GEMMs read them in place.</para>
/// <para>Rows ≤ 2^31 − 1 and D ≤ 2^31 − 1; N·D up to what memory allows. A span covers at most
/// <see cref="RowsPerSpan"/> rows (under 2^31 values): code that walks the whole matrix goes block by block
/// (<see cref="RowRange"/>) or row by row (<see cref="Row"/>).</para>
/// <para>Native storage is freed by <see cref="Dispose"/> or, failing that, by the finaliser of its
/// handle (its size is reported to the GC as memory pressure). Spans obtained from the matrix are valid while
/// the matrix is in use and not disposed. Disposing a matrix stored in a managed array does nothing.</para>
/// </remarks>
public sealed class FeatureMatrix : IRowBlockSource, IDisposable
{
    private readonly float[]? _array;
    private readonly NativeFloats? _native;
    private readonly long _offset;   // first value of this matrix in the storage (non-zero for a RowSlice)
    private readonly bool _isView;   // a RowSlice: never frees the storage it shares

    /// <summary>
    /// Wraps <paramref name="data"/> (not copied) as [<paramref name="rows"/>, <paramref name="dim"/>];
    /// values beyond rows·dim are ignored. Throws <see cref="ArgumentOutOfRangeException"/> for a negative
    /// row count or a non-positive dimension and <see cref="ArgumentException"/> when data is too short.
    /// </summary>
    public FeatureMatrix(float[] data, int rows, int dim, string name = "features")
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(rows, dim);
        if ((long)rows * dim > data.LongLength)
            throw new ArgumentException($"data holds {data.LongLength} values, shape [{rows}, {dim}] needs {(long)rows * dim}");
        _array = data;
        Rows = rows;
        Dim = dim;
        Name = name;
    }

    private FeatureMatrix(float[]? array, NativeFloats? native, int rows, int dim, string name, long offset = 0, bool isView = false)
    {
        _array = array;
        _native = native;
        _offset = offset;
        _isView = isView;
        Rows = rows;
        Dim = dim;
        Name = name;
    }

    /// <summary>
    /// Above this many values <see cref="Allocate"/> stores natively. <see cref="Array.MaxLength"/>; tests lower
    /// it to exercise the native storage with small matrices.
    /// </summary>
    internal static long ManagedLimit { get; set; } = Array.MaxLength;

    /// <summary>
    /// The most values a span of whole rows may hold. int.MaxValue; tests lower it so that the block-by-block
    /// walks (finiteness, writing, uploads) are exercised with small matrices.
    /// </summary>
    internal static int SpanLimit { get; set; } = int.MaxValue;

    /// <summary>
    /// A matrix of [<paramref name="rows"/>, <paramref name="dim"/>] uninitialised values for a reader or
    /// producer to fill (through <see cref="WritableRowRange"/>): a managed array when it fits in one, else
    /// native memory. Throws <see cref="InsufficientMemoryException"/> with the size when it exceeds the
    /// machine's (or container's) memory or cannot be allocated.
    /// </summary>
    internal static FeatureMatrix Allocate(int rows, int dim, string name = "features")
    {
        CheckShape(rows, dim);
        long count = (long)rows * dim;
        // Refused up front rather than left to the kernel's overcommit (and the OOM killer halfway through a read).
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && count * sizeof(float) > available)
            throw new InsufficientMemoryException(
                $"[{rows}, {dim}] float32 features need {FormatBytes(count * sizeof(float))} of memory; this machine (or container) has {FormatBytes(available)}");
        if (count <= ManagedLimit)
        {
            float[] array;
            try
            {
                array = GC.AllocateUninitializedArray<float>(checked((int)count));
            }
            catch (OutOfMemoryException)
            {
                throw NotEnoughMemory(rows, dim);
            }
            return new FeatureMatrix(array, null, rows, dim, name);
        }
        return new FeatureMatrix(null, NativeFloats.Allocate(count) ?? throw NotEnoughMemory(rows, dim), rows, dim, name);
    }

    private static InsufficientMemoryException NotEnoughMemory(int rows, int dim) =>
        new($"[{rows}, {dim}] float32 features need {FormatBytes((long)rows * dim * sizeof(float))} of memory, which could not be allocated");

    /// <summary>"12.3 GiB" style size for messages.</summary>
    internal static string FormatBytes(long bytes) => bytes >= 1L << 30
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB");

    private static void CheckShape(int rows, int dim)
    {
        if (rows < 0 || dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), $"invalid shape [{rows}, {dim}]");
    }

    /// <summary>N, the number of samples.</summary>
    public int Rows { get; }

    /// <summary>D, the number of features per sample.</summary>
    public int Dim { get; }

    /// <summary>N·D, the number of values (may exceed 2^31).</summary>
    public long Count => (long)Rows * Dim;

    /// <summary>Where the features came from (a file path, or a label): used in error messages.</summary>
    public string Name { get; }

    /// <summary>Whether the values live in native memory (N·D beyond one managed array) rather than a float[].</summary>
    public bool IsNative => _native is not null;

    /// <summary>
    /// The values as one managed array (row i at [i·Dim, (i+1)·Dim); it may be longer than N·D). Only for
    /// matrices stored in a managed array: throws <see cref="InvalidOperationException"/> when
    /// <see cref="IsNative"/>. Code that must handle any size uses <see cref="Row"/> or <see cref="RowRange"/>.
    /// </summary>
    public float[] Data => _offset != 0
        ? throw new InvalidOperationException($"{Name}: a row slice of a larger matrix: read it with Row or RowRange")
        : _array ?? throw new InvalidOperationException(
            $"{Name}: [{Rows}, {Dim}] is stored in native memory ({Count} values, more than one array holds): read it with Row or RowRange");

    /// <summary>Rows per span: at most int.MaxValue values (2^31 − 1) in whole rows, at least 1.</summary>
    public int RowsPerSpan => Math.Max(1, SpanLimit / Dim);

    /// <summary>Row <paramref name="i"/> (D values). Throws <see cref="ArgumentOutOfRangeException"/> outside [0, N).</summary>
    public ReadOnlySpan<float> Row(int i)
    {
        if ((uint)i >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(i), $"row {i} outside [0, {Rows})");
        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref First, (nint)((long)i * Dim)), Dim);
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>), row-major
    /// (count·D values). Throws <see cref="ArgumentOutOfRangeException"/> outside [0, N) or when count exceeds
    /// <see cref="RowsPerSpan"/>.
    /// </summary>
    public ReadOnlySpan<float> RowRange(int start, int count) => WritableRowRange(start, count);

    /// <summary>Writable rows, for the code that fills a matrix made by <see cref="Allocate"/>.</summary>
    internal Span<float> WritableRowRange(int start, int count)
    {
        if (start < 0 || count < 0 || start > Rows - count)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows [{start}, {(long)start + count}) outside [0, {Rows})");
        if (count > RowsPerSpan && count > 1)
            throw new ArgumentOutOfRangeException(nameof(count), $"{count} rows of {Dim} values do not fit one span (at most {RowsPerSpan} rows)");
        if (count == 0) return [];
        return MemoryMarshal.CreateSpan(ref Unsafe.Add(ref First, (nint)((long)start * Dim)), count * Dim);
    }

    /// <summary>Values [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) in row-major order, 64-bit offset.</summary>
    internal ReadOnlySpan<float> Values(long start, int length)
    {
        if (start < 0 || length < 0 || start > Count - length)
            throw new ArgumentOutOfRangeException(nameof(length), $"values [{start}, {start + length}) outside [0, {Count})");
        if (length == 0) return [];
        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref First, (nint)start), length);
    }

    /// <summary>Writable element at a 64-bit row-major offset (no bounds beyond the debug check): for readers.</summary>
    internal ref float At(long offset)
    {
        System.Diagnostics.Debug.Assert(offset >= 0 && offset < Count);
        return ref Unsafe.Add(ref First, (nint)offset);
    }

    /// <summary>The value at (<paramref name="row"/>, <paramref name="col"/>).</summary>
    public float this[int row, int col]
    {
        get
        {
            if ((uint)row >= (uint)Rows || (uint)col >= (uint)Dim)
                throw new ArgumentOutOfRangeException(nameof(row), $"({row}, {col}) outside [{Rows}, {Dim}]");
            return Unsafe.Add(ref First, (nint)((long)row * Dim + col));
        }
    }

    /// <summary>
    /// The first value, for <c>fixed (float* p = matrix)</c>: a pointer to all N·D values, valid inside the
    /// fixed block (a managed array is pinned there; native memory does not move). A null reference for an
    /// empty matrix.
    /// </summary>
    internal ref float GetPinnableReference() => ref Count == 0 ? ref Unsafe.NullRef<float>() : ref First;

    private ref float First
    {
        get
        {
            if (_array is not null) return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), (nint)_offset);
            return ref Unsafe.Add(ref _native!.First, (nint)_offset);
        }
    }

    /// <summary>The same values under another name (storage shared, not copied: disposing either frees it).</summary>
    public FeatureMatrix WithName(string name) => new(_array, _native, Rows, Dim, name, _offset, _isView);

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) as a matrix that
    /// shares this one's storage (a view: no copy; disposing it frees nothing). Valid while this matrix is.
    /// </summary>
    internal FeatureMatrix RowSlice(int start, int count, string? name = null)
    {
        if (start < 0 || count < 0 || start > Rows - count)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows [{start}, {(long)start + count}) outside [0, {Rows})");
        return new FeatureMatrix(_array, _native, count, Dim, name ?? Name, _offset + (long)start * Dim, isView: true);
    }

    /// <summary>A copy of the N·D values in one new array; throws <see cref="InvalidOperationException"/> beyond one array's capacity.</summary>
    public float[] ToArray()
    {
        if (Count > Array.MaxLength)
            throw new InvalidOperationException($"{Name}: [{Rows}, {Dim}] ({Count} values) does not fit one array");
        var copy = GC.AllocateUninitializedArray<float>((int)Count);
        int per = RowsPerSpan;
        for (int start = 0; start < Rows; start += per)
        {
            int count = Math.Min(per, Rows - start);
            RowRange(start, count).CopyTo(copy.AsSpan((int)((long)start * Dim)));
        }
        return copy;
    }

    /// <summary>Bytes of native feature storage allocated and not yet freed (all matrices; for tests and diagnostics).</summary>
    internal static long LiveNativeBytes => NativeFloats.LiveBytes;

    /// <summary>Frees native storage now (nothing for a managed array). The matrix must not be used afterwards.</summary>
    public void Dispose()
    {
        if (!_isView) _native?.Dispose();
    }

    /// <summary>Throws an <see cref="InputException"/> naming the first NaN or infinite value.</summary>
    public void EnsureFinite()
    {
        // Exponent bits all ones is NaN or ±inf. This runs before every k-NN pass over up to 10^9+ values,
        // so chunks are checked in parallel, a SIMD vector at a time; the first chunk with an offender is
        // then scanned in order, so that the message names the first one.
        const int chunk = 1 << 20;
        long length = Count;
        long chunks = (length + chunk - 1) / chunk;
        long firstBad = long.MaxValue;
        Parallel.For(0L, chunks, c =>
        {
            if (c > Interlocked.Read(ref firstBad)) return;
            long start = c * chunk;
            if (!AllFinite(Values(start, (int)Math.Min(chunk, length - start)))) InterlockedMin(ref firstBad, c);
        });
        if (firstBad == long.MaxValue) return;
        var values = Values(firstBad * chunk, (int)Math.Min(chunk, length - firstBad * chunk));
        for (int k = 0; k < values.Length; k++)
        {
            if (!float.IsFinite(values[k]))
            {
                long i = firstBad * chunk + k;
                throw InputException.For(Name, $"value at row {i / Dim}, column {i % Dim} is {values[k]} (features must be finite)");
            }
        }
        GC.KeepAlive(this);
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var exponent = new Vector<uint>(0x7f800000u);
        int i = 0;
        for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
        {
            if (Vector.EqualsAny(new Vector<uint>(bits[i..]) & exponent, exponent)) return false;
        }
        for (; i < bits.Length; i++)
        {
            if ((bits[i] & 0x7f800000u) == 0x7f800000u) return false;
        }
        return true;
    }

    private static void InterlockedMin(ref long target, long value)
    {
        long seen = Interlocked.Read(ref target);
        while (value < seen)
        {
            long previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    /// <summary>Blocks of at most <paramref name="maxRows"/> rows widened to float64 (one reused buffer).</summary>
    public IEnumerable<RowBlock> EnumerateBlocks(int maxRows)
    {
        if (maxRows <= 0) throw new ArgumentOutOfRangeException(nameof(maxRows));
        maxRows = Math.Min(maxRows, Math.Max(1, Array.MaxLength / Dim));
        var buffer = new double[(long)Math.Min(maxRows, Math.Max(Rows, 1)) * Dim];
        for (int start = 0; start < Rows; start += maxRows)
        {
            int count = Math.Min(maxRows, Rows - start);
            Widen(start, count, buffer);
            yield return new RowBlock(buffer, start, count, Dim);
        }
    }

    private void Widen(int start, int count, double[] buffer)
    {
        int per = RowsPerSpan;
        for (int done = 0; done < count;)
        {
            int n = Math.Min(per, count - done);
            var src = RowRange(start + done, n);
            var dst = buffer.AsSpan((int)((long)done * Dim), src.Length);
            for (int i = 0; i < src.Length; i++) dst[i] = src[i];
            done += n;
        }
    }

    /// <summary>
    /// 64-byte aligned native float32 storage. A SafeHandle: released exactly once, by Dispose or by the
    /// critical finaliser, and its size counts as GC memory pressure while it lives.
    /// </summary>
    private sealed unsafe class NativeFloats : SafeHandle
    {
        private readonly long _bytes;

        private NativeFloats(void* memory, long bytes) : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle((IntPtr)memory);
            _bytes = bytes;
            GC.AddMemoryPressure(bytes);
            Interlocked.Add(ref _liveBytes, bytes);
        }

        private static long _liveBytes;

        /// <summary>Bytes of native storage allocated and not yet freed, all matrices together.</summary>
        public static long LiveBytes => Interlocked.Read(ref _liveBytes);

        /// <summary>Null when the memory is not available.</summary>
        public static NativeFloats? Allocate(long count)
        {
            long bytes = count * sizeof(float);
            void* memory;
            try
            {
                memory = NativeMemory.AlignedAlloc((nuint)bytes, 64);
            }
            catch (OutOfMemoryException)
            {
                return null;
            }
            return new NativeFloats(memory, bytes);
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        public ref float First
        {
            get
            {
                ObjectDisposedException.ThrowIf(IsClosed, this);
                return ref *(float*)handle;
            }
        }

        protected override bool ReleaseHandle()
        {
            NativeMemory.AlignedFree((void*)handle);
            GC.RemoveMemoryPressure(_bytes);
            Interlocked.Add(ref _liveBytes, -_bytes);
            return true;
        }
    }
}
