// GenMetrics CUDA emulator: a fake libcusolver (libcusolver.so.12 for CUDA 13, libcusolver.so.11 for CUDA 12)
// with the dense symmetric eigensolver GenMetrics uses: cusolverDnDsyevd (+ _bufferSize), handles, streams.
// Semantics from the cuSOLVER documentation: A is n x n column-major, only the uplo triangle is read;
// jobz = CUSOLVER_EIG_MODE_VECTOR (1) overwrites A with orthonormal eigenvectors (columns), W gets the
// eigenvalues in ascending order; devInfo (device memory) = 0 on success, -i when parameter i is wrong,
// > 0 when the method did not converge. The work array must hold lwork >= the _bufferSize answer.
// Computed here by cyclic Jacobi in double (accurate to rounding; not cuSOLVER's algorithm or speed).
#include "emu.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <vector>

#ifndef GMEMU_TOOLKIT
#define GMEMU_TOOLKIT 13
#endif

typedef int cusolverStatus_t;
enum
{
    CUSOLVER_STATUS_SUCCESS = 0, CUSOLVER_STATUS_NOT_INITIALIZED = 1, CUSOLVER_STATUS_ALLOC_FAILED = 2,
    CUSOLVER_STATUS_INVALID_VALUE = 3, CUSOLVER_STATUS_ARCH_MISMATCH = 4, CUSOLVER_STATUS_EXECUTION_FAILED = 6,
    CUSOLVER_STATUS_INTERNAL_ERROR = 7,
};
enum { EIG_MODE_NOVECTOR = 0, EIG_MODE_VECTOR = 1 };
enum { FILL_LOWER = 0, FILL_UPPER = 1 };

struct Handle { int magic = 0x43534f4c; void* stream = nullptr; };
static Handle* as_handle(void* h) { return h && static_cast<Handle*>(h)->magic == 0x43534f4c ? static_cast<Handle*>(h) : nullptr; }

extern "C" cusolverStatus_t cusolverGetVersion(int* version)
{
    if (!version) return CUSOLVER_STATUS_INVALID_VALUE;
#if GMEMU_TOOLKIT == 12
    *version = 11704;  // CUDA 12.8 ships cuSOLVER 11.7 (major*1000 + minor*100 + patch)
#else
    *version = 12000;  // CUDA 13.0 ships cuSOLVER 12.0
#endif
    return CUSOLVER_STATUS_SUCCESS;
}

extern "C" cusolverStatus_t cusolverDnCreate(void** handle)
{
    if (!handle) return CUSOLVER_STATUS_INVALID_VALUE;
    *handle = new Handle;
    return CUSOLVER_STATUS_SUCCESS;
}
extern "C" cusolverStatus_t cusolverDnDestroy(void* handle)
{
    Handle* h = as_handle(handle);
    if (!h) return CUSOLVER_STATUS_NOT_INITIALIZED;
    h->magic = 0;
    delete h;
    return CUSOLVER_STATUS_SUCCESS;
}
extern "C" cusolverStatus_t cusolverDnSetStream(void* handle, void* stream)
{
    Handle* h = as_handle(handle);
    if (!h) return CUSOLVER_STATUS_NOT_INITIALIZED;
    h->stream = stream;
    return CUSOLVER_STATUS_SUCCESS;
}

static long long syevd_lwork(int jobz, int n)
{
    if (n <= 1) return 1;
    return jobz == EIG_MODE_VECTOR ? 1 + 6LL * n + 2LL * n * n : 2LL * n + 1;
}

extern "C" cusolverStatus_t cusolverDnDsyevd_bufferSize(void* handle, int jobz, int uplo, int n, const double* A, int lda,
                                                        const double* W, int* lwork)
{
    if (!as_handle(handle)) return CUSOLVER_STATUS_NOT_INITIALIZED;
    if ((jobz != EIG_MODE_NOVECTOR && jobz != EIG_MODE_VECTOR) || (uplo != FILL_LOWER && uplo != FILL_UPPER) || n < 0 ||
        lda < std::max(1, n) || !lwork)
        return CUSOLVER_STATUS_INVALID_VALUE;
    *lwork = (int)syevd_lwork(jobz, n);
    return CUSOLVER_STATUS_SUCCESS;
}

