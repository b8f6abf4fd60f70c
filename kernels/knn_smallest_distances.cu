// Candidates for the exact k-NN radii of one set against itself, from tiles of dot products.
// Compiled at run time by NVRTC (no host headers). The tile holds G = A·Bᵀ from cuBLAS (row-major,
// rows x cols, leading dimension ld); the epilogue turns it into d̃ = ‖a‖² + ‖b‖² − 2·G, clamped at 0.
// values / values_f16 (one of them null) are the rows the GEMM multiplied, [N, dim], for warp_exact_if_identical.
//
// Per row i the kernels keep the `keep` smallest keys d̃(i, j) − e(j) with their j, where e(i) + e(j) bounds
// the error of d̃ (terms[], the host's DistanceErrorBound, rounded up): the host then picks the candidates of
// each radius and exact_pair_distances recomputes them in float64 (ExactRadii on the host side).

#define KNN_MAX_KEEP 32
#define WARP 32
#define GM_INFINITY __int_as_float(0x7f800000)

#include "distance_common.cuh"

// Squared distance from a dot product, clamped at 0 (before the identical-row check).
static __device__ __forceinline__ float gram_distance(float dot, float row_norm, float col_norm)
{
    float d = row_norm + col_norm - 2.0f * dot;
    return d > 0.0f ? d : 0.0f;
}

// Merges one tile into the running keep smallest keys of each row (best_keys/best_index[row * KNN_MAX_KEEP + t],
// ascending; keys initialised to +inf by the host before the first column tile). A key not kept is ≥ every
// key kept.
// Launch: one warp per tile row, blockDim.x = 256 (8 rows per block), grid.x = ceil(rows / 8).
// The row's list lives in registers spread over the warp: lane t holds the t-th smallest key (lanes ≥ keep hold
// +inf). Every lane filters its columns against the row's current keep-th key (the threshold, warp-uniform,
// seeded from the earlier tiles), so after the first tiles almost every column costs one compare and one ballot
// per 4 columns; a column below the threshold is broadcast and inserted by the whole warp (its position is a
// ballot count, the larger keys move up one lane). The diagonal of a self tile is 0 without looking; any other
// near-0 distance is checked for identical rows by the whole warp (warp_exact_if_identical).
// Traffic: the tile once (float4 loads, coalesced, where the tile's rows are 16-byte aligned) and 2·keep values
// of state per row.
extern "C" __global__ void __launch_bounds__(256) knn_tile_update(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms, const float* __restrict__ terms,
    int dim, const float* __restrict__ values, const unsigned short* __restrict__ values_f16, const int* __restrict__ row_class,
    int row_start, int col_start, int self, int keep, float* __restrict__ best_keys, int* __restrict__ best_index)
{
    int warp = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP);
    int lane = threadIdx.x % WARP;
    if (warp >= rows) return; // whole warps only: the collectives below see all 32 lanes
    int row = row_start + warp;
    long long state = (long long)row * KNN_MAX_KEEP + lane;

    float key = GM_INFINITY;
    int key_index = -1;
    if (lane < keep)
    {
        key = best_keys[state];
        key_index = best_index[state];
    }
    float threshold = __shfl_sync(GM_FULL_MASK, key, keep - 1);

    float row_norm = row_norms[row];
    const float* g = tile + (long long)warp * ld;
    bool vector_rows = ld % 4 == 0 && (((unsigned long long)tile) & 15ull) == 0;
    for (int base = 0; base < cols; base += 4 * WARP)
    {
        int j0 = base + 4 * lane;
        float dot[4];
        if (vector_rows && j0 + 3 < cols)
        {
            float4 v = *(const float4*)(g + j0);
            dot[0] = v.x;
            dot[1] = v.y;
            dot[2] = v.z;
            dot[3] = v.w;
        }
        else
        {
            GM_UNROLL
            for (int c = 0; c < 4; c++) dot[c] = j0 + c < cols ? g[j0 + c] : 0.0f;
        }
        GM_UNROLL
        for (int c = 0; c < 4; c++)
        {
            int valid = j0 + c < cols;
            int col = col_start + (valid ? j0 + c : 0);
            int diagonal = self && row == col;
            float col_norm = col_norms[col];
            float d = warp_exact_if_identical(valid && !diagonal, gram_distance(dot[c], row_norm, col_norm), row_norm + col_norm, dim,
                values, values_f16, row, row_class, values, values_f16, col, row_class);
            if (diagonal) d = 0.0f;
            float candidate = d - terms[col];
            unsigned want = __ballot_sync(GM_FULL_MASK, valid && candidate < threshold);
            while (want)
            {
                int s = __ffs((int)want) - 1;
                want &= want - 1u;
                float k = __shfl_sync(GM_FULL_MASK, candidate, s);
                int ki = __shfl_sync(GM_FULL_MASK, col, s);
                if (!(k < threshold)) continue; // warp-uniform: an earlier insertion lowered the threshold
                // Kept keys ≤ k stay (a new key goes after its equals); lanes ≥ keep hold +inf, never ≤ a finite k.
                int position = __popc(__ballot_sync(GM_FULL_MASK, key <= k));
                float up_key = __shfl_up_sync(GM_FULL_MASK, key, 1);
                int up_index = __shfl_up_sync(GM_FULL_MASK, key_index, 1);
                if (lane < keep)
                {
                    if (lane > position)
                    {
                        key = up_key;
                        key_index = up_index;
                    }
                    else if (lane == position)
                    {
                        key = k;
                        key_index = ki;
                    }
                }
                threshold = __shfl_sync(GM_FULL_MASK, key, keep - 1);
            }
        }
    }
    if (lane < keep)
    {
        best_keys[state] = key;
        best_index[state] = key_index;
    }
}

