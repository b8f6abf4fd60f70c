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
// counters[0] += band comparisons decided in float64 (against real and against fake radii, each counted),
// counters[1] += float64 distances evaluated.

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

// Rows per block of cross_tile (the host's CrossRowsPerBlock): the block's per-row partials live in shared memory.
#define CROSS_ROWS_PER_BLOCK 64

// A float's bits as an int that orders like the float (negative floats' magnitude bits flipped), for atomicMax.
static __device__ __forceinline__ int ordered_key(float f)
{
    int b = __float_as_int(f);
    return b >= 0 ? b : b ^ 0x7fffffff;
}

static __device__ __forceinline__ float from_ordered_key(int key)
{
    return __int_as_float(key >= 0 ? key : key ^ 0x7fffffff);
}

// atomicMin on a 64-bit key (global or shared) with atomicCAS only. The first plain read may be stale, but the
// value at p only ever decreases, so a stale value is ≥ the current one: v ≥ it means nothing to do, and a
// failed CAS returns the current value to retry with.
static __device__ __forceinline__ void atomic_min_u64(unsigned long long* p, unsigned long long v)
{
    unsigned long long old = *(volatile unsigned long long*)p;
    while (v < old)
    {
        unsigned long long seen = atomicCAS(p, old, v);
        if (seen == old) break;
        old = seen;
    }
}

