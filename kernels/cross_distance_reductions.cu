// Row-wise (per fake) and column-wise (per real) reductions of one fake x real tile of squared distances.
// Compiled at run time by NVRTC (no host headers). The tile holds G = F·Rᵀ from cuBLAS (row-major,
// rows x cols, leading dimension ld); d̃ = ‖f‖² + ‖r‖² − 2·G, clamped at 0, is never stored. The *_values
// pointers (one of each pair null) are the rows the GEMM multiplied, [N, dim], for warp_exact_if_identical;
// fake_rows / real_rows are the ORIGINAL float32 rows, for the float64 recomputation.
//
// Exact decisions: |d̃ − d| ≤ e(f) + e(r) (fake_terms / real_terms, the host's DistanceErrorBound rounded up).
// Radii come as float64 values (*_exact) and as float32 bands: *_low = radius − e(own row) rounded down,
// *_high = radius + e(own row) rounded up. A comparison is certain when d̃ ± the other row's term is outside
// the band; otherwise d is recomputed in float64 (exact_squared_distance) and compared with the float64 radius.
// counters[0] += comparisons decided in float64 (row kernel: against real radii; column kernel: against fake
// radii), counters[1] += float64 distances evaluated.

#define CROSS_MAX_K 8
#define WARP 32
// +inf from its bits: does not depend on NVRTC predefining INFINITY (only <math.h> promises it).
#define GM_INFINITY __int_as_float(0x7f800000)
// Relative slack of the float32 realism-ratio bounds (a few roundings of 2^-24 each, with room to spare).
#define RATIO_DOWN (1.0f - 9.5367431640625e-7f)
#define RATIO_UP (1.0f + 9.5367431640625e-7f)

static __device__ __forceinline__ float cross_distance(float dot, float row_norm, float col_norm)
{
    float d = row_norm + col_norm - 2.0f * dot;
    return d > 0.0f ? d : 0.0f;
}

#include "distance_common.cuh"