// The other half of an off-diagonal self tile: distances are symmetric, so the tile of rows I x columns J
// also holds, column by column, the distances of the rows of J to the rows of I. Column j of the tile is
// merged into the keep smallest keys of row col_start + j (key d̃ − e(row of I)), so that only tiles on and
// above the diagonal are ever multiplied. Never launched for a diagonal tile (the row kernel covers both
// halves there).
//
// Two passes, for parallelism: one thread per column alone would be cols / 256 blocks (32 for a tile of
// 8192), far too few to keep a GPU's memory system busy. Pass 1 splits the rows into slices:
// partial_*[(slice * cols + j) * keep + t] = the keep smallest of column j over the slice's rows that are below
// the column row's current keep-th key (best_keys, which this tile's pass 2 is the next to change: nothing at or
// above it can enter the merged list), +inf after them. The list is in registers (unrolled insertion).
// Launch: blockDim.x = 256, grid = (ceil(cols / 256), slices); rows_per_slice * slices >= rows.
// Traffic: the tile once (coalesced: a warp reads 32 adjacent columns of a row), the row norms broadcast.
extern "C" __global__ void __launch_bounds__(256) knn_columns_partial(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms, const float* __restrict__ terms,
    int dim, const float* __restrict__ values, const unsigned short* __restrict__ values_f16, const int* __restrict__ row_class,
    int row_start, int col_start, int keep, int rows_per_slice, const float* __restrict__ best_keys,
    float* __restrict__ partial_keys, int* __restrict__ partial_index)
{
    // No early exit: lanes past the last column stay (inactive) for the warp-wide row comparison.
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int valid = j < cols;
    int col = col_start + (valid ? j : 0);
    int first = blockIdx.y * rows_per_slice;
    int last = min(rows, first + rows_per_slice);

    float list[KNN_MAX_KEEP];
    int index[KNN_MAX_KEEP];
    GM_UNROLL
    for (int t = 0; t < KNN_MAX_KEEP; t++)
    {
        list[t] = GM_INFINITY;
        index[t] = -1;
    }
    float seed = valid ? best_keys[(long long)col * KNN_MAX_KEEP + keep - 1] : GM_INFINITY;
    float threshold = seed;
    float col_norm = col_norms[col];
    for (int i = first; i < last; i++)
    {
        int row = row_start + i;
        float row_norm = row_norms[row];
        float dot = valid ? tile[(long long)i * ld + j] : 0.0f;
        float d = warp_exact_if_identical(valid, gram_distance(dot, row_norm, col_norm), row_norm + col_norm, dim,
            values, values_f16, row, row_class, values, values_f16, col, row_class);
        float candidate = d - terms[row];
        if (valid && candidate < threshold)
            threshold = fminf(seed, insert_smallest_registers(list, index, keep, candidate, row));
    }
    if (!valid) return;
    long long out = ((long long)blockIdx.y * cols + j) * keep;
    GM_UNROLL
    for (int t = 0; t < KNN_MAX_KEEP; t++)
        if (t < keep)
        {
            partial_keys[out + t] = list[t];
            partial_index[out + t] = index[t];
        }
}

// Pass 2: best_*[col_start + j] ← the keep smallest of itself and the slices' partial lists (register list).
// Launch: blockDim.x = 256, grid.x = ceil(cols / 256).
extern "C" __global__ void __launch_bounds__(256) knn_columns_merge(
    const float* __restrict__ partial_keys, const int* __restrict__ partial_index, int slices, int cols, int col_start, int keep,
    float* __restrict__ best_keys, int* __restrict__ best_index)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    long long row = col_start + j;

    float list[KNN_MAX_KEEP];
    int index[KNN_MAX_KEEP];
    float last = GM_INFINITY;
    GM_UNROLL
    for (int t = 0; t < KNN_MAX_KEEP; t++)
    {
        list[t] = GM_INFINITY;
        index[t] = -1;
        if (t < keep)
        {
            list[t] = best_keys[row * KNN_MAX_KEEP + t];
            index[t] = best_index[row * KNN_MAX_KEEP + t];
            last = list[t];
        }
    }
    int changed = 0;
    for (int s = 0; s < slices; s++)
    {
        long long p = ((long long)s * cols + j) * keep;
        // Each partial list is ascending: once one value misses, the rest of that list does too.
        for (int t = 0; t < keep; t++)
        {
            float k = partial_keys[p + t];
            if (!(k < last)) break;
            last = insert_smallest_registers(list, index, keep, k, partial_index[p + t]);
            changed = 1;
        }
    }
    if (!changed) return;
    GM_UNROLL
    for (int t = 0; t < KNN_MAX_KEEP; t++)
        if (t < keep)
        {
            best_keys[row * KNN_MAX_KEEP + t] = list[t];
            best_index[row * KNN_MAX_KEEP + t] = index[t];
        }
}

