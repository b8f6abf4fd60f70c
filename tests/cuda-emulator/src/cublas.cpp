// GenMetrics CUDA emulator: a fake libcublas.so.13 (Sgemm, Dgemm, Dsyrk, GemmEx) on the CPU.
// Semantics from the cuBLAS documentation: column-major storage; op(A) is m x k, op(B) k x n, C m x n;
// lda >= max(1, rows of A as stored), otherwise CUBLAS_STATUS_INVALID_VALUE. Every matrix region a call
// reads or writes must lie inside one live cuMemAlloc allocation, or the emulator aborts with a message.
// Accumulation: float GEMMs (Sgemm, GemmEx) sum in float, in order of k, with fmaf; double in double.
#include "emu.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#ifndef GMEMU_TOOLKIT
#define GMEMU_TOOLKIT 13
#endif

typedef int cublasStatus_t;
enum
{
    CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_ARCH_MISMATCH = 8, CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13, CUBLAS_STATUS_INTERNAL_ERROR = 14, CUBLAS_STATUS_NOT_SUPPORTED = 15,
    CUBLAS_STATUS_LICENSE_ERROR = 16,
};
enum { OP_N = 0, OP_T = 1, OP_C = 2 };
enum { FILL_LOWER = 0, FILL_UPPER = 1 };
enum { CUDA_R_32F = 0, CUDA_R_64F = 1, CUDA_R_16F = 2 };
enum { COMPUTE_32F = 68, COMPUTE_32F_PEDANTIC = 69, COMPUTE_32F_FAST_16F = 74, COMPUTE_32F_FAST_16BF = 75, COMPUTE_32F_FAST_TF32 = 77 };
enum { DEFAULT_MATH = 0, TENSOR_OP_MATH = 1, PEDANTIC_MATH = 2, TF32_TENSOR_OP_MATH = 3, DISALLOW_REDUCED_PRECISION_REDUCTION = 16 };

struct Handle { int magic = 0x43424c53; void* stream = nullptr; int math_mode = DEFAULT_MATH; };
static Handle* as_handle(void* h) { return h && static_cast<Handle*>(h)->magic == 0x43424c53 ? static_cast<Handle*>(h) : nullptr; }

extern "C" const char* cublasGetStatusName(cublasStatus_t s)
{
    switch (s)
    {
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
    }
}
extern "C" const char* cublasGetStatusString(cublasStatus_t s) { return cublasGetStatusName(s); }

