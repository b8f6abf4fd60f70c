using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace GenMetrics.Features;

/// <summary>
/// The header of a NumPy .npy array (metrics-spec §13): dtype descriptor, memory order and shape, and
/// where the data starts. Versions 1.0, 2.0 and 3.0 are read; 1.0 is written.
/// </summary>
public sealed class NpyHeader
{
    internal static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public NpyHeader(string descr, bool fortranOrder, long[] shape, long dataOffset = 0)
    {
        Descr = descr;
        FortranOrder = fortranOrder;
        Shape = shape;
        DataOffset = dataOffset;
    }

    /// <summary>The dtype descriptor as written, e.g. "&lt;f4".</summary>
    public string Descr { get; }
    public bool FortranOrder { get; }
    public long[] Shape { get; }

    /// <summary>Byte offset of the first element from the start of the .npy stream.</summary>
    public long DataOffset { get; }

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n = checked(n * d);
            return n;
        }
    }

    public bool IsFloat32 => Descr == "<f4";
    public bool IsFloat64 => Descr == "<f8";
    public int ItemSize => IsFloat64 ? 8 : 4;

    /// <summary>"float32" or "float64" for the accepted dtypes, otherwise a description of what was found.</summary>
    public string DTypeName => DescribeDType(Descr);

    /// <summary>Python's spelling of the shape: "()", "(5,)", "(5, 7)".</summary>
    public string ShapeText => Shape.Length == 1 ? $"({Shape[0]},)" : "(" + string.Join(", ", Shape) + ")";

    /// <summary>Throws unless the data are little-endian float32 or float64, the only dtypes features come in.</summary>
    public void EnsureFloat(string source)
    {
        if (!IsFloat32 && !IsFloat64)
            throw InputException.For(source,
                $"dtype '{Descr}' ({DTypeName}) is not supported{(Descr.Length > 1 && Descr[1] == 'O' ? " (object arrays need pickle, which is refused)" : "")}: features must be float32 or float64 (<f4, <f8)");
    }

    /// <summary>Reads the magic, version, length field and header dict, leaving the stream at the first data byte.</summary>
    public static NpyHeader Read(Stream stream, string source)
    {
        Span<byte> prefix = stackalloc byte[12];
        if (stream.ReadAtLeast(prefix[..10], 10, throwOnEndOfStream: false) < 10 || !prefix[..6].SequenceEqual(Magic))
            throw InputException.For(source, "not a .npy array (bad magic bytes)");
        byte major = prefix[6];
        int headerLength, prefixLength;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
            prefixLength = 10;
        }
        else if (major is 2 or 3)
        {
            if (stream.ReadAtLeast(prefix[10..12], 2, throwOnEndOfStream: false) < 2)
                throw InputException.For(source, "corrupt .npy header (file ends inside the header)");
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
            if (length > 1 << 24) throw InputException.For(source, $"corrupt .npy header (header length {length})");
            headerLength = (int)length;
            prefixLength = 12;
        }
        else
        {
            throw InputException.For(source, $"unsupported .npy format version {major}.{prefix[7]} (1.0, 2.0 and 3.0 are read)");
        }

        var text = new byte[headerLength];
        if (stream.ReadAtLeast(text, headerLength, throwOnEndOfStream: false) < headerLength)
            throw InputException.For(source, "corrupt .npy header (file ends inside the header)");
        // Versions 1 and 2 are latin-1, version 3 exists only to allow UTF-8 (structured field names).
        string dict = major == 3 ? Encoding.UTF8.GetString(text) : Encoding.Latin1.GetString(text);
        return Parse(dict, source, prefixLength + headerLength);
    }

    /// <summary>Parses the header's Python dict literal, e.g. "{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }".</summary>
    public static NpyHeader Parse(string dict, string source, long dataOffset = 0)
    {
        var parser = new DictParser(dict, source);
        var entries = parser.ParseDict();
        if (!entries.TryGetValue("descr", out var descr) || !entries.TryGetValue("fortran_order", out var fortran)
            || !entries.TryGetValue("shape", out var shape))
            throw InputException.For(source, $"corrupt .npy header (needs keys descr, fortran_order, shape): {dict.Trim()}");
        if (descr is List<object>)
            throw InputException.For(source, "structured dtype is not supported: features must be float32 or float64 (<f4, <f8)");
        if (descr is not string d) throw parser.Error("descr is not a string");
        if (fortran is not bool f) throw parser.Error("fortran_order is not True or False");
        if (shape is not List<object> dims || dims.Any(x => x is not long n || n < 0))
            throw parser.Error("shape is not a tuple of non-negative integers");
        var header = new NpyHeader(d, f, dims.Select(x => (long)x).ToArray(), dataOffset);
        // Byte counts (elements x 8) must fit a long; a shape beyond that is a corrupt header, not an overflow bug.
        try { if (header.ElementCount > long.MaxValue / 16) throw new OverflowException(); }
        catch (OverflowException) { throw parser.Error("shape too large"); }
        return header;
    }

    /// <summary>A version 1.0 header whose data start at a multiple of 64 bytes, spelled as NumPy spells it.</summary>
    internal static byte[] Format(string descr, bool fortranOrder, ReadOnlySpan<int> shape)
    {
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape.ToArray()) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {shapeText}, }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        if (padded - 10 > ushort.MaxValue) throw new ArgumentException("shape too long for a version 1.0 header");
        var bytes = new byte[padded];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(padded - 10));
        Encoding.Latin1.GetBytes(dict, bytes.AsSpan(10));
        bytes.AsSpan(10 + dict.Length, padded - 11 - dict.Length).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    static string DescribeDType(string descr)
    {
        if (descr.Length < 2) return "unknown";
        char order = descr[0];
        string kind = descr[1..] switch
        {
            "f2" => "float16", "f4" => "float32", "f8" => "float64", "f16" => "float128",
            "i1" => "int8", "i2" => "int16", "i4" => "int32", "i8" => "int64",
            "u1" => "uint8", "u2" => "uint16", "u4" => "uint32", "u8" => "uint64",
            "b1" => "bool", "c8" => "complex64", "c16" => "complex128",
            _ => descr[1] switch { 'U' => "unicode string", 'S' => "byte string", 'O' => "Python object", 'V' => "void", 'M' => "datetime", 'm' => "timedelta", _ => "unknown" },
        };
        return order == '>' ? "big-endian " + kind : kind;
    }

    /// <summary>The subset of Python literal syntax NumPy headers use: dict, str, True/False, tuple/list of ints (optional L suffix).</summary>
    sealed class DictParser(string text, string source)
    {
        int pos;

        public InputException Error(string problem) => InputException.For(source, $"corrupt .npy header ({problem}): {text.Trim()}");

        public Dictionary<string, object> ParseDict()
        {
            Expect('{');
            var result = new Dictionary<string, object>(StringComparer.Ordinal);
            while (!TryConsume('}'))
            {
                if (ParseValue() is not string key) throw Error("dict key is not a string");
                Expect(':');
                result[key] = ParseValue();
                if (!TryConsume(',')) { Expect('}'); break; }
            }
            SkipSpace();
            if (pos != text.Length) throw Error("text after the dict");
            return result;
        }

        object ParseValue()
        {
            SkipSpace();
            if (pos >= text.Length) throw Error("unexpected end");
            char c = text[pos];
            if (c is '\'' or '"')
            {
                int end = text.IndexOf(c, pos + 1);
                if (end < 0) throw Error("unterminated string");
                string s = text[(pos + 1)..end];
                pos = end + 1;
                return s;
            }
            if (c is '(' or '[')
            {
                char close = c == '(' ? ')' : ']';
                pos++;
                var items = new List<object>();
                while (!TryConsume(close))
                {
                    items.Add(ParseValue());
                    if (!TryConsume(',')) { Expect(close); break; }
                }
                return items;
            }
            int start = pos;
            while (pos < text.Length && (char.IsLetterOrDigit(text[pos]) || text[pos] is '-' or '+' or '_')) pos++;
            string word = text[start..pos];
            if (word == "True") return true;
            if (word == "False") return false;
            // Python 2 wrote longs with an L suffix: (2048L,).
            string digits = word.EndsWith('L') || word.EndsWith('l') ? word[..^1] : word;
            if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return n;
            throw Error(word.Length == 0 ? $"unexpected '{c}'" : $"unexpected '{word}'");
        }

        void SkipSpace()
        {
            while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++;
        }

        bool TryConsume(char c)
        {
            SkipSpace();
            if (pos < text.Length && text[pos] == c) { pos++; return true; }
            return false;
        }

        void Expect(char c)
        {
            if (!TryConsume(c)) throw Error($"expected '{c}'");
        }
    }
}