// Per fake row: counts of d ≤ r_j(k) and d < r_j(k) for each k, whether some real lies strictly inside the
// fake's own ball (complement), min d̃ with its lowest argmin, and the exact realism maximum of R_j / (d + eps).
// Accumulates into per-row state across column tiles (column tiles run in order on one stream, so a strict
// "<" keeps the lowest index on ties).
// Realism in two sweeps of the tile row: the largest lower bound of the ratio first, then a float64 ratio for
// every column whose upper bound reaches it (normally just the maximum).
// Launch: one warp per tile row, blockDim.x = 256, grid.x = ceil(rows / 8).
// Per-k state (counts, own bands) is in registers (loops over CROSS_MAX_K fully unrolled, guarded by num_k);
// every lane runs the same number of steps of 4 columns (float4 loads where the tile rows are 16-byte
// aligned), so that near-0 distances are checked for identical rows by the whole warp.
// Traffic: the tile once (twice with realism), coalesced; 2·num_k + 1 band values per column (cached, shared
// by all rows); O(num_k) per row.
extern "C" __global__ void __launch_bounds__(256) cross_rows_tile(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
    const float* __restrict__ fake_terms, const float* __restrict__ real_terms,
    int dim, const float* __restrict__ fake_values, const unsigned short* __restrict__ fake_values_f16,
    const float* __restrict__ real_values, const unsigned short* __restrict__ real_values_f16,
    const int* __restrict__ fake_class, const int* __restrict__ real_class,
    const float* __restrict__ fake_rows, const float* __restrict__ real_rows,
    int row_start, int col_start, int num_k,
    const float* __restrict__ real_low, const float* __restrict__ real_high, const double* __restrict__ real_exact, int n_real,
    const float* __restrict__ fake_low, const float* __restrict__ fake_high, const double* __restrict__ fake_exact, int n_fake,
    const float* __restrict__ realism_low, const float* __restrict__ realism_high, const double* __restrict__ realism_exact, float realism_eps,
    int* __restrict__ count_le, int* __restrict__ count_lt, int* __restrict__ complement,
    float* __restrict__ row_min, int* __restrict__ row_argmin,
    float* __restrict__ realism_lower, double* __restrict__ realism_best, int* __restrict__ realism_evals,
    unsigned long long* __restrict__ counters)
{
    int warp = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP);
    int lane = threadIdx.x % WARP;
    if (warp >= rows) return; // whole warps only: the collectives below see all 32 lanes
    int row = row_start + warp;

    int le[CROSS_MAX_K];
    int lt[CROSS_MAX_K];
    float own_low[CROSS_MAX_K];
    float own_high[CROSS_MAX_K];
    double own_radius[CROSS_MAX_K];
    GM_UNROLL
    for (int k = 0; k < CROSS_MAX_K; k++)
    {
        le[k] = 0;
        lt[k] = 0;
        own_low[k] = 0.0f;
        own_high[k] = 0.0f;
        own_radius[k] = 0.0;
        if (k < num_k)
        {
            own_low[k] = fake_low[(long long)k * n_fake + row];
            own_high[k] = fake_high[(long long)k * n_fake + row];
            own_radius[k] = fake_exact[(long long)k * n_fake + row];
        }
    }
    unsigned comp_bits = 0u;
    unsigned long long refined = 0ull, evaluated = 0ull;
    float best = GM_INFINITY;
    int best_index = 0x7fffffff;
    float ratio_lower = -GM_INFINITY;

    float row_norm = row_norms[row];
    float eg = fake_terms[row];
    const float* g = tile + (long long)warp * ld;
    const float* fake_row = fake_rows + (long long)row * dim;
    bool vector_rows = ld % 4 == 0 && (((unsigned long long)tile) & 15ull) == 0;
    for (int base = 0; base < cols; base += 4 * WARP)
    {
        int j0 = base + 4 * lane;
        float4 v;
        if (vector_rows && j0 + 3 < cols) v = *(const float4*)(g + j0);
        else
        {
            v.x = j0 < cols ? g[j0] : 0.0f;
            v.y = j0 + 1 < cols ? g[j0 + 1] : 0.0f;
            v.z = j0 + 2 < cols ? g[j0 + 2] : 0.0f;
            v.w = j0 + 3 < cols ? g[j0 + 3] : 0.0f;
        }
        for (int c = 0; c < 4; c++)
        {
            float dot = c == 0 ? v.x : c == 1 ? v.y : c == 2 ? v.z : v.w;
            int valid = j0 + c < cols;
            int col = col_start + (valid ? j0 + c : 0);
            float col_norm = col_norms[col];
            float d = warp_exact_if_identical(valid, cross_distance(dot, row_norm, col_norm), row_norm + col_norm, dim,
                fake_values, fake_values_f16, row, fake_class, real_values, real_values_f16, col, real_class);
            if (!valid) continue; // no collective below this point in the step
            float ej = real_terms[col];
            float up = d + eg, down = d - eg, up_own = d + ej, down_own = d - ej;
            int have = 0;
            double exact = 0.0;
            GM_UNROLL
            for (int k = 0; k < CROSS_MAX_K; k++)
            {
                if (k >= num_k) continue;
                long long at = (long long)k * n_real + col;
                if (up < real_low[at])
                {
                    le[k]++;
                    lt[k]++;
                }
                else if (down <= real_high[at])
                {
                    if (!have)
                    {
                        exact = exact_squared_distance(fake_row, real_rows + (long long)col * dim, dim);
                        have = 1;
                        evaluated++;
                    }
                    refined++;
                    double r = real_exact[at];
                    le[k] += exact <= r ? 1 : 0;
                    lt[k] += exact < r ? 1 : 0;
                }
                if (!(comp_bits & (1u << k)))
                {
                    if (up_own < own_low[k]) comp_bits |= 1u << k;
                    else if (down_own <= own_high[k])
                    {
                        // Counted by the column kernel, which decides the same comparison for recall.
                        if (!have)
                        {
                            exact = exact_squared_distance(fake_row, real_rows + (long long)col * dim, dim);
                            have = 1;
                            evaluated++;
                        }
                        if (exact < own_radius[k]) comp_bits |= 1u << k;
                    }
                }
            }
            if (d < best || (d == best && col < best_index))
            {
                best = d;
                best_index = col;
            }
            if (realism_low)
            {
                float ratio = realism_low[col] / (up + ej + realism_eps) * RATIO_DOWN;
                if (ratio > ratio_lower) ratio_lower = ratio;
            }
        }
    }

    for (int offset = WARP / 2; offset > 0; offset /= 2)
    {
        GM_UNROLL
        for (int k = 0; k < CROSS_MAX_K; k++)
        {
            if (k >= num_k) continue;
            le[k] += __shfl_xor_sync(GM_FULL_MASK, le[k], offset);
            lt[k] += __shfl_xor_sync(GM_FULL_MASK, lt[k], offset);
        }
        comp_bits |= __shfl_xor_sync(GM_FULL_MASK, comp_bits, offset);
        refined += __shfl_xor_sync(GM_FULL_MASK, refined, offset);
        evaluated += __shfl_xor_sync(GM_FULL_MASK, evaluated, offset);
        float ob = __shfl_xor_sync(GM_FULL_MASK, best, offset);
        int oi = __shfl_xor_sync(GM_FULL_MASK, best_index, offset);
        if (ob < best || (ob == best && oi < best_index))
        {
            best = ob;
            best_index = oi;
        }
        float orat = __shfl_xor_sync(GM_FULL_MASK, ratio_lower, offset);
        if (orat > ratio_lower) ratio_lower = orat;
    }

    if (realism_low)
    {
        // Sweep 2: every lane knows the warp's largest lower bound (and the earlier tiles').
        float previous = realism_lower[row];
        if (previous > ratio_lower) ratio_lower = previous;
        double ratio_best = -(double)GM_INFINITY;
        int evals = 0;
        for (int base = 0; base < cols; base += WARP)
        {
            int j = base + lane;
            int valid = j < cols;
            int col = col_start + (valid ? j : 0);
            float col_norm = col_norms[col];
            float d = warp_exact_if_identical(valid, cross_distance(valid ? g[j] : 0.0f, row_norm, col_norm), row_norm + col_norm, dim,
                fake_values, fake_values_f16, row, fake_class, real_values, real_values_f16, col, real_class);
            if (!valid) continue;
            float low = d - eg - real_terms[col];
            float upper = realism_high[col] / ((low > 0.0f ? low : 0.0f) + realism_eps) * RATIO_UP;
            if (!(upper >= ratio_lower)) continue;
            double exact = exact_squared_distance(fake_row, real_rows + (long long)col * dim, dim);
            double ratio = realism_exact[col] / (exact + (double)realism_eps);
            if (ratio > ratio_best || evals == 0) ratio_best = ratio;
            evals++;
        }
        for (int offset = WARP / 2; offset > 0; offset /= 2)
        {
            double o = __shfl_xor_sync(GM_FULL_MASK, ratio_best, offset);
            if (o > ratio_best) ratio_best = o;
            evals += __shfl_xor_sync(GM_FULL_MASK, evals, offset);
        }
        if (lane == 0)
        {
            realism_lower[row] = ratio_lower;
            if (evals > 0 && (realism_evals[row] == 0 || ratio_best > realism_best[row])) realism_best[row] = ratio_best;
            realism_evals[row] += evals;
            evaluated += (unsigned long long)evals;
        }
    }

    if (lane != 0) return;
    GM_UNROLL
    for (int k = 0; k < CROSS_MAX_K; k++)
    {
        if (k >= num_k) continue;
        count_le[(long long)k * n_fake + row] += le[k];
        count_lt[(long long)k * n_fake + row] += lt[k];
        if (comp_bits & (1u << k)) complement[(long long)k * n_fake + row] = 1;
    }
    if (best < row_min[row])
    {
        row_min[row] = best;
        row_argmin[row] = best_index;
    }
    if (refined) atomicAdd(&counters[0], refined);
    if (evaluated) atomicAdd(&counters[1], evaluated);
}

