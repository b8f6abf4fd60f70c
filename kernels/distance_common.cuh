// Shared by the distance kernels. Inlined into each kernel file by KernelSources.Read (NVRTC gets one
// self-contained source); clang's check and nvcc resolve the include directive as usual.
#pragma once

// A distance this close to 0 may be the rounding residue of two identical rows: cuBLAS sums a·b in an order
// the norms cannot follow, so ‖a‖² + ‖b‖² − 2a·b of a duplicate is a small positive number instead of the
// CPU backend's exact 0. Below the bound (4x the worst float32-accumulation error of the Gram form,
// (D + 2)·2⁻²⁴·(‖a‖² + ‖b‖²), twice over) the stored rows are compared and identical ones are exactly 0
// apart. Rare in real data (only near-duplicates pay the row comparison), free otherwise.
static __device__ __forceinline__ float exact_if_identical(float d, float norm_sum, int dim,
    const float* __restrict__ a32, const unsigned short* __restrict__ a16, long long a_row,
    const float* __restrict__ b32, const unsigned short* __restrict__ b16, long long b_row)
{
    if (d > (float)(dim + 2) * 2.384185791015625e-7f * norm_sum) return d;
    if (a32)
    {
        const float* a = a32 + a_row * dim;
        const float* b = b32 + b_row * dim;
        for (int c = 0; c < dim; c++)
            if (a[c] != b[c]) return d;
    }
    else
    {
        const unsigned short* a = a16 + a_row * dim;
        const unsigned short* b = b16 + b_row * dim;
        for (int c = 0; c < dim; c++)
            if (a[c] != b[c]) return d;
    }
    return 0.0f;
}

// Inserts key (with its index) into the ascending list of the keep smallest so far (list[keep - 1] is the
// largest kept); a key ≥ the largest kept is dropped.
static __device__ __forceinline__ void insert_smallest(float* list, int* index, int keep, float key, int idx)
{
    if (!(key < list[keep - 1])) return;
    int p = keep - 1;
    while (p > 0 && list[p - 1] > key)
    {
        list[p] = list[p - 1];
        index[p] = index[p - 1];
        p--;
    }
    list[p] = key;
    index[p] = idx;
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
