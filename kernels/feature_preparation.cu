// Preparing resident features for the distance GEMMs, on the device, so that the host uploads each set once
// (raw float32) and never touches it again: shift by a mean, store in the GEMM's input type, and the squared
// norm of exactly the stored values. Compiled at run time by NVRTC (no host headers; the float16 conversion
// is written out in integer arithmetic so that no cuda_fp16.h is needed).

#define WARP 32
#define PREPARE_FP32 0
#define PREPARE_TF32 1
#define PREPARE_FP16 2

// cvt.rna.tf32.f32 in integer arithmetic: keep 10 mantissa bits, round to nearest with ties away from zero;
// infinities and NaN unchanged. The GEMM then reads values that are exact in TF32, whichever rounding the
// tensor cores apply to their inputs, and the norms below are norms of what the GEMM multiplies.
static __device__ __forceinline__ float round_to_tf32(float v)
{
    unsigned bits = __float_as_uint(v);
    if ((bits & 0x7f800000u) != 0x7f800000u) bits = (bits + 0x1000u) & 0xffffe000u;
    return __uint_as_float(bits);
}

// IEEE binary32 → binary16, round to nearest even (what __float2half_rn does). Values of magnitude
// ≥ 65520 become ±infinity; the caller flags them.
static __device__ __forceinline__ unsigned short float_to_half_bits(float f)
{
    unsigned x = __float_as_uint(f);
    unsigned sign = (x >> 16) & 0x8000u;
    unsigned a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) return (unsigned short)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u));
    if (a >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);            // ≥ 65520: rounds past 65504
    if (a >= 0x38800000u)                                                      // normal half (≥ 2^-14)
    {
        unsigned r = a - 0x38000000u;                                          // exponent bias 127 → 15
        r += 0xfffu + ((r >> 13) & 1u);
        return (unsigned short)(sign | (r >> 13));
    }
    if (a < 0x33000000u) return (unsigned short)sign;                          // < 2^-25: rounds to 0
    // Subnormal half: m · 2^-24 with m = round(|f| · 2^24); |f| = mant · 2^(E − 150), so shift by 126 − E.
    unsigned e = a >> 23;
    unsigned mant = (a & 0x7fffffu) | 0x800000u;
    unsigned s = 126u - e;                                                     // 14 .. 24
    unsigned q = mant >> s;
    unsigned rem = mant & ((1u << s) - 1u);
    unsigned halfway = 1u << (s - 1u);
    if (rem > halfway || (rem == halfway && (q & 1u))) q++;
    return (unsigned short)(sign | q);
}

// binary16 → binary32 (exact).
static __device__ __forceinline__ float half_bits_to_float(unsigned short h)
{
    unsigned sign = ((unsigned)h & 0x8000u) << 16;
    unsigned e = ((unsigned)h >> 10) & 0x1fu;
    unsigned m = (unsigned)h & 0x3ffu;
    if (e == 0x1fu) return __uint_as_float(sign | 0x7f800000u | (m << 13));
    if (e != 0u) return __uint_as_float(sign | ((e + 112u) << 23) | (m << 13));
    // zero or subnormal: m · 2^-24, exact in float32
    float v = (float)m * 5.9604644775390625e-8f;
    return sign ? -v : v;
}

// y[row] = x[row] − shift (shift may be null) stored as float32, TF32-rounded float32 or float16, and
// norms[row] = Σ y², summed in float64 over exactly the stored values and rounded once to float32.
// A float16 value that overflows sets *overflow (the host then refuses fp16 for these features).
// Launch: one warp per row, blockDim.x = 256 (8 rows per block), grid.x = ceil(rows / 8).
// Traffic: the raw rows read once, the prepared rows written once; deterministic (fixed reduction order).
extern "C" __global__ void __launch_bounds__(256) prepare_rows(
    const float* __restrict__ x, int rows, int dim,
    const float* __restrict__ shift, int mode,
    float* __restrict__ out_single, unsigned short* __restrict__ out_half,
    float* __restrict__ norms, int* __restrict__ overflow)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / WARP;
    int lane = threadIdx.x % WARP;
    if (row >= rows) return;

    const float* in = x + (long long)row * dim;
    double sum = 0.0;
    int overflowed = 0;
    for (int c = lane; c < dim; c += WARP)
    {
        float v = shift ? in[c] - shift[c] : in[c];
        if (mode == PREPARE_FP16)
        {
            unsigned short h = float_to_half_bits(v);
            if ((h & 0x7c00u) == 0x7c00u) overflowed = 1;
            out_half[(long long)row * dim + c] = h;
            v = half_bits_to_float(h);
        }
        else
        {
            if (mode == PREPARE_TF32) v = round_to_tf32(v);
            out_single[(long long)row * dim + c] = v;
        }
        sum += (double)v * (double)v;
    }
    for (int offset = WARP / 2; offset > 0; offset /= 2)
    {
        sum += __shfl_xor_sync(0xffffffffu, sum, offset);
        overflowed |= __shfl_xor_sync(0xffffffffu, overflowed, offset);
    }
    if (lane == 0)
    {
        norms[row] = (float)sum;
        if (overflowed) atomicMax(overflow, 1);
    }
}