static void require(const char* what, const void* p, size_t bytes)
{
    char why[512];
    if (!gmemu_check_range(p, bytes, why, sizeof why)) gmemu_fatal("cusolverDnDsyevd: %s is not inside one device allocation: %s", what, why);
}

// Cyclic Jacobi: eigenvalues (ascending) and, when vectors, the orthonormal eigenvectors as columns of v.
static bool jacobi(int n, std::vector<double>& a, std::vector<double>& w, std::vector<double>& v)
{
    v.assign((size_t)n * n, 0.0);
    for (int i = 0; i < n; i++) v[(size_t)i * n + i] = 1;
    auto A = [&](int i, int j) -> double& { return a[(size_t)i + (size_t)j * n]; };
    bool converged = false;
    for (int sweep = 0; sweep < 100 && !converged; sweep++)
    {
        double off = 0, total = 0;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++) { double x = A(i, j) * A(i, j); total += x; if (i != j) off += x; }
        if (off <= 1e-30 * total || off == 0) { converged = true; break; }
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++)
            {
                double apq = A(p, q);
                if (apq == 0) continue;
                double theta = (A(q, q) - A(p, p)) / (2 * apq);
                double t = std::copysign(1.0, theta) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
                double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++)
                {
                    double akp = A(k, p), akq = A(k, q);
                    A(k, p) = c * akp - s * akq;
                    A(k, q) = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++)
                {
                    double apk = A(p, k), aqk = A(q, k);
                    A(p, k) = c * apk - s * aqk;
                    A(q, k) = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++)
                {
                    double vkp = v[(size_t)k + (size_t)p * n], vkq = v[(size_t)k + (size_t)q * n];
                    v[(size_t)k + (size_t)p * n] = c * vkp - s * vkq;
                    v[(size_t)k + (size_t)q * n] = s * vkp + c * vkq;
                }
            }
    }
    w.resize((size_t)n);
    for (int i = 0; i < n; i++) w[(size_t)i] = A(i, i);
    return converged;
}

extern "C" cusolverStatus_t cusolverDnDsyevd(void* handle, int jobz, int uplo, int n, double* A, int lda, double* W, double* work,
                                             int lwork, int* devInfo)
{
    Handle* h = as_handle(handle);
    if (!h) return CUSOLVER_STATUS_NOT_INITIALIZED;
    if ((jobz != EIG_MODE_NOVECTOR && jobz != EIG_MODE_VECTOR) || (uplo != FILL_LOWER && uplo != FILL_UPPER) || n < 0 ||
        lda < std::max(1, n))
        return CUSOLVER_STATUS_INVALID_VALUE;
    if (!devInfo) return CUSOLVER_STATUS_INVALID_VALUE;
    require("devInfo", devInfo, sizeof(int));
    if (n == 0) return CUSOLVER_STATUS_SUCCESS;
    require("A", A, ((size_t)(n - 1) * lda + n) * 8);
    require("W", W, (size_t)n * 8);
    if (lwork < syevd_lwork(jobz, n))
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cusolverDnDsyevd: lwork %d is below the %lld that _bufferSize reports\n", lwork,
                syevd_lwork(jobz, n));
        return CUSOLVER_STATUS_INVALID_VALUE;
    }
    require("work", work, (size_t)lwork * 8);
    gmemu_enqueue_lambda(h->stream, "cusolverDnDsyevd", {(uintptr_t)A, (uintptr_t)W, (uintptr_t)work, (uintptr_t)devInfo}, [=] {
        // The workspace's content is undefined afterwards: scribble on it, so that nobody relies on it.
        std::fill(work, work + lwork, std::nan(""));
        std::vector<double> a((size_t)n * n);
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
            {
                bool stored = uplo == FILL_LOWER ? i >= j : i <= j;
                a[(size_t)i + (size_t)j * n] = stored ? A[i + (size_t)j * lda] : A[j + (size_t)i * lda];
            }
        std::vector<double> w, v;
        bool ok = jacobi(n, a, w, v);
        std::vector<int> order((size_t)n);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return w[(size_t)x] < w[(size_t)y]; });
        for (int i = 0; i < n; i++) W[i] = w[(size_t)order[(size_t)i]];
        if (jobz == EIG_MODE_VECTOR)
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++) A[i + (size_t)j * lda] = v[(size_t)i + (size_t)order[(size_t)j] * n];
        *devInfo = ok ? 0 : 1;
    });
    return CUSOLVER_STATUS_SUCCESS;
}