// Identical-row classes of one set (b null, n_b = 0) or of two sets together (rows of a first, then of b), for
// warp_exact_if_identical. Pass 1, row_hashes: hash[i] = a 64-bit hash of row i's stored values (float32 with
// −0 taken as +0, since the comparison is ==; float16 as bits, as compared). The host then sets class[i] = the
// first row with the same hash, and pass 2, verify_row_classes, compares every row with its class's first row
// (warp_equal_*) and sets class[i] = −1 where they differ (a collision), so that a class ≥ 0 is exact.
// Launch (both): one warp per row, blockDim.x = 256, grid.x = ceil((n_a + n_b) / 8). O((n_a + n_b)·dim), coalesced.
static __device__ __forceinline__ void class_row(long long i, int n_a, int dim,
    const float* a32, const unsigned short* a16, const float* b32, const unsigned short* b16,
    const float** r32, const unsigned short** r16)
{
    *r32 = i < n_a ? row_f32(a32, i, dim) : row_f32(b32, i - n_a, dim);
    *r16 = i < n_a ? row_u16(a16, i, dim) : row_u16(b16, i - n_a, dim);
}

extern "C" __global__ void __launch_bounds__(256) row_hashes(
    const float* __restrict__ a32, const unsigned short* __restrict__ a16, int n_a,
    const float* __restrict__ b32, const unsigned short* __restrict__ b16, int n_b, int dim,
    unsigned long long* __restrict__ hash)
{
    long long i = (blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP;
    int lane = threadIdx.x % WARP;
    if (i >= (long long)n_a + n_b) return; // whole warps
    const float* r32;
    const unsigned short* r16;
    class_row(i, n_a, dim, a32, a16, b32, b16, &r32, &r16);
    unsigned long long h = 0ull;
    for (int c = lane; c < dim; c += WARP)
    {
        unsigned bits = r32 ? __float_as_uint(r32[c]) : (unsigned)r16[c];
        if (r32 && (bits << 1) == 0u) bits = 0u;
        h += mix64(((unsigned long long)bits << 32) | (unsigned)c);
    }
    for (int offset = WARP / 2; offset > 0; offset /= 2) h += __shfl_xor_sync(GM_FULL_MASK, h, offset);
    if (lane == 0) hash[i] = mix64(h ^ (unsigned long long)dim);
}

extern "C" __global__ void __launch_bounds__(256) verify_row_classes(
    const float* __restrict__ a32, const unsigned short* __restrict__ a16, int n_a,
    const float* __restrict__ b32, const unsigned short* __restrict__ b16, int n_b, int dim,
    int* __restrict__ row_class)
{
    long long i = (blockIdx.x * (long long)blockDim.x + threadIdx.x) / WARP;
    int lane = threadIdx.x % WARP;
    if (i >= (long long)n_a + n_b) return; // whole warps
    int first = row_class[i];
    if (first < 0 || first == i) return; // warp-uniform
    const float *x32, *y32;
    const unsigned short *x16, *y16;
    class_row(i, n_a, dim, a32, a16, b32, b16, &x32, &x16);
    class_row(first, n_a, dim, a32, a16, b32, b16, &y32, &y16);
    bool same = x32 ? warp_equal_f32(x32, y32, dim, lane) : warp_equal_u16(x16, y16, dim, lane);
    __syncwarp(GM_FULL_MASK);
    if (lane == 0 && !same) row_class[i] = -1;
}

// out[p] = Σ (a − b)² in float64 over the ORIGINAL rows a = values_a[pair_a[p]], b = values_b[pair_b[p]], one
// term after the other (exact_squared_distance): the candidates of the exact radii, and any pair list.
// Launch: blockDim.x = 256, grid.x = ceil(count / 256), one thread per pair.
extern "C" __global__ void __launch_bounds__(256) exact_pair_distances(
    const float* __restrict__ values_a, const float* __restrict__ values_b, int dim,
    const int* __restrict__ pair_a, const int* __restrict__ pair_b, int count, double* __restrict__ out)
{
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= count) return;
    out[p] = exact_squared_distance(values_a + (long long)pair_a[p] * dim, values_b + (long long)pair_b[p] * dim, dim);
}
