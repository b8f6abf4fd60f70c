// Row-wise (per fake) and column-wise (per real) reductions of one fake x real tile of squared distances.
// Compiled at run time by NVRTC (no host headers). The tile holds G = F·Rᵀ from cuBLAS (row-major,
// rows x cols, leading dimension ld); d² = ‖f‖² + ‖r‖² − 2·G, clamped at 0, is never stored. The *_values
// pointers (one of each pair null) are the rows the GEMM multiplied, [N, dim], for exact_if_identical.

#define CROSS_MAX_K 8
#define WARP 32
// +inf from its bits: does not depend on NVRTC predefining INFINITY (only <math.h> promises it).
#define GM_INFINITY __int_as_float(0x7f800000)

static __device__ __forceinline__ float cross_distance(float dot, float row_norm, float col_norm)
{
    float d = row_norm + col_norm - 2.0f * dot;
    return d > 0.0f ? d : 0.0f;
}

#include "distance_common.cuh"

// Per fake row: counts of d² ≤ r²_j(k) and d² < r²_j(k) for each k, min d² with its lowest argmin, and
// the realism maximum of R_j / (d² + eps). Accumulates into per-row state across column tiles (column
// tiles run in order on one stream, so a strict "<" keeps the lowest index on ties).
// Launch: one warp per tile row, blockDim.x = 256, grid.x = ceil(rows / 8).
// Traffic: the tile once (coalesced), num_k + 1 radii per column (cached, shared by all rows), O(num_k) per row.
extern "C" __global__ void __launch_bounds__(256) cross_rows_tile(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
    int dim, const float* __restrict__ fake_values, const unsigned short* __restrict__ fake_values_f16,
    const float* __restrict__ real_values, const unsigned short* __restrict__ real_values_f16,
    int row_start, int col_start, int num_k,
    const float* __restrict__ real_radii, int n_real,
    const float* __restrict__ realism_radii, float realism_eps,
    int* __restrict__ count_le, int* __restrict__ count_lt, int n_fake,
    float* __restrict__ row_min, int* __restrict__ row_argmin, float* __restrict__ realism)
{
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / WARP;
    int lane = threadIdx.x % WARP;
    if (warp >= rows) return;
    int row = row_start + warp;

    int le[CROSS_MAX_K];
    int lt[CROSS_MAX_K];
    for (int k = 0; k < CROSS_MAX_K; k++)
    {
        le[k] = 0;
        lt[k] = 0;
    }
    float best = GM_INFINITY;
    int best_index = 0x7fffffff;
    float ratio_max = -GM_INFINITY;

    float row_norm = row_norms[row];
    const float* g = tile + (long long)warp * ld;
    for (int j = lane; j < cols; j += WARP)
    {
        int col = col_start + j;
        float col_norm = col_norms[col];
        float d = exact_if_identical(cross_distance(g[j], row_norm, col_norm), row_norm + col_norm, dim,
            fake_values, fake_values_f16, row, real_values, real_values_f16, col);
        for (int k = 0; k < num_k; k++)
        {
            float r = real_radii[(long long)k * n_real + col];
            le[k] += d <= r ? 1 : 0;
            lt[k] += d < r ? 1 : 0;
        }
        if (d < best)
        {
            best = d;
            best_index = col;
        }
        if (realism_radii)
        {
            float ratio = realism_radii[col] / (d + realism_eps);
            if (ratio > ratio_max) ratio_max = ratio;
        }
    }

    for (int offset = WARP / 2; offset > 0; offset /= 2)
    {
        for (int k = 0; k < num_k; k++)
        {
            le[k] += __shfl_xor_sync(0xffffffffu, le[k], offset);
            lt[k] += __shfl_xor_sync(0xffffffffu, lt[k], offset);
        }
        float ob = __shfl_xor_sync(0xffffffffu, best, offset);
        int oi = __shfl_xor_sync(0xffffffffu, best_index, offset);
        if (ob < best || (ob == best && oi < best_index))
        {
            best = ob;
            best_index = oi;
        }
        float orat = __shfl_xor_sync(0xffffffffu, ratio_max, offset);
        if (orat > ratio_max) ratio_max = orat;
    }

    if (lane != 0) return;
    for (int k = 0; k < num_k; k++)
    {
        count_le[(long long)k * n_fake + row] += le[k];
        count_lt[(long long)k * n_fake + row] += lt[k];
    }
    if (best < row_min[row])
    {
        row_min[row] = best;
        row_argmin[row] = best_index;
    }
    if (realism_radii && ratio_max > realism[row]) realism[row] = ratio_max;
}

// Per real column: whether some fake g has d² ≤ ρ²_g(k) (and d² < ρ²_g(k)) for each k, and min d².
// Launch: blockDim.x = 256 columns, grid = (ceil(cols / 256), ceil(rows / rows_per_block)); each thread
// scans rows_per_block rows of its column and publishes with atomics (flags with atomicMax, the minimum
// with atomicMin on the float's bits, which order like the floats because d² ≥ 0).
// Traffic: the tile once (coalesced across the block's columns), the fake radii broadcast per row.
extern "C" __global__ void __launch_bounds__(256) cross_cols_tile(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
    int dim, const float* __restrict__ fake_values, const unsigned short* __restrict__ fake_values_f16,
    const float* __restrict__ real_values, const unsigned short* __restrict__ real_values_f16,
    int row_start, int col_start, int num_k, int rows_per_block,
    const float* __restrict__ fake_radii, int n_fake,
    int* __restrict__ any_le, int* __restrict__ any_lt, int n_real,
    float* __restrict__ col_min)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    int col = col_start + j;
    int first = blockIdx.y * rows_per_block;
    int last = min(rows, first + rows_per_block);

    unsigned le_bits = 0u, lt_bits = 0u;
    float best = GM_INFINITY;
    float col_norm = col_norms[col];
    for (int i = first; i < last; i++)
    {
        int row = row_start + i;
        float row_norm = row_norms[row];
        float d = exact_if_identical(cross_distance(tile[(long long)i * ld + j], row_norm, col_norm), row_norm + col_norm, dim,
            fake_values, fake_values_f16, row, real_values, real_values_f16, col);
        if (d < best) best = d;
        for (int k = 0; k < num_k; k++)
        {
            float r = fake_radii[(long long)k * n_fake + row];
            if (d <= r) le_bits |= 1u << k;
            if (d < r) lt_bits |= 1u << k;
        }
    }
    for (int k = 0; k < num_k; k++)
    {
        if (le_bits & (1u << k)) atomicMax(&any_le[(long long)k * n_real + col], 1);
        if (lt_bits & (1u << k)) atomicMax(&any_lt[(long long)k * n_real + col], 1);
    }
    if (first < last) atomicMin((int*)&col_min[col], __float_as_int(best));
}