// Column sums in float64 for the means the features are shifted by, in two deterministic passes (no float
// atomics, so the same input gives the same shift, bit for bit, on every run).
// Pass 1: partial[slice · dim + col] = Σ of x[row, col] over the rows of slice (rows_per_slice rows each).
// Launch: blockDim.x = 256 columns, grid = (ceil(dim / 256), slices). Coalesced: a warp reads 32 adjacent
// columns of one row.
extern "C" __global__ void __launch_bounds__(256) column_partial_sums(
    const float* __restrict__ x, int rows, int dim, int rows_per_slice, double* __restrict__ partial)
{
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= dim) return;
    int first = blockIdx.y * rows_per_slice;
    int last = min(rows, first + rows_per_slice);
    double sum = 0.0;
    for (int row = first; row < last; row++) sum += (double)x[(long long)row * dim + col];
    partial[(long long)blockIdx.y * dim + col] = sum;
}

// Pass 2: mean[col] = (Σ over slices in order of partial[slice · dim + col]) / rows, as float32.
// Launch: blockDim.x = 256, grid.x = ceil(dim / 256).
extern "C" __global__ void __launch_bounds__(256) column_means_finish(
    const double* __restrict__ partial, int slices, int dim, int rows, float* __restrict__ mean)
{
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= dim) return;
    double sum = 0.0;
    for (int s = 0; s < slices; s++) sum += partial[(long long)s * dim + col];
    mean[col] = (float)(sum / (double)rows);
}

// Lowest flat index of a non-finite value: an atomic minimum built from atomicCAS (64-bit atomicMin is not
// among the functions every target provides).
static __device__ __forceinline__ void record_first_bad(unsigned long long* first_bad, unsigned long long index)
{
    unsigned long long seen = *first_bad;
    while (index < seen)
    {
        unsigned long long previous = atomicCAS(first_bad, seen, index);
        if (previous == seen) break;
        seen = previous;
    }
}

// For the float64 statistics: out = x − shift per element (row-major [rows, dim], widened to float64), and the
// flat index (row_start + row)·dim + col of the first NaN or infinite input into *first_bad (initialised to
// all ones by the host). Two entry points, float64 input (a streamed file) and float32 input (resident
// features, shifted by their float32 device mean).
// Launch: blockDim.x = 256, grid.x = min(ceil(rows·dim / 256), 65535), grid-stride.
template <typename T, typename S>
static __device__ __forceinline__ void shift_rows_to_f64(const T* __restrict__ x, int rows, int dim, const S* __restrict__ shift,
    long long row_start, double* __restrict__ out, unsigned long long* __restrict__ first_bad)
{
    long long total = (long long)rows * dim;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride)
    {
        double v = (double)x[i];
        // NaN − NaN and inf − inf are NaN, which compares unequal to everything: one test for both.
        if (!(v - v == 0.0)) record_first_bad(first_bad, (unsigned long long)(row_start * dim + i));
        out[i] = v - (double)shift[i % dim];
    }
}

extern "C" __global__ void __launch_bounds__(256) shift_rows_f64(
    const double* __restrict__ x, int rows, int dim, const double* __restrict__ shift,
    long long row_start, double* __restrict__ out, unsigned long long* __restrict__ first_bad)
{
    shift_rows_to_f64(x, rows, dim, shift, row_start, out, first_bad);
}

extern "C" __global__ void __launch_bounds__(256) shift_rows_f32_to_f64(
    const float* __restrict__ x, int rows, int dim, const float* __restrict__ shift,
    long long row_start, double* __restrict__ out, unsigned long long* __restrict__ first_bad)
{
    shift_rows_to_f64(x, rows, dim, shift, row_start, out, first_bad);
}