// One read of the tile for every reduction (issue 15 item 5). Each element decides, for each k, two comparisons:
//   A (fake row vs the real column's radius r_j(k), own error term e(f) against the column's bands):
//     precision and density counts of the row (d ≤ r, d < r) and coverage of the column (d < r);
//   B (real column vs the fake row's radius ρ_g(k), e(r) against the row's bands):
//     recall flags of the column (d ≤ ρ, d < ρ) and the row's complement flag (d < ρ).
// A band comparison is certain when d̃ ± the other row's term is outside the band; otherwise d is recomputed
// in float64 (once per pair, whichever comparisons need it) and compared with the float64 radius.
// Per column (one thread each): flags and min d̃ over the block's rows, in registers, published with atomics
// (flags with atomicMax, the minimum with atomicMin on the float's bits, which order like the floats because
// d̃ ≥ 0). Per row: each warp (32 adjacent columns) reduces its row partials with ballots and shuffles; lane 0
// adds them to the block's per-row partials in shared memory; after the row loop the block adds them to the
// row state with one set of global atomics per row: integer counts (order-independent), the nearest column as
// one 64-bit key (d̃'s bits << 32 | column) with atomicMin, so the smallest d̃ with the lowest index wins
// whatever order blocks and tiles run in, and the realism lower bound with atomicMax on ordered_key.
// Realism here is only its first sweep (the largest lower bound of R_j / (d + eps) over the row): the second
// sweep needs the bound over every column and runs in cross_realism_tile, the tile's one further read.
// Launch: blockDim.x = 256 columns, grid = (ceil(cols / 256), ceil(rows / CROSS_ROWS_PER_BLOCK)). Lanes past
// the last column stay in the loop (inactive) so that the warp collectives see all 32 lanes, and every thread
// reaches both __syncthreads.
// Traffic: the tile once, coalesced across the block's columns; the fake bands broadcast per row; O(num_k)
// global atomics per row per 256 columns.
// counters[0] += band comparisons decided in float64 (A and B both counted: the same number as before the
// fusion), counters[1] += float64 distances evaluated (one per pair now, where the two kernels of before could
// each evaluate the same pair).
extern "C" __global__ void __launch_bounds__(256) cross_tile(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
    const float* __restrict__ fake_terms, const float* __restrict__ real_terms,
    int dim, const float* __restrict__ fake_values, const unsigned short* __restrict__ fake_values_f16,
    const float* __restrict__ real_values, const unsigned short* __restrict__ real_values_f16,
    const int* __restrict__ fake_class, const int* __restrict__ real_class,
    const float* __restrict__ fake_rows, const float* __restrict__ real_rows,
    int row_start, int col_start, int num_k,
    const float* __restrict__ fake_low, const float* __restrict__ fake_high, const double* __restrict__ fake_exact, int n_fake,
    const float* __restrict__ real_low, const float* __restrict__ real_high, const double* __restrict__ real_exact, int n_real,
    const float* __restrict__ realism_low, float realism_eps,
    int* __restrict__ count_le, int* __restrict__ count_lt, int* __restrict__ complement,
    unsigned long long* __restrict__ row_nearest, int* __restrict__ realism_lower,
    int* __restrict__ any_le, int* __restrict__ any_lt, int* __restrict__ covered,
    float* __restrict__ col_min, unsigned long long* __restrict__ counters)
{
    __shared__ int s_le[CROSS_ROWS_PER_BLOCK][CROSS_MAX_K];
    __shared__ int s_lt[CROSS_ROWS_PER_BLOCK][CROSS_MAX_K];
    __shared__ int s_comp[CROSS_ROWS_PER_BLOCK][CROSS_MAX_K];
    __shared__ int s_ratio[CROSS_ROWS_PER_BLOCK];
    __shared__ unsigned long long s_nearest[CROSS_ROWS_PER_BLOCK];

    int lane = threadIdx.x % WARP;
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int valid = j < cols;
    int col = col_start + (valid ? j : 0);
    int warp_first_col = col_start + (j - lane); // column of lane 0 of this warp
    int first = blockIdx.y * CROSS_ROWS_PER_BLOCK;
    int last = min(rows, first + CROSS_ROWS_PER_BLOCK);

    for (int t = threadIdx.x; t < CROSS_ROWS_PER_BLOCK * CROSS_MAX_K; t += blockDim.x)
    {
        s_le[t / CROSS_MAX_K][t % CROSS_MAX_K] = 0;
        s_lt[t / CROSS_MAX_K][t % CROSS_MAX_K] = 0;
        s_comp[t / CROSS_MAX_K][t % CROSS_MAX_K] = 0;
    }
    for (int t = threadIdx.x; t < CROSS_ROWS_PER_BLOCK; t += blockDim.x)
    {
        s_ratio[t] = ordered_key(-GM_INFINITY);
        s_nearest[t] = ~0ull;
    }
    __syncthreads();

    float col_low[CROSS_MAX_K];
    float col_high[CROSS_MAX_K];
    double col_radius[CROSS_MAX_K];
    GM_UNROLL
    for (int k = 0; k < CROSS_MAX_K; k++)
    {
        col_low[k] = 0.0f;
        col_high[k] = 0.0f;
        col_radius[k] = 0.0;
        if (k < num_k)
        {
            col_low[k] = real_low[(long long)k * n_real + col];
            col_high[k] = real_high[(long long)k * n_real + col];
            col_radius[k] = real_exact[(long long)k * n_real + col];
        }
    }
    unsigned le_bits = 0u, lt_bits = 0u, cov_bits = 0u;
    unsigned long long refined = 0ull, evaluated = 0ull;
    float best = GM_INFINITY;
    float col_norm = col_norms[col];
    float ej = real_terms[col];
    float realism_col = realism_low ? realism_low[col] : 0.0f;
    const float* real_row = real_rows + (long long)col * dim;
    for (int i = first; i < last; i++)
    {
        int row = row_start + i;
        float row_norm = row_norms[row];
        float dot = valid ? tile[(long long)i * ld + j] : 0.0f;
        float d = warp_exact_if_identical(valid, cross_distance(dot, row_norm, col_norm), row_norm + col_norm, dim,
            fake_values, fake_values_f16, row, fake_class, real_values, real_values_f16, col, real_class);
        float eg = fake_terms[row];
        unsigned a_le = 0u, a_lt = 0u, b_le = 0u, b_lt = 0u;
        float ratio = -GM_INFINITY;
        if (valid)
        {
            float up_a = d + eg, down_a = d - eg, up_b = d + ej, down_b = d - ej;
            int have = 0;
            double exact = 0.0;
            GM_UNROLL
            for (int k = 0; k < CROSS_MAX_K; k++)
            {
                if (k >= num_k) continue;
                unsigned bit = 1u << k;
                if (up_a < col_low[k])
                {
                    a_le |= bit;
                    a_lt |= bit;
                }
                else if (down_a <= col_high[k])
                {
                    if (!have)
                    {
                        exact = exact_squared_distance(fake_rows + (long long)row * dim, real_row, dim);
                        have = 1;
                        evaluated++;
                    }
                    refined++;
                    if (exact <= col_radius[k]) a_le |= bit;
                    if (exact < col_radius[k]) a_lt |= bit;
                }
                long long at = (long long)k * n_fake + row;
                if (up_b < fake_low[at])
                {
                    b_le |= bit;
                    b_lt |= bit;
                }
                else if (down_b <= fake_high[at])
                {
                    if (!have)
                    {
                        exact = exact_squared_distance(fake_rows + (long long)row * dim, real_row, dim);
                        have = 1;
                        evaluated++;
                    }
                    refined++;
                    double rho = fake_exact[at];
                    if (exact <= rho) b_le |= bit;
                    if (exact < rho) b_lt |= bit;
                }
            }
            le_bits |= b_le;
            lt_bits |= b_lt;
            cov_bits |= a_lt;
            if (d < best) best = d;
            if (realism_low)
            {
                float r = realism_col / (up_a + ej + realism_eps) * RATIO_DOWN;
                if (r > ratio) ratio = r; // a NaN ratio is never a bound
            }
        }

        // The row's partials over this warp's 32 columns (every lane takes part, valid or not). A hit is rare
        // (about k of a row's N_real columns lie inside a radius): one vote skips the counts when no lane has one.
        int row_le[CROSS_MAX_K];
        int row_lt[CROSS_MAX_K];
        unsigned comp = b_lt;
        GM_UNROLL
        for (int k = 0; k < CROSS_MAX_K; k++)
        {
            row_le[k] = 0;
            row_lt[k] = 0;
        }
        if (__any_sync(GM_FULL_MASK, (a_le | b_lt) != 0u)) // a_lt ⊆ a_le
        {
            GM_UNROLL
            for (int k = 0; k < CROSS_MAX_K; k++)
            {
                if (k >= num_k) continue;
                row_le[k] = __popc(__ballot_sync(GM_FULL_MASK, (a_le >> k) & 1u));
                row_lt[k] = __popc(__ballot_sync(GM_FULL_MASK, (a_lt >> k) & 1u));
            }
            for (int offset = WARP / 2; offset > 0; offset /= 2) comp |= __shfl_xor_sync(GM_FULL_MASK, comp, offset);
        }
        float wmin = valid ? d : GM_INFINITY;
        for (int offset = WARP / 2; offset > 0; offset /= 2)
        {
            float om = __shfl_xor_sync(GM_FULL_MASK, wmin, offset);
            if (om < wmin) wmin = om;
            if (realism_low)
            {
                float orat = __shfl_xor_sync(GM_FULL_MASK, ratio, offset);
                if (orat > ratio) ratio = orat;
            }
        }
        // Lanes hold adjacent columns in order: the lowest lane at the minimum is the lowest column.
        unsigned at_min = __ballot_sync(GM_FULL_MASK, valid && d == wmin);
        if (lane == 0)
        {
            int r = i - first;
            GM_UNROLL
            for (int k = 0; k < CROSS_MAX_K; k++)
            {
                if (k >= num_k) continue;
                if (row_le[k]) atomicAdd(&s_le[r][k], row_le[k]);
                if (row_lt[k]) atomicAdd(&s_lt[r][k], row_lt[k]);
                if (comp & (1u << k)) atomicMax(&s_comp[r][k], 1);
            }
            // +inf never replaces the row's +inf start (as a strict "<" would not): no key for it.
            if (wmin < GM_INFINITY && at_min)
            {
                unsigned index = (unsigned)(warp_first_col + __ffs(at_min) - 1);
                atomic_min_u64(&s_nearest[r], ((unsigned long long)__float_as_uint(wmin) << 32) | index);
            }
            if (realism_low && ratio > -GM_INFINITY) atomicMax(&s_ratio[r], ordered_key(ratio));
        }
    }
    __syncthreads();

    for (int r = threadIdx.x; r < last - first; r += blockDim.x)
    {
        int row = row_start + first + r;
        GM_UNROLL
        for (int k = 0; k < CROSS_MAX_K; k++)
        {
            if (k >= num_k) continue;
            if (s_le[r][k]) atomicAdd(&count_le[(long long)k * n_fake + row], s_le[r][k]);
            if (s_lt[r][k]) atomicAdd(&count_lt[(long long)k * n_fake + row], s_lt[r][k]);
            if (s_comp[r][k]) atomicMax(&complement[(long long)k * n_fake + row], 1);
        }
        if (s_nearest[r] != ~0ull) atomic_min_u64(&row_nearest[row], s_nearest[r]);
        if (realism_low && s_ratio[r] != ordered_key(-GM_INFINITY)) atomicMax(&realism_lower[row], s_ratio[r]);
    }

    if (valid)
    {
        GM_UNROLL
        for (int k = 0; k < CROSS_MAX_K; k++)
        {
            if (k >= num_k) continue;
            if (le_bits & (1u << k)) atomicMax(&any_le[(long long)k * n_real + col], 1);
            if (lt_bits & (1u << k)) atomicMax(&any_lt[(long long)k * n_real + col], 1);
            if (cov_bits & (1u << k)) atomicMax(&covered[(long long)k * n_real + col], 1);
        }
        if (first < last) atomicMin((int*)&col_min[col], __float_as_int(best));
    }
    if (refined) atomicAdd(&counters[0], refined);
    if (evaluated) atomicAdd(&counters[1], evaluated);
}

