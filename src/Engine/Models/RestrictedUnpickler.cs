using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace GenMetrics.Models;

/// <summary>A global that the unpickler accepted: only names on <see cref="RestrictedUnpickler"/>'s whitelist exist.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>The result of REDUCE or BUILD on a whitelisted callable, left for the caller to interpret.</summary>
internal sealed record PickleCall(PickleGlobal Callable, object?[] Arguments);

/// <summary>A persistent id (BINPERSID) resolved by the caller, e.g. a tensor storage.</summary>
internal delegate object PersistentLoader(object? pid);

/// <summary>
/// A pickle reader that understands only what a PyTorch state_dict needs. Pickle is a program: a normal
/// unpickler imports and calls whatever the file names, so a checkpoint from the internet could run code.
/// Here no opcode executes anything: GLOBAL resolves to a whitelisted name and REDUCE only records the call,
/// which <see cref="TorchCheckpoint"/> then interprets. Every other opcode or global is refused with an
/// <see cref="InputException"/> naming it.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private static readonly HashSet<string> AllowedGlobals = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.LongStorage", "torch.IntStorage",
        "torch.BFloat16Storage",
    };

    private static readonly object Mark = new();

    private readonly byte[] _data;
    private readonly string _source;
    private readonly PersistentLoader? _persistentLoad;
    private int _pos;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];

    private RestrictedUnpickler(byte[] data, int start, string source, PersistentLoader? persistentLoad)
    {
        _data = data;
        _pos = start;
        _source = source;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Reads one pickle starting at <paramref name="start"/>; returns the object and the offset after STOP.</summary>
    public static (object? Value, int End) Load(byte[] data, int start, string source, PersistentLoader? persistentLoad = null)
    {
        var u = new RestrictedUnpickler(data, start, source, persistentLoad);
        var value = u.Run();
        return (value, u._pos);
    }

    private InputException Bad(string problem) => InputException.For(_source, $"checkpoint pickle: {problem}");

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw Bad("ends before the STOP opcode (truncated file?)");
            int opOffset = _pos;
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: ReadBytes(1); break; // PROTO
                case 0x95: ReadBytes(8); break; // FRAME: framing is only a read-ahead hint
                case 0x2E: // STOP
                    if (_stack.Count != 1) throw Bad($"STOP with {_stack.Count} objects on the stack");
                    return Pop();
                case 0x7D: Push(new Dictionary<object, object?>()); break; // EMPTY_DICT
                case 0x5D: Push(new List<object?>()); break; // EMPTY_LIST
                case 0x29: Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case 0x28: _marks.Add(_stack.Count); Push(Mark); break; // MARK
                case 0x4E: Push(null); break; // NONE
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case 0x4B: Push((long)ReadBytes(1)[0]); break; // BININT1
                case 0x4D: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case 0x4A: Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break; // BININT
                case 0x8A: // LONG1
                {
                    int n = ReadBytes(1)[0];
                    Push(LongValue(ReadBytes(n)));
                    break;
                }
                case 0x47: Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case 0x58: Push(ReadUtf8(Length32(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))))); break; // BINUNICODE
                case 0x8C: Push(ReadUtf8(ReadBytes(1)[0])); break; // SHORT_BINUNICODE
                // Python 2 str (old checkpoints); torch.load decodes them as UTF-8 too.
                case 0x55: Push(ReadUtf8(ReadBytes(1)[0])); break; // SHORT_BINSTRING
                case 0x54: Push(ReadUtf8(Length32(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))))); break; // BINSTRING
                case 0x85: Push(new[] { Pop() }); break; // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case 0x74: Push(PopToMark().ToArray()); break; // TUPLE
                case 0x61: { var v = Pop(); AsList(Peek()).Add(v); break; } // APPEND
                case 0x65: { var items = PopToMark(); AsList(Peek()).AddRange(items); break; } // APPENDS
                case 0x73: { var v = Pop(); var k = Pop(); SetItem(Peek(), k, v); break; } // SETITEM
                case 0x75: // SETITEMS
                {
                    var items = PopToMark();
                    if (items.Count % 2 != 0) throw Bad("SETITEMS with an odd number of items");
                    var target = Peek();
                    for (int i = 0; i < items.Count; i += 2) SetItem(target, items[i], items[i + 1]);
                    break;
                }
                case 0x63: // GLOBAL "module\nname\n"
                {
                    string module = ReadLine();
                    string name = ReadLine();
                    Push(Global(module, name));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop() as string;
                    var module = Pop() as string;
                    if (module is null || name is null) throw Bad("STACK_GLOBAL without two strings");
                    Push(Global(module, name));
                    break;
                }
                case 0x52: // REDUCE: recorded, never called
                {
                    var args = Pop() as object?[] ?? throw Bad("REDUCE arguments are not a tuple");
                    var callable = Pop() as PickleGlobal ?? throw Bad("REDUCE on something that is not a whitelisted global");
                    Push(callable.FullName == "collections.OrderedDict" ? new Dictionary<object, object?>() : new PickleCall(callable, args));
                    break;
                }
                case 0x62: // BUILD: only OrderedDict's attribute state (_metadata), which a state_dict never needs
                {
                    Pop();
                    if (Peek() is not Dictionary<object, object?>) throw Bad("BUILD on an object that is not an OrderedDict");
                    break;
                }
                case 0x51: // BINPERSID
                {
                    var pid = Pop();
                    if (_persistentLoad is null) throw Bad("persistent id in a pickle that should have none");
                    Push(_persistentLoad(pid));
                    break;
                }
                case 0x68: Push(MemoGet(ReadBytes(1)[0])); break; // BINGET
                case 0x6A: Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET
                case 0x71: _memo[ReadBytes(1)[0]] = Peek(); break; // BINPUT
                case 0x72: _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                default:
                    throw Bad($"opcode 0x{op:x2} ('{(op >= 0x20 && op < 0x7F ? (char)op : '?')}') at offset {opOffset} is not allowed in a state_dict");
            }
        }
    }

    private PickleGlobal Global(string module, string name)
    {
        string full = $"{module}.{name}";
        if (!AllowedGlobals.Contains(full))
            throw Bad($"refusing global '{full}': only a plain state_dict of tensors can be read (nothing in the file is executed)");
        return new PickleGlobal(module, name);
    }

    private static object LongValue(ReadOnlySpan<byte> bytes)
    {
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
    }

    private void SetItem(object? target, object? key, object? value)
    {
        if (target is not Dictionary<object, object?> dict) throw Bad("SETITEM on something that is not a dict");
        if (key is null) throw Bad("dict key None");
        dict[key] = value;
    }

    private List<object?> AsList(object? o) => o as List<object?> ?? throw Bad("APPEND on something that is not a list");

    private object? MemoGet(long key) => _memo.TryGetValue(key, out var v) ? v : throw Bad($"memo key {key} used before it was set");

    private void Push(object? o) => _stack.Add(o);

    private object? Peek() => _stack.Count > 0 && _stack[^1] != Mark ? _stack[^1] : throw Bad("stack underflow");

    private object? Pop()
    {
        var o = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return o;
    }

    private List<object?> PopToMark()
    {
        if (_marks.Count == 0) throw Bad("no MARK on the stack");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(m + 1, _stack.Count - m - 1);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    private ReadOnlySpan<byte> ReadBytes(int n)
    {
        if (n < 0 || _pos + n > _data.Length) throw Bad("ends inside an opcode (truncated file?)");
        var span = _data.AsSpan(_pos, n);
        _pos += n;
        return span;
    }

    private string ReadUtf8(int n) => Encoding.UTF8.GetString(ReadBytes(n));

    /// <summary>A 32-bit length field, refused when it reaches past the pickle's end (before anything is allocated).</summary>
    private int Length32(uint n) => n <= (uint)(_data.Length - _pos) ? (int)n : throw Bad($"a string declares {n} bytes, past the end of the data (truncated or forged file)");

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0 || end - _pos > 256) throw Bad("malformed GLOBAL");
        string s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }
}
