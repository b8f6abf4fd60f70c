// k smallest squared distances per row of one set against itself, from a tile of dot products.
// Compiled at run time by NVRTC (no host headers). The tile holds G = A·Bᵀ from cuBLAS (row-major,
// rows x cols, leading dimension ld); the epilogue turns it into d² = ‖a‖² + ‖b‖² − 2·G, clamped at 0.
// values / values_f16 (one of them null) are the rows the GEMM multiplied, [N, dim], for exact_if_identical.

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

// Merges one tile into the running keep smallest distances of each row (best[row * KNN_MAX_KEEP + t],
// ascending; initialised to +inf by the host before the first column tile).
// Launch: one warp per tile row, blockDim.x = 256 (8 rows per block), grid.x = ceil(rows / 8).
// Traffic: reads the tile once (coalesced along the row) and 2·keep floats of state per row.
extern "C" __global__ void __launch_bounds__(256) knn_tile_update(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
    int dim, const float* __restrict__ values, const unsigned short* __restrict__ values_f16,
    int row_start, int col_start, int self, int keep, float* __restrict__ best)
{
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / WARP;
    int lane = threadIdx.x % WARP;
    if (warp >= rows) return;
    int row = row_start + warp;

    float list[KNN_MAX_KEEP];
    for (int t = 0; t < KNN_MAX_KEEP; t++) list[t] = GM_INFINITY;
    if (lane == 0)
        for (int t = 0; t < keep; t++) list[t] = best[(long long)row * KNN_MAX_KEEP + t];

    float row_norm = row_norms[row];
    const float* g = tile + (long long)warp * ld;
    for (int j = lane; j < cols; j += WARP)
    {
        float d = squared_distance(g[j], row_norm, col_norms[col_start + j], row, col_start + j, self, dim, values, values_f16);
        insert_smallest(list, keep, d);
    }

    // Merge the 32 sorted lists: keep rounds of a warp-wide minimum of the list heads.
    int head = 0;
    for (int t = 0; t < keep; t++)
    {
        float v = head < keep ? list[head] : GM_INFINITY;
        int owner = lane;
        for (int offset = WARP / 2; offset > 0; offset /= 2)
        {
            float ov = __shfl_xor_sync(0xffffffffu, v, offset);
            int oo = __shfl_xor_sync(0xffffffffu, owner, offset);
            if (ov < v || (ov == v && oo < owner))
            {
                v = ov;
                owner = oo;
            }
        }
        if (lane == owner) head++;
        if (lane == 0) best[(long long)row * KNN_MAX_KEEP + t] = v;
    }
}

// The other half of an off-diagonal self tile: distances are symmetric, so the tile of rows I x columns J
// also holds, column by column, the distances of the rows of J to the rows of I. Column j of the tile is
// merged into the keep smallest of row col_start + j (best[(col_start + j) * KNN_MAX_KEEP + t], ascending),
// so that only tiles on and above the diagonal are ever multiplied. Never launched for a diagonal tile (the
// row kernel covers both halves there).
//
// Two passes, for parallelism: one thread per column alone would be cols / 256 blocks (32 for a tile of
// 8192), far too few to keep a GPU's memory system busy. Pass 1 splits the rows into slices:
// partial[(slice * cols + j) * keep + t] = the keep smallest of column j over the slice's rows.
// Launch: blockDim.x = 256, grid = (ceil(cols / 256), slices); rows_per_slice * slices >= rows.
// Traffic: the tile once (coalesced: a warp reads 32 adjacent columns of a row), the row norms broadcast.
extern "C" __global__ void __launch_bounds__(256) knn_columns_partial(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
    int dim, const float* __restrict__ values, const unsigned short* __restrict__ values_f16,
    int row_start, int col_start, int keep, int rows_per_slice, float* __restrict__ partial)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    int col = col_start + j;
    int first = blockIdx.y * rows_per_slice;
    int last = min(rows, first + rows_per_slice);

    float list[KNN_MAX_KEEP];
    for (int t = 0; t < KNN_MAX_KEEP; t++) list[t] = GM_INFINITY;
    float col_norm = col_norms[col];
    for (int i = first; i < last; i++)
    {
        float d = squared_distance(tile[(long long)i * ld + j], row_norms[row_start + i], col_norm, row_start + i, col, 0, dim, values, values_f16);
        insert_smallest(list, keep, d);
    }
    float* out = partial + ((long long)blockIdx.y * cols + j) * keep;
    for (int t = 0; t < keep; t++) out[t] = list[t];
}

// Pass 2: best[col_start + j] ← the keep smallest of itself and the slices' partial lists.
// Launch: blockDim.x = 256, grid.x = ceil(cols / 256).
extern "C" __global__ void __launch_bounds__(256) knn_columns_merge(
    const float* __restrict__ partial, int slices, int cols, int col_start, int keep, float* __restrict__ best)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    long long row = col_start + j;

    float list[KNN_MAX_KEEP];
    for (int t = 0; t < KNN_MAX_KEEP; t++) list[t] = GM_INFINITY;
    for (int t = 0; t < keep; t++) list[t] = best[row * KNN_MAX_KEEP + t];
    for (int s = 0; s < slices; s++)
    {
        const float* p = partial + ((long long)s * cols + j) * keep;
        // Each partial list is ascending: once one value misses, the rest of that list does too.
        for (int t = 0; t < keep && p[t] < list[keep - 1]; t++) insert_smallest(list, keep, p[t]);
    }
    for (int t = 0; t < keep; t++) best[row * KNN_MAX_KEEP + t] = list[t];
}
