// Shared by the distance kernels. Inlined into each kernel file by KernelSources.Read (NVRTC gets one
// self-contained source); clang's check and nvcc resolve the include directive as usual.
#pragma once

#define GM_FULL_MASK 0xffffffffu
#define GM_WARP 32
// +inf from its bits: does not depend on NVRTC predefining INFINITY (only <math.h> promises it).
#define GM_INF_BITS __int_as_float(0x7f800000)

// Full unrolling of loops over small fixed arrays, so that the arrays live in registers (an array indexed by
// a value the compiler cannot fold is placed in local memory). g++ (the CPU emulator) spells it differently.
#if defined(GENMETRICS_CUDA_EMULATOR)
#define GM_UNROLL _Pragma("GCC unroll 64")
#else
#define GM_UNROLL _Pragma("unroll")
#endif

// Whether a distance this close to 0 may be the rounding residue of two identical rows: cuBLAS sums a·b in an
// order the norms cannot follow, so ‖a‖² + ‖b‖² − 2a·b of a duplicate is a small positive number instead of the
// CPU backend's exact 0. Below the bound (4x the worst float32-accumulation error of the Gram form,
// (D + 2)·2⁻²⁴·(‖a‖² + ‖b‖²), twice over) the stored rows are compared and identical ones are exactly 0
// apart. Rare in real data (only near-duplicates pay the row comparison), free otherwise.
static __device__ __forceinline__ bool may_be_identical(float d, float norm_sum, int dim)
{
    return !(d > (float)(dim + 2) * 2.384185791015625e-7f * norm_sum);
}

// Whether n float32 values at a and b are equal, decided by the whole warp: lane l reads values l, l + 32, ...
// (float4 l, l + 32, ... when both rows are 16-byte aligned and n is a multiple of 4), so one warp-wide load
// covers 32 (128) values, and the comparison stops at the first chunk holding a difference. a, b and n must be
// the same in every lane. Collective: all 32 lanes, warp-uniform control flow.
static __device__ __forceinline__ bool warp_equal_f32(const float* __restrict__ a, const float* __restrict__ b, long long n, int lane)
{
    if (n % 4 == 0 && ((((unsigned long long)a) | ((unsigned long long)b)) & 15ull) == 0)
    {
        const float4* a4 = (const float4*)a;
        const float4* b4 = (const float4*)b;
        long long n4 = n / 4;
        for (long long base = 0; base < n4; base += GM_WARP)
        {
            long long c = base + lane;
            int differ = 0;
            if (c < n4)
            {
                float4 x = a4[c], y = b4[c];
                differ = x.x != y.x || x.y != y.y || x.z != y.z || x.w != y.w;
            }
            if (__any_sync(GM_FULL_MASK, differ)) return false;
        }
        return true;
    }
    for (long long base = 0; base < n; base += GM_WARP)
    {
        long long c = base + lane;
        int differ = c < n && a[c] != b[c];
        if (__any_sync(GM_FULL_MASK, differ)) return false;
    }
    return true;
}

// The same for float16 bit patterns (compared as bits, as the rows were stored).
static __device__ __forceinline__ bool warp_equal_u16(const unsigned short* __restrict__ a, const unsigned short* __restrict__ b, long long n, int lane)
{
    for (long long base = 0; base < n; base += GM_WARP)
    {
        long long c = base + lane;
        int differ = c < n && a[c] != b[c];
        if (__any_sync(GM_FULL_MASK, differ)) return false;
    }
    return true;
}