// Per real column: whether some fake g has d ≤ ρ_g(k) (and d < ρ_g(k)) for each k (recall), whether some fake
// lies strictly inside the real's own ball r_j(k) (coverage), and min d̃.
// Launch: blockDim.x = 256 columns, grid = (ceil(cols / 256), ceil(rows / rows_per_block)); each thread
// scans rows_per_block rows of its column and publishes with atomics (flags with atomicMax, the minimum
// with atomicMin on the float's bits, which order like the floats because d² ≥ 0). Lanes past the last column
// stay in the loop (inactive) so that the warp-wide identical-row check sees all 32 lanes.
// Traffic: the tile once (coalesced across the block's columns), the fake bands broadcast per row.
extern "C" __global__ void __launch_bounds__(256) cross_cols_tile(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
    const float* __restrict__ fake_terms, const float* __restrict__ real_terms,
    int dim, const float* __restrict__ fake_values, const unsigned short* __restrict__ fake_values_f16,
    const float* __restrict__ real_values, const unsigned short* __restrict__ real_values_f16,
    const int* __restrict__ fake_class, const int* __restrict__ real_class,
    const float* __restrict__ fake_rows, const float* __restrict__ real_rows,
    int row_start, int col_start, int num_k, int rows_per_block,
    const float* __restrict__ fake_low, const float* __restrict__ fake_high, const double* __restrict__ fake_exact, int n_fake,
    const float* __restrict__ real_low, const float* __restrict__ real_high, const double* __restrict__ real_exact, int n_real,
    int* __restrict__ any_le, int* __restrict__ any_lt, int* __restrict__ covered,
    float* __restrict__ col_min, unsigned long long* __restrict__ counters)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int valid = j < cols;
    int col = col_start + (valid ? j : 0);
    int first = blockIdx.y * rows_per_block;
    int last = min(rows, first + rows_per_block);

    float own_low[CROSS_MAX_K];
    float own_high[CROSS_MAX_K];
    double own_radius[CROSS_MAX_K];
    GM_UNROLL
    for (int k = 0; k < CROSS_MAX_K; k++)
    {
        own_low[k] = 0.0f;
        own_high[k] = 0.0f;
        own_radius[k] = 0.0;
        if (k < num_k)
        {
            own_low[k] = real_low[(long long)k * n_real + col];
            own_high[k] = real_high[(long long)k * n_real + col];
            own_radius[k] = real_exact[(long long)k * n_real + col];
        }
    }
    unsigned le_bits = 0u, lt_bits = 0u, cov_bits = 0u;
    unsigned long long refined = 0ull, evaluated = 0ull;
    float best = GM_INFINITY;
    float col_norm = col_norms[col];
    float ej = real_terms[col];
    const float* real_row = real_rows + (long long)col * dim;
    for (int i = first; i < last; i++)
    {
        int row = row_start + i;
        float row_norm = row_norms[row];
        float dot = valid ? tile[(long long)i * ld + j] : 0.0f;
        float d = warp_exact_if_identical(valid, cross_distance(dot, row_norm, col_norm), row_norm + col_norm, dim,
            fake_values, fake_values_f16, row, fake_class, real_values, real_values_f16, col, real_class);
        if (!valid) continue;
        if (d < best) best = d;
        float eg = fake_terms[row];
        float up = d + ej, down = d - ej, up_own = d + eg, down_own = d - eg;
        int have = 0;
        double exact = 0.0;
        GM_UNROLL
        for (int k = 0; k < CROSS_MAX_K; k++)
        {
            if (k >= num_k) continue;
            long long at = (long long)k * n_fake + row;
            unsigned bit = 1u << k;
            if (up < fake_low[at])
            {
                le_bits |= bit;
                lt_bits |= bit;
            }
            else if (down <= fake_high[at])
            {
                if (!have)
                {
                    exact = exact_squared_distance(fake_rows + (long long)row * dim, real_row, dim);
                    have = 1;
                    evaluated++;
                }
                refined++;
                double rho = fake_exact[at];
                if (exact <= rho) le_bits |= bit;
                if (exact < rho) lt_bits |= bit;
            }
            if (!(cov_bits & bit))
            {
                if (up_own < own_low[k]) cov_bits |= bit;
                else if (down_own <= own_high[k])
                {
                    // Counted by the row kernel, which decides the same comparison for precision and density.
                    if (!have)
                    {
                        exact = exact_squared_distance(fake_rows + (long long)row * dim, real_row, dim);
                        have = 1;
                        evaluated++;
                    }
                    if (exact < own_radius[k]) cov_bits |= bit;
                }
            }
        }
    }
    if (!valid) return;
    GM_UNROLL
    for (int k = 0; k < CROSS_MAX_K; k++)
    {
        if (k >= num_k) continue;
        if (le_bits & (1u << k)) atomicMax(&any_le[(long long)k * n_real + col], 1);
        if (lt_bits & (1u << k)) atomicMax(&any_lt[(long long)k * n_real + col], 1);
        if (cov_bits & (1u << k)) atomicMax(&covered[(long long)k * n_real + col], 1);
    }
    if (first < last) atomicMin((int*)&col_min[col], __float_as_int(best));
    if (refined) atomicAdd(&counters[0], refined);
    if (evaluated) atomicAdd(&counters[1], evaluated);
}