extern "C" cublasStatus_t cublasCreate_v2(void** handle)
{
    if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
    *handle = new Handle;
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasDestroy_v2(void* handle)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->magic = 0;
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasGetVersion_v2(void* handle, int* version)
{
    if (!as_handle(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!version) return CUBLAS_STATUS_INVALID_VALUE;
#if GMEMU_TOOLKIT == 12
    *version = 120804;  // the CUDA 12 build of the emulator (libcublas.so.12)
#else
    *version = 130001;  // CUBLAS_VER_MAJOR * 10000 + CUBLAS_VER_MINOR * 100 + CUBLAS_VER_PATCH
#endif
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasSetStream_v2(void* handle, void* stream)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasSetMathMode(void* handle, int mode)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    int base = mode & ~DISALLOW_REDUCED_PRECISION_REDUCTION;
    if (base != DEFAULT_MATH && base != TENSOR_OP_MATH && base != PEDANTIC_MATH && base != TF32_TENSOR_OP_MATH)
        return CUBLAS_STATUS_INVALID_VALUE;
    h->math_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasGetMathMode(void* handle, int* mode)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
    *mode = h->math_mode;
    return CUBLAS_STATUS_SUCCESS;
}

// ---- element conversion

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023;
    uint32_t bits;
    if (exp == 0)
    {
        if (man == 0) bits = sign;
        else
        {
            float f = std::ldexp((float)man, -24);  // subnormal: man * 2^-24
            memcpy(&bits, &f, 4);
            bits |= sign;
        }
    }
    else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// TF32: keep 10 explicit mantissa bits, round to nearest even (NaN and infinity unchanged).
static float round_tf32(float x)
{
    uint32_t b;
    memcpy(&b, &x, 4);
    if ((b & 0x7f800000u) != 0x7f800000u)
    {
        b += 0xfffu + ((b >> 13) & 1u);
        b &= ~0x1fffu;
    }
    memcpy(&x, &b, 4);
    return x;
}

// ---- checks

static void require_inside(const char* api, const char* what, const void* p, long long rows, long long cols, long long ld, size_t elem)
{
    if (rows <= 0 || cols <= 0) return;
    size_t bytes = (size_t)(((cols - 1) * ld + rows) * (long long)elem);
    char why[512];
    if (!gmemu_check_range(p, bytes, why, sizeof why))
        gmemu_fatal("%s: matrix %s (%lld x %lld as stored, leading dimension %lld, %zu-byte elements) is not inside one device allocation: %s",
                    api, what, rows, cols, ld, elem, why);
}

static bool valid_op(int op) { return op == OP_N || op == OP_T || op == OP_C; }
static long long max1(long long v) { return v < 1 ? 1 : v; }

// Pack op(X) (r x c, column-major stored with leading dimension ld, transposed when trans) into a row-major
// r x c array of T (so that a row of op(A) and a column of op(B) are contiguous for the dot products).
template <class T, class Load>
static void pack(std::vector<T>& out, bool row_major_rows, bool trans, long long r, long long c, long long ld, Load load)
{
    // element (i, j) of op(X): X(i, j) = x[i + j*ld] when not transposed, X(j, i) = x[j + i*ld] when transposed
    out.resize((size_t)(r * c));
    for (long long i = 0; i < r; i++)
        for (long long j = 0; j < c; j++)
        {
            long long idx = trans ? j + i * ld : i + j * ld;
            if (row_major_rows) out[(size_t)(i * c + j)] = load(idx);
            else out[(size_t)(j * r + i)] = load(idx);
        }
}

struct GemmJob
{
    long long m, n, k;
    const void* ap;  // op(A) rows, row-major m x k
    const void* bp;  // op(B) columns, n x k
    void* c;
    long long ldc;
    double alpha, beta;
    bool is_double;
};

static void gemm_column(long j, void* ctx)
{
    GemmJob* g = static_cast<GemmJob*>(ctx);
    for (long long i = 0; i < g->m; i++)
    {
        if (g->is_double)
        {
            const double* a = (const double*)g->ap + i * g->k;
            const double* b = (const double*)g->bp + j * g->k;
            double s = 0;
            for (long long p = 0; p < g->k; p++) s = std::fma(a[p], b[p], s);
            double* c = (double*)g->c + i + j * g->ldc;
            *c = g->beta == 0 ? g->alpha * s : g->alpha * s + g->beta * *c;  // beta == 0: C is not read (NaN-safe)
        }
        else
        {
            const float* a = (const float*)g->ap + i * g->k;
            const float* b = (const float*)g->bp + j * g->k;
            float s = 0;
            for (long long p = 0; p < g->k; p++) s = std::fmaf(a[p], b[p], s);
            float* c = (float*)g->c + i + j * g->ldc;
            float alpha = (float)g->alpha, beta = (float)g->beta;
            *c = beta == 0 ? alpha * s : alpha * s + beta * *c;
        }
    }
}

// Shared by all GEMMs: argument checks per the documentation, then C = alpha op(A) op(B) + beta C.
template <class T>
static cublasStatus_t gemm(const char* api, void* handle, int transa, int transb, int m, int n, int k, const T* alpha,
                           const void* A, int atype, int lda, const void* B, int btype, int ldb, const T* beta, void* C,
                           int ldc, bool tf32)
{
    if (!as_handle(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!valid_op(transa) || !valid_op(transb) || m < 0 || n < 0 || k < 0) return CUBLAS_STATUS_INVALID_VALUE;
    bool ta = transa != OP_N, tb = transb != OP_N;
    if (lda < max1(ta ? k : m) || ldb < max1(tb ? n : k) || ldc < max1(m)) return CUBLAS_STATUS_INVALID_VALUE;
    if (!alpha || !beta) return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    size_t csize = sizeof(T);
    size_t asize = atype == CUDA_R_16F ? 2 : csize, bsize = btype == CUDA_R_16F ? 2 : csize;
    bool use_ab = k > 0 && *alpha != 0;
    if (use_ab)
    {
        require_inside(api, "A", A, ta ? k : m, ta ? m : k, lda, asize);
        require_inside(api, "B", B, tb ? n : k, tb ? k : n, ldb, bsize);
    }
    require_inside(api, "C", C, m, n, ldc, csize);
    double alpha_v = use_ab ? (double)*alpha : 0.0, beta_v = (double)*beta;  // host pointer mode: read at the call
    long long kk = use_ab ? k : 0;
    gmemu_enqueue_lambda(as_handle(handle)->stream, api, {(uintptr_t)A, (uintptr_t)B, (uintptr_t)C},
                         [=] {
    std::vector<T> ap, bp;
    if (use_ab)
    {
        auto loader = [&](const void* X, int type) {
            return [X, type, tf32](long long idx) -> T {
                if (type == CUDA_R_16F) return (T)half_to_float(((const uint16_t*)X)[idx]);
                T v = ((const T*)X)[idx];
                if (tf32) v = (T)round_tf32((float)v);
                return v;
            };
        };
        pack<T>(ap, true, ta, m, k, lda, loader(A, atype));
        // op(B) is k x n; store its columns contiguously: element (p, j) at j*k + p
        pack<T>(bp, false, tb, k, n, ldb, loader(B, btype));
    }
    GemmJob g{m, n, kk, ap.data(), bp.data(), C, ldc, alpha_v, beta_v, sizeof(T) == 8};
    gmemu_parallel_for(n, gemm_column, &g, api);
                         });
    return CUBLAS_STATUS_SUCCESS;
}

static bool tf32_allowed(void* handle)
{
    Handle* h = as_handle(handle);
    return h && (h->math_mode & ~DISALLOW_REDUCED_PRECISION_REDUCTION) == TF32_TENSOR_OP_MATH;
}

extern "C" cublasStatus_t cublasSgemm_v2(void* handle, int transa, int transb, int m, int n, int k, const float* alpha,
                                         const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc)
{
    // CUBLAS_TF32_TENSOR_OP_MATH lets single-precision routines use TF32; the emulator then always rounds.
    return gemm<float>("cublasSgemm", handle, transa, transb, m, n, k, alpha, A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb, beta, C, ldc,
                       tf32_allowed(handle));
}

extern "C" cublasStatus_t cublasDgemm_v2(void* handle, int transa, int transb, int m, int n, int k, const double* alpha,
                                         const double* A, int lda, const double* B, int ldb, const double* beta, double* C, int ldc)
{
    return gemm<double>("cublasDgemm", handle, transa, transb, m, n, k, alpha, A, CUDA_R_64F, lda, B, CUDA_R_64F, ldb, beta, C, ldc, false);
}

extern "C" cublasStatus_t cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha,
                                       const void* A, int atype, int lda, const void* B, int btype, int ldb, const void* beta,
                                       void* C, int ctype, int ldc, int compute, int algo)
{
    if (!as_handle(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    // CUBLAS_GEMM_DEFAULT (-1) .. CUBLAS_GEMM_ALGO23 (23), CUBLAS_GEMM_DEFAULT_TENSOR_OP (99) .. ALGO15_TENSOR_OP (115)
    if (!((algo >= -1 && algo <= 23) || (algo >= 99 && algo <= 115))) return CUBLAS_STATUS_INVALID_VALUE;
    // Supported combinations emulated (cublasGemmEx table): scale type float for all of these.
    //  CUBLAS_COMPUTE_32F / _PEDANTIC: A,B = CUDA_R_16F or CUDA_R_32F (same type), C = CUDA_R_32F (or R_16F, not emulated)
    //  CUBLAS_COMPUTE_32F_FAST_TF32 / _FAST_16F: A, B, C = CUDA_R_32F
    bool tf32 = false;
    switch (compute)
    {
    case COMPUTE_32F:
    case COMPUTE_32F_PEDANTIC:
        if (!((atype == CUDA_R_32F && btype == CUDA_R_32F) || (atype == CUDA_R_16F && btype == CUDA_R_16F))) return CUBLAS_STATUS_NOT_SUPPORTED;
        if (ctype != CUDA_R_32F)
        {
            fprintf(stderr, "GenMetrics CUDA emulator: cublasGemmEx: Ctype %d not emulated\n", ctype);
            return CUBLAS_STATUS_NOT_SUPPORTED;
        }
        // the TF32 math mode also applies to GemmEx with CUBLAS_COMPUTE_32F and float inputs
        tf32 = compute == COMPUTE_32F && atype == CUDA_R_32F && tf32_allowed(handle);
        break;
    case COMPUTE_32F_FAST_TF32:
        if (atype != CUDA_R_32F || btype != CUDA_R_32F || ctype != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
        tf32 = true;
        break;
    default:
        fprintf(stderr, "GenMetrics CUDA emulator: cublasGemmEx: computeType %d (Atype %d, Btype %d, Ctype %d) not emulated\n",
                compute, atype, btype, ctype);
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    return gemm<float>("cublasGemmEx", handle, transa, transb, m, n, k, (const float*)alpha, A, atype, lda, B, btype, ldb,
                       (const float*)beta, C, ldc, tf32);
}

struct SyrkJob { long long n, k; const double* ap; double* c; long long ldc; double alpha, beta; bool lower; };

static void syrk_column(long j, void* ctx)
{
    SyrkJob* s = static_cast<SyrkJob*>(ctx);
    long long i0 = s->lower ? j : 0, i1 = s->lower ? s->n : j + 1;
    for (long long i = i0; i < i1; i++)
    {
        double sum = 0;
        const double* a = s->ap + i * s->k;
        const double* b = s->ap + j * s->k;
        for (long long p = 0; p < s->k; p++) sum = std::fma(a[p], b[p], sum);
        double* c = s->c + i + j * s->ldc;
        *c = s->beta == 0 ? s->alpha * sum : s->alpha * sum + s->beta * *c;
    }
}

// C = alpha op(A) op(A)^T + beta C, op(A) n x k; only the uplo triangle of C is referenced and written.
extern "C" cublasStatus_t cublasDsyrk_v2(void* handle, int uplo, int trans, int n, int k, const double* alpha,
                                         const double* A, int lda, const double* beta, double* C, int ldc)
{
    if (!as_handle(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if ((uplo != FILL_LOWER && uplo != FILL_UPPER) || !valid_op(trans) || n < 0 || k < 0) return CUBLAS_STATUS_INVALID_VALUE;
    bool t = trans != OP_N;
    if (lda < max1(t ? k : n) || ldc < max1(n)) return CUBLAS_STATUS_INVALID_VALUE;
    if (!alpha || !beta) return CUBLAS_STATUS_INVALID_VALUE;
    if (n == 0) return CUBLAS_STATUS_SUCCESS;
    bool use_a = k > 0 && *alpha != 0;
    if (use_a) require_inside("cublasDsyrk", "A", A, t ? k : n, t ? n : k, lda, 8);
    // the referenced triangle: lower ends at (n-1, n-1); upper starts at (0, 0) and ends at (n-1, n-1) too
    require_inside("cublasDsyrk", "C", C, n, n, ldc, 8);
    double alpha_v = use_a ? *alpha : 0.0, beta_v = *beta;
    gmemu_enqueue_lambda(as_handle(handle)->stream, "cublasDsyrk", {(uintptr_t)A, (uintptr_t)C}, [=] {
        std::vector<double> ap;
        if (use_a) pack<double>(ap, true, t, n, k, lda, [A](long long idx) { return A[idx]; });
        SyrkJob s{n, use_a ? k : 0, ap.data(), C, ldc, alpha_v, beta_v, uplo == FILL_LOWER};
        gmemu_parallel_for(n, syrk_column, &s, "cublasDsyrk");
    });
    return CUBLAS_STATUS_SUCCESS;
}

// ---- level 1 and DGMM (double). Results through a host pointer (CUBLAS_POINTER_MODE_HOST, the default)
// make the call blocking: the stream's earlier work runs first, as on a GPU.

static void require_vector(const char* api, const char* what, const void* x, long long n, long long inc)
{
    if (n <= 0) return;
    long long step = inc < 0 ? -inc : inc;
    size_t bytes = (size_t)(((n - 1) * step + 1) * 8);
    char why[512];
    if (!gmemu_check_range(x, bytes, why, sizeof why))
        gmemu_fatal("%s: vector %s (%lld elements, stride %lld) is not inside one device allocation: %s", api, what, n, inc, why);
}

extern "C" cublasStatus_t cublasDnrm2_v2(void* handle, int n, const double* x, int incx, double* result)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!result) return CUBLAS_STATUS_INVALID_VALUE;
    if (n <= 0 || incx <= 0) { *result = 0; return CUBLAS_STATUS_SUCCESS; }
    require_vector("cublasDnrm2", "x", x, n, incx);
    gmemu_stream_sync(h->stream);
    // scaled sum of squares (no overflow), as the reference BLAS
    double scale = 0, ssq = 1;
    for (long long i = 0; i < n; i++)
    {
        double v = std::fabs(x[i * incx]);
        if (v == 0) continue;
        if (scale < v) { ssq = 1 + ssq * (scale / v) * (scale / v); scale = v; }
        else ssq += (v / scale) * (v / scale);
    }
    *result = scale * std::sqrt(ssq);
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasDdot_v2(void* handle, int n, const double* x, int incx, const double* y, int incy, double* result)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!result) return CUBLAS_STATUS_INVALID_VALUE;
    if (n <= 0) { *result = 0; return CUBLAS_STATUS_SUCCESS; }
    if (incx <= 0 || incy <= 0)
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cublasDdot: non-positive strides not emulated\n");
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    require_vector("cublasDdot", "x", x, n, incx);
    require_vector("cublasDdot", "y", y, n, incy);
    gmemu_stream_sync(h->stream);
    double s = 0;
    for (long long i = 0; i < n; i++) s = std::fma(x[i * incx], y[i * incy], s);
    *result = s;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasDscal_v2(void* handle, int n, const double* alpha, double* x, int incx)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!alpha) return CUBLAS_STATUS_INVALID_VALUE;
    if (n <= 0 || incx <= 0) return CUBLAS_STATUS_SUCCESS;
    require_vector("cublasDscal", "x", x, n, incx);
    double a = *alpha;
    gmemu_enqueue_lambda(h->stream, "cublasDscal", {(uintptr_t)x}, [=] {
        for (long long i = 0; i < n; i++) x[i * incx] *= a;
    });
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasDaxpy_v2(void* handle, int n, const double* alpha, const double* x, int incx, double* y, int incy)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!alpha) return CUBLAS_STATUS_INVALID_VALUE;
    if (n <= 0) return CUBLAS_STATUS_SUCCESS;
    if (incx <= 0 || incy <= 0)
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cublasDaxpy: non-positive strides not emulated\n");
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    require_vector("cublasDaxpy", "x", x, n, incx);
    require_vector("cublasDaxpy", "y", y, n, incy);
    double a = *alpha;
    gmemu_enqueue_lambda(h->stream, "cublasDaxpy", {(uintptr_t)x, (uintptr_t)y}, [=] {
        for (long long i = 0; i < n; i++) y[i * incy] = std::fma(a, x[i * incx], y[i * incy]);
    });
    return CUBLAS_STATUS_SUCCESS;
}

// C = A diag(x) (CUBLAS_SIDE_RIGHT = 1) or diag(x) A (CUBLAS_SIDE_LEFT = 0), A and C m x n column-major.
extern "C" cublasStatus_t cublasDdgmm(void* handle, int mode, int m, int n, const double* A, int lda, const double* x, int incx,
                                      double* C, int ldc)
{
    Handle* h = as_handle(handle);
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if ((mode != 0 && mode != 1) || m < 0 || n < 0 || lda < max1(m) || ldc < max1(m)) return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    if (incx <= 0)
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cublasDdgmm: non-positive incx not emulated\n");
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    require_inside("cublasDdgmm", "A", A, m, n, lda, 8);
    require_inside("cublasDdgmm", "C", C, m, n, ldc, 8);
    require_vector("cublasDdgmm", "x", x, mode == 0 ? m : n, incx);
    gmemu_enqueue_lambda(h->stream, "cublasDdgmm", {(uintptr_t)A, (uintptr_t)x, (uintptr_t)C}, [=] {
        for (long long j = 0; j < n; j++)
            for (long long i = 0; i < m; i++)
                C[i + j * ldc] = A[i + j * lda] * x[(mode == 0 ? i : j) * incx];
    });
    return CUBLAS_STATUS_SUCCESS;
}
