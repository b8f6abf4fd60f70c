using System.Text;

namespace GenMetrics.Models;

/// <summary>
/// The few protobuf wire-format pieces an ONNX file needs: varints, length-delimited strings/bytes and nested
/// messages. A message is a tree whose size is computed before writing, so the multi-hundred-megabyte weight
/// blobs are copied once, straight into the output stream.
/// </summary>
internal sealed class ProtoMessage
{
    private readonly List<(int Field, int WireType, ulong Varint, byte[]? Bytes, ProtoMessage? Message)> _fields = [];
    private long _size = -1;

    public ProtoMessage Varint(int field, long value)
    {
        _fields.Add((field, 0, unchecked((ulong)value), null, null));
        return this;
    }

    public ProtoMessage Float(int field, float value)
    {
        _fields.Add((field, 5, BitConverter.SingleToUInt32Bits(value), null, null));
        return this;
    }

    public ProtoMessage Bytes(int field, byte[] value)
    {
        _fields.Add((field, 2, 0, value, null));
        return this;
    }

    public ProtoMessage String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoMessage Message(int field, ProtoMessage value)
    {
        _fields.Add((field, 2, 0, null, value));
        return this;
    }

    public long Size
    {
        get
        {
            if (_size >= 0) return _size;
            long size = 0;
            foreach (var f in _fields)
            {
                size += VarintSize((ulong)(f.Field << 3));
                size += f.WireType switch
                {
                    0 => VarintSize(f.Varint),
                    5 => 4,
                    _ => LengthDelimitedSize(f.Bytes?.LongLength ?? f.Message!.Size),
                };
            }
            return _size = size;
        }
    }

    public void WriteTo(Stream stream)
    {
        Span<byte> fixed32 = stackalloc byte[4];
        foreach (var f in _fields)
        {
            WriteVarint(stream, (ulong)((f.Field << 3) | f.WireType));
            switch (f.WireType)
            {
                case 0:
                    WriteVarint(stream, f.Varint);
                    break;
                case 5:
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(fixed32, (uint)f.Varint);
                    stream.Write(fixed32);
                    break;
                default:
                    if (f.Bytes is not null)
                    {
                        WriteVarint(stream, (ulong)f.Bytes.LongLength);
                        stream.Write(f.Bytes);
                    }
                    else
                    {
                        WriteVarint(stream, (ulong)f.Message!.Size);
                        f.Message.WriteTo(stream);
                    }
                    break;
            }
        }
    }

    private static long LengthDelimitedSize(long length) => VarintSize((ulong)length) + length;

    private static int VarintSize(ulong v)
    {
        int n = 1;
        while (v >= 0x80)
        {
            v >>= 7;
            n++;
        }
        return n;
    }

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }
}