// exact_if_identical for a whole warp: each lane brings one distance d of the pair (a_row of a, b_row of b) and
// whether it is a real pair (valid); lanes whose d is below the bound are listed with a ballot and their row
// pairs compared one after the other by all 32 lanes together (warp_equal_*). Returns 0 for a lane whose rows
// are identical, else its d. One ballot when no lane is near 0 (the normal case). Collective: all 32 lanes of
// the warp call it in warp-uniform control flow (no lane may have exited).
//
// a_class / b_class (both null, or both set): each row's identical-row class (verify_row_classes): rows with
// the same class ≥ 0 are identical, rows with different classes ≥ 0 are not, and only a row of class −1
// (a hash collision, practically never) needs the comparison. With classes a set of 50k identical rows costs
// two loads per pair instead of two D-long rows.
static __device__ __forceinline__ float warp_exact_if_identical(int valid, float d, float norm_sum, int dim,
    const float* __restrict__ a32, const unsigned short* __restrict__ a16, long long a_row, const int* __restrict__ a_class,
    const float* __restrict__ b32, const unsigned short* __restrict__ b16, long long b_row, const int* __restrict__ b_class)
{
    int lane = threadIdx.x % GM_WARP;
    int need = valid && may_be_identical(d, norm_sum, dim);
    int same_here = 0;
    if (need && a_class)
    {
        int ca = a_class[a_row], cb = b_class[b_row];
        if (ca >= 0 && cb >= 0)
        {
            same_here = ca == cb;
            need = 0;
        }
    }
    unsigned pending = __ballot_sync(GM_FULL_MASK, need);
    while (pending)
    {
        int s = __ffs((int)pending) - 1;
        pending &= pending - 1u;
        long long ar = __shfl_sync(GM_FULL_MASK, a_row, s);
        long long br = __shfl_sync(GM_FULL_MASK, b_row, s);
        bool same = a32 ? warp_equal_f32(a32 + ar * dim, b32 + br * dim, dim, lane)
                        : warp_equal_u16(a16 + ar * dim, b16 + br * dim, dim, lane);
        if (lane == s) same_here = same;
    }
    return same_here ? 0.0f : d;
}

// The address of row r of a set stored as float32 (a32) or float16 bits (a16; a32 null).
static __device__ __forceinline__ const float* row_f32(const float* a32, long long r, int dim) { return a32 ? a32 + r * dim : 0; }
static __device__ __forceinline__ const unsigned short* row_u16(const unsigned short* a16, long long r, int dim) { return a16 ? a16 + r * dim : 0; }

// splitmix64's finaliser: a well-mixed 64-bit function of x.
static __device__ __forceinline__ unsigned long long mix64(unsigned long long x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

// Inserts key (with its index) into the ascending register list of the keep smallest so far, and returns the
// new largest kept (list[keep - 1]). Precondition: key < list[keep - 1]. Fully unrolled with compile-time
// indices only, so list and index stay in registers; entries at keep and beyond are never touched.
template <int N>
static __device__ __forceinline__ float insert_smallest_registers(float (&list)[N], int (&index)[N], int keep, float key, int idx)
{
    float last = GM_INF_BITS;
    GM_UNROLL
    for (int p = N - 1; p >= 0; p--)
    {
        if (p < keep)
        {
            float below = p > 0 ? list[p > 0 ? p - 1 : 0] : -GM_INF_BITS;
            int below_index = index[p > 0 ? p - 1 : 0];
            if (below > key)
            {
                list[p] = below;
                index[p] = below_index;
            }
            else if (list[p] > key)
            {
                list[p] = key;
                index[p] = idx;
            }
            if (p == keep - 1) last = list[p];
        }
    }
    return last;
}

// Σ (a − b)² in float64, one term after the other: the "plain float64" distance of the exact decisions, bit for
// bit the CPU backend's DistanceErrorBound.ExactSquaredDistance. The kernels are compiled with --fmad=false so
// that t·t + s is not contracted into an FMA (which would round differently).
static __device__ __forceinline__ double exact_squared_distance(const float* __restrict__ a, const float* __restrict__ b, int dim)
{
    double s = 0.0;
    for (int c = 0; c < dim; c++)
    {
        double t = (double)a[c] - (double)b[c];
        s += t * t;
    }
    return s;
}