// Realism's second sweep over one tile, after cross_tile has raised realism_lower (ordered_key of the largest
// lower bound of R_j / (d + eps) over every column so far, this tile's included): a float64 ratio for every
// column whose float32 upper bound reaches it (normally just the maximum; each further one is a near-tie).
// Launch: one warp per tile row, blockDim.x = 256, grid.x = ceil(rows / 8). Lanes past the last column stay
// in the loop so that the warp-wide identical-row check sees all 32 lanes.
extern "C" __global__ void __launch_bounds__(256) cross_realism_tile(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
    const float* __restrict__ fake_terms, const float* __restrict__ real_terms,
    int dim, const float* __restrict__ fake_values, const unsigned short* __restrict__ fake_values_f16,
    const float* __restrict__ real_values, const unsigned short* __restrict__ real_values_f16,
    const int* __restrict__ fake_class, const int* __restrict__ real_class,
    const float* __restrict__ fake_rows, const float* __restrict__ real_rows,
    int row_start, int col_start,
    const float* __restrict__ realism_high, const double* __restrict__ realism_exact, float realism_eps,
    const int* __restrict__ realism_lower, double* __restrict__ realism_best, int* __restrict__ realism_evals,
    unsigned long long* __restrict__ counters)
{
    int warp = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP);
    int lane = threadIdx.x % WARP;
    if (warp >= rows) return; // whole warps only: the collectives below see all 32 lanes
    int row = row_start + warp;
    float row_norm = row_norms[row];
    float eg = fake_terms[row];
    const float* g = tile + (long long)warp * ld;
    const float* fake_row = fake_rows + (long long)row * dim;
    float ratio_lower = from_ordered_key(realism_lower[row]);
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
        if (evals > 0 && (realism_evals[row] == 0 || ratio_best > realism_best[row])) realism_best[row] = ratio_best;
        realism_evals[row] += evals;
        if (evals) atomicAdd(&counters[1], (unsigned long long)evals);
    }
}
