namespace GenMetrics.Randomness;

/// <summary>
/// The draws of NumPy's legacy <c>np.random.RandomState(seed)</c> that the reference tools use, bit for
/// bit: MT19937 seeded with <c>init_genrand(seed)</c>, <c>permutation</c>/<c>choice(replace=False)</c>
/// (Fisher–Yates with masked rejection, metrics-spec §11), <c>random_sample</c> (53-bit doubles) and
/// <c>randn</c> (polar Box–Muller with the cached second value). torch-fidelity draws its KID subsets
/// and its IS shuffle from RandomState(2020); matching it needs exactly these sequences.
/// </summary>
public sealed class NumpyRandomState
{
    private const int StateSize = 624;
    private const int ShiftSize = 397;
    private readonly uint[] _mt = new uint[StateSize];
    private int _index;
    private bool _hasGauss;
    private double _gauss;

    public NumpyRandomState(uint seed)
    {
        Seed = seed;
        _mt[0] = seed;
        for (int i = 1; i < StateSize; i++)
            _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i;
        _index = StateSize;
    }

    public uint Seed { get; }

    /// <summary>MT19937 genrand_int32.</summary>
    public uint NextUInt32()
    {
        if (_index >= StateSize) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    private void Twist()
    {
        const uint upper = 0x80000000u, lower = 0x7fffffffu, matrixA = 0x9908b0dfu;
        for (int i = 0; i < StateSize; i++)
        {
            uint y = (_mt[i] & upper) | (_mt[(i + 1) % StateSize] & lower);
            uint v = _mt[(i + ShiftSize) % StateSize] ^ (y >> 1);
            if ((y & 1) != 0) v ^= matrixA;
            _mt[i] = v;
        }
        _index = 0;
    }

    /// <summary>NumPy's next_uint64 for MT19937: two 32-bit draws, the first one high.</summary>
    public ulong NextUInt64()
    {
        ulong high = NextUInt32();
        return (high << 32) | NextUInt32();
    }

    /// <summary><c>random_sample()</c>: a 53-bit double in [0, 1) from two draws (27 + 26 bits).</summary>
    public double RandomSample()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary>
    /// <c>randn()</c> / <c>standard_normal()</c> of the legacy generator: the polar method, which yields two
    /// values per accepted pair; the second is cached for the next call (as NumPy does).
    /// </summary>
    public double StandardNormal()
    {
        if (_hasGauss)
        {
            _hasGauss = false;
            return _gauss;
        }
        double x1, x2, r2;
        do
        {
            x1 = 2.0 * RandomSample() - 1.0;
            x2 = 2.0 * RandomSample() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        double f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        _gauss = f * x1;
        _hasGauss = true;
        return f * x2;
    }

    /// <summary>Uniform integer in [0, max] by masked rejection (NumPy's random_interval).</summary>
    public ulong RandomInterval(ulong max)
    {
        if (max == 0) return 0;
        ulong mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        mask |= mask >> 32;
        ulong value;
        if (max <= 0xffffffffUL)
        {
            while ((value = NextUInt32() & mask) > max) { }
        }
        else
        {
            while ((value = NextUInt64() & mask) > max) { }
        }
        return value;
    }

    /// <summary><c>permutation(n)</c>: Fisher–Yates over 0..n−1 from the last position down.</summary>
    public int[] Permutation(int n)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n));
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i >= 1; i--)
        {
            int j = (int)RandomInterval((ulong)i);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    /// <summary><c>choice(n, m, replace=False)</c> of the legacy generator: the first m entries of permutation(n).</summary>
    public int[] ChoiceWithoutReplacement(int n, int m)
    {
        if (m < 0 || m > n) throw new ArgumentOutOfRangeException(nameof(m), $"cannot take {m} of {n} without replacement");
        return Permutation(n)[..m];
    }
}
