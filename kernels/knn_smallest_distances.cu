// k smallest squared distances per row of one set against itself, from a tile of dot products.
// Compiled at run time by NVRTC (no host headers). The tile holds G = A·Bᵀ from cuBLAS (row-major,
// rows x cols, leading dimension ld); the epilogue turns it into d² = ‖a‖² + ‖b‖² − 2·G, clamped at 0.

#define KNN_MAX_KEEP 32
#define WARP 32
// +inf from its bits: does not depend on NVRTC predefining INFINITY (only <math.h> promises it).
#define GM_INFINITY __int_as_float(0x7f800000)

// Squared distance from a dot product; the diagonal of a self tile is exactly 0 (the GEMM's rounding
// would otherwise leave a tiny positive value where the CPU backend has 0).
static __device__ __forceinline__ float squared_distance(float dot, float row_norm, float col_norm, int row, int col, int self)
{
    if (self && row == col) return 0.0f;
    float d = row_norm + col_norm - 2.0f * dot;
    return d > 0.0f ? d : 0.0f;
}

// Merges one tile into the running keep smallest distances of each row (best[row * KNN_MAX_KEEP + t],
// ascending; initialised to +inf by the host before the first column tile).
// Launch: one warp per tile row, blockDim.x = 256 (8 rows per block), grid.x = ceil(rows / 8).
// Traffic: reads the tile once (coalesced along the row) and 2·keep floats of state per row.
extern "C" __global__ void __launch_bounds__(256) knn_tile_update(
    const float* __restrict__ tile, int rows, int cols, int ld,
    const float* __restrict__ row_norms, const float* __restrict__ col_norms,
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
        float d = squared_distance(g[j], row_norm, col_norms[col_start + j], row, col_start + j, self);
        if (d < list[keep - 1])
        {
            int p = keep - 1;
            while (p > 0 && list[p - 1] > d)
            {
                list[p] = list[p - 1];
                p--;
            }
            list[p] = d;
        }
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
