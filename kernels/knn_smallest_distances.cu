// Candidates for the exact k-NN radii of one set against itself, from tiles of dot products.
// Compiled at run time by NVRTC (no host headers). The tile holds G = A·Bᵀ from cuBLAS (row-major,
// rows x cols, leading dimension ld); the epilogue turns it into d̃ = ‖a‖² + ‖b‖² − 2·G, clamped at 0.
// values / values_f16 (one of them null) are the rows the GEMM multiplied, [N, dim], for exact_if_identical.
//
// Per row i the kernels keep the `keep` smallest keys d̃(i, j) − e(j) with their j, where e(i) + e(j) bounds
// the error of d̃ (terms[], the host's DistanceErrorBound, rounded up): the host then picks the candidates of
// each radius and exact_pair_distances recomputes them in float64 (ExactRadii on the host side).

#define KNN_MAX_KEEP 32
#define WARP 32
// +inf from its bits: does not depend on NVRTC predefining INFINITY (only <math.h> promises it).
#define GM_INFINITY __int_as_float(0x7f800000)

#include "distance_common.cuh"

// Squared distance from a dot product; the diagonal of a self tile is exactly 0 without looking, any other
// pair of identical rows after comparing them (exact_if_identical).
static __device__ __forceinline__ float squared_distance(float dot, float row_norm, float col_norm, int row, int col, int self,
    int dim, const float* __restrict__ v32, const unsigned short* __restrict__ v16)
{
    if (self && row == col) return 0.0f;
    float d = row_norm + col_norm - 2.0f * dot;
    d = d > 0.0f ? d : 0.0f;
    return exact_if_identical(d, row_norm + col_norm, dim, v32, v16, row, v32, v16, col);
}

// Merges one tile into the running keep smallest keys of each row (best_keys/best_index[row * KNN_MAX_KEEP + t],
// ascending; keys initialised to +inf by the host before the first column tile). A key not kept is ≥ every
// key kept (each lane's list, then the merge, drops only values ≥ its largest).
// Launch: one warp per tile row, blockDim.x = 256 (8 rows per block), grid.x = ceil(rows / 8).
// Traffic: reads the tile once (coalesced along the row) and 2·keep values of state per row.
extern "C" __global__ void __launch_bounds__(256) knn_tile_update(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms, const float* __restrict__ terms,
    int dim, const float* __restrict__ values, const unsigned short* __restrict__ values_f16,
    int row_start, int col_start, int self, int keep, float* __restrict__ best_keys, int* __restrict__ best_index)
{
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / WARP;
    int lane = threadIdx.x % WARP;
    if (warp >= rows) return;
    int row = row_start + warp;

    float list[KNN_MAX_KEEP];
    int index[KNN_MAX_KEEP];
    for (int t = 0; t < KNN_MAX_KEEP; t++)
    {
        list[t] = GM_INFINITY;
        index[t] = -1;
    }
    if (lane == 0)
        for (int t = 0; t < keep; t++)
        {
            list[t] = best_keys[(long long)row * KNN_MAX_KEEP + t];
            index[t] = best_index[(long long)row * KNN_MAX_KEEP + t];
        }

    float row_norm = row_norms[row];
    const float* g = tile + (long long)warp * ld;
    for (int j = lane; j < cols; j += WARP)
    {
        int col = col_start + j;
        float d = squared_distance(g[j], row_norm, col_norms[col], row, col, self, dim, values, values_f16);
        insert_smallest(list, index, keep, d - terms[col], col);
    }

    // Merge the 32 sorted lists: keep rounds of a warp-wide minimum of the list heads (lowest lane on ties).
    int head = 0;
    for (int t = 0; t < keep; t++)
    {
        float v = head < keep ? list[head] : GM_INFINITY;
        int vi = head < keep ? index[head] : -1;
        int owner = lane;
        for (int offset = WARP / 2; offset > 0; offset /= 2)
        {
            float ov = __shfl_xor_sync(0xffffffffu, v, offset);
            int oi = __shfl_xor_sync(0xffffffffu, vi, offset);
            int oo = __shfl_xor_sync(0xffffffffu, owner, offset);
            if (ov < v || (ov == v && oo < owner))
            {
                v = ov;
                vi = oi;
                owner = oo;
            }
        }
        if (lane == owner) head++;
        if (lane == 0)
        {
            best_keys[(long long)row * KNN_MAX_KEEP + t] = v;
            best_index[(long long)row * KNN_MAX_KEEP + t] = vi;
        }
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
// partial_*[(slice * cols + j) * keep + t] = the keep smallest of column j over the slice's rows.
// Launch: blockDim.x = 256, grid = (ceil(cols / 256), slices); rows_per_slice * slices >= rows.
// Traffic: the tile once (coalesced: a warp reads 32 adjacent columns of a row), the row norms broadcast.
extern "C" __global__ void __launch_bounds__(256) knn_columns_partial(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms, const float* __restrict__ terms,
    int dim, const float* __restrict__ values, const unsigned short* __restrict__ values_f16,
    int row_start, int col_start, int keep, int rows_per_slice, float* __restrict__ partial_keys, int* __restrict__ partial_index)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    int col = col_start + j;
    int first = blockIdx.y * rows_per_slice;
    int last = min(rows, first + rows_per_slice);

    float list[KNN_MAX_KEEP];
    int index[KNN_MAX_KEEP];
    for (int t = 0; t < KNN_MAX_KEEP; t++)
    {
        list[t] = GM_INFINITY;
        index[t] = -1;
    }
    float col_norm = col_norms[col];
    for (int i = first; i < last; i++)
    {
        int row = row_start + i;
        float d = squared_distance(tile[(long long)i * ld + j], row_norms[row], col_norm, row, col, 0, dim, values, values_f16);
        insert_smallest(list, index, keep, d - terms[row], row);
    }
    long long out = ((long long)blockIdx.y * cols + j) * keep;
    for (int t = 0; t < keep; t++)
    {
        partial_keys[out + t] = list[t];
        partial_index[out + t] = index[t];
    }
}

// Pass 2: best_*[col_start + j] ← the keep smallest of itself and the slices' partial lists.
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
    for (int t = 0; t < KNN_MAX_KEEP; t++)
    {
        list[t] = GM_INFINITY;
        index[t] = -1;
    }
    for (int t = 0; t < keep; t++)
    {
        list[t] = best_keys[row * KNN_MAX_KEEP + t];
        index[t] = best_index[row * KNN_MAX_KEEP + t];
    }
    for (int s = 0; s < slices; s++)
    {
        long long p = ((long long)s * cols + j) * keep;
        // Each partial list is ascending: once one value misses, the rest of that list does too.
        for (int t = 0; t < keep && partial_keys[p + t] < list[keep - 1]; t++) insert_smallest(list, index, keep, partial_keys[p + t], partial_index[p + t]);
    }
    for (int t = 0; t < keep; t++)
    {
        best_keys[row * KNN_MAX_KEEP + t] = list[t];
        best_index[row * KNN_MAX_KEEP + t] = index[t];
    }
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
