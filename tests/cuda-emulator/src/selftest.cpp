// Self-test of the GenMetrics CUDA emulator: its cuBLAS against naive loops for several trans/ld
// combinations, argument checks, and small kernels with shuffles, votes, atomics and __syncthreads whose
// results are known; plus (in child processes) that misuse is reported loudly.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern "C" {
int cuInit(unsigned);
int cuDevicePrimaryCtxRetain(void**, int);
int cuCtxSetCurrent(void*);
int cuMemAlloc_v2(unsigned long long*, size_t);
int cuMemFree_v2(unsigned long long);
int cuMemcpyHtoDAsync_v2(unsigned long long, const void*, size_t, void*);
int cuMemcpyDtoHAsync_v2(void*, unsigned long long, size_t, void*);
int cuStreamSynchronize(void*);
int cuStreamCreate(void**, unsigned);
int cuStreamDestroy_v2(void*);
int cuEventCreate(void**, unsigned);
int cuEventDestroy_v2(void*);
int cuEventRecord(void*, void*);
int cuStreamWaitEvent(void*, void*, unsigned);
int cuMemcpyDtoDAsync_v2(unsigned long long, unsigned long long, size_t, void*);
int cuMemHostAlloc(void**, size_t, unsigned);
int cuMemFreeHost(void*);
int cublasDnrm2_v2(void*, int, const double*, int, double*);
int cublasDdot_v2(void*, int, const double*, int, const double*, int, double*);
int cusolverDnCreate(void**);
int cusolverDnDsyevd_bufferSize(void*, int, int, int, const double*, int, const double*, int*);
int cusolverDnDsyevd(void*, int, int, int, double*, int, double*, double*, int, int*);
int cuModuleLoadDataEx(void**, const void*, unsigned, int*, void**);
int cuModuleGetFunction(void**, void*, const char*);
int cuLaunchKernel(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**, void**);
int nvrtcCreateProgram(void**, const char*, const char*, int, const char* const*, const char* const*);
int nvrtcCompileProgram(void*, int, const char* const*);
int nvrtcGetCUBINSize(void*, size_t*);
int nvrtcGetCUBIN(void*, char*);
int nvrtcGetProgramLogSize(void*, size_t*);
int nvrtcGetProgramLog(void*, char*);
int nvrtcDestroyProgram(void**);
int cublasCreate_v2(void**);
int cublasSetMathMode(void*, int);
int cublasSgemm_v2(void*, int, int, int, int, int, const float*, const float*, int, const float*, int, const float*, float*, int);
int cublasDgemm_v2(void*, int, int, int, int, int, const double*, const double*, int, const double*, int, const double*, double*, int);
int cublasDsyrk_v2(void*, int, int, int, int, const double*, const double*, int, const double*, double*, int);
int cublasGemmEx(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int, const void*, void*, int, int, int, int);
}

static int failures = 0;
#define EXPECT(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define OK(x) do { int r_ = (x); if (r_ != 0) { fprintf(stderr, "FAIL %s:%d: %s returned %d\n", __FILE__, __LINE__, #x, r_); exit(1); } } while (0)

template <class T> static unsigned long long upload(const std::vector<T>& v)
{
    unsigned long long d;
    OK(cuMemAlloc_v2(&d, v.size() * sizeof(T)));
    OK(cuMemcpyHtoDAsync_v2(d, v.data(), v.size() * sizeof(T), nullptr));
    OK(cuStreamSynchronize(nullptr));  // v may be a temporary: the upload must have run before it goes
    return d;
}
template <class T> static std::vector<T> download(unsigned long long d, size_t n)
{
    std::vector<T> v(n);
    OK(cuMemcpyDtoHAsync_v2(v.data(), d, n * sizeof(T), nullptr));
    OK(cuStreamSynchronize(nullptr));  // the copy runs at the synchronisation (streams are deferred)
    return v;
}
// Streams are deferred: memory is freed only after the work queued on it has run.
static void free_synced(unsigned long long d)
{
    OK(cuStreamSynchronize(nullptr));
    OK(cuMemFree_v2(d));
}

static float tf32(float x) { unsigned b; memcpy(&b, &x, 4); b += 0xfffu + ((b >> 13) & 1u); b &= ~0x1fffu; memcpy(&x, &b, 4); return x; }

// Naive reference: C = alpha op(A) op(B) + beta C, column-major, double accumulation.
template <class T, class La, class Lb>
static std::vector<double> reference(int ta, int tb, int m, int n, int k, double alpha, La a, int lda, Lb b, int ldb, double beta,
                                     const std::vector<T>& c, int ldc)
{
    std::vector<double> r(c.begin(), c.end());
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++)
        {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)a(ta ? p + i * lda : i + p * lda) * (double)b(tb ? j + p * ldb : p + j * ldb);
            r[i + j * ldc] = alpha * s + beta * (double)c[i + j * ldc];
        }
    return r;
}

static void test_gemms(void* h)
{
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1, 1);
    int shapes[][3] = {{5, 7, 3}, {17, 4, 9}, {33, 31, 64}, {1, 1, 1}};
    for (auto& s : shapes)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int pad = 0; pad < 3; pad += 2)
                {
                    int m = s[0], n = s[1], k = s[2];
                    int lda = (ta ? k : m) + pad, ldb = (tb ? n : k) + pad, ldc = m + pad;
                    int acols = ta ? m : k, bcols = tb ? k : n;
                    std::vector<double> ad(lda * acols), bd(ldb * bcols), cd(ldc * n);
                    for (auto& x : ad) x = u(rng);
                    for (auto& x : bd) x = u(rng);
                    for (auto& x : cd) x = u(rng);
                    std::vector<float> af(ad.begin(), ad.end()), bf(bd.begin(), bd.end()), cf(cd.begin(), cd.end());
                    // Dgemm
                    {
                        double alpha = 0.75, beta = -0.5;
                        auto A = upload(ad), B = upload(bd), C = upload(cd);
                        OK(cublasDgemm_v2(h, ta, tb, m, n, k, &alpha, (double*)A, lda, (double*)B, ldb, &beta, (double*)C, ldc));
                        auto got = download<double>(C, cd.size());
                        auto want = reference<double>(ta, tb, m, n, k, alpha, [&](int i) { return ad[i]; }, lda, [&](int i) { return bd[i]; }, ldb, beta, cd, ldc);
                        for (int j = 0; j < n; j++) for (int i = 0; i < m; i++)
                            EXPECT(std::fabs(got[i + j * ldc] - want[i + j * ldc]) < 1e-12, "Dgemm ta=%d tb=%d %dx%dx%d (%d,%d)", ta, tb, m, n, k, i, j);
                        for (int j = 0; j < n; j++) for (int i = m; i < ldc; i++)
                            EXPECT(got[i + j * ldc] == cd[i + j * ldc], "Dgemm wrote padding");
                        free_synced(A); free_synced(B); free_synced(C);
                    }
                    // Sgemm, GemmEx fp32 / tf32 / fp16
                    for (int variant = 0; variant < 4; variant++)
                    {
                        float alpha = 1.25f, beta = variant == 3 ? 0.0f : 0.5f;
                        std::vector<float> cin = cf;
                        if (variant == 3) for (auto& x : cin) x = NAN;  // beta == 0: C must not be read
                        auto C = upload(cin);
                        std::vector<double> want;
                        double tol = 1e-5;
                        if (variant == 3)
                        {
                            std::vector<_Float16> ah(af.begin(), af.end()), bh(bf.begin(), bf.end());
                            auto A = upload(ah), B = upload(bh);
                            OK(cublasGemmEx(h, ta, tb, m, n, k, &alpha, (void*)A, 2, lda, (void*)B, 2, ldb, &beta, (void*)C, 0, ldc, 68, -1));
                            std::vector<float> zero(cin.size(), 0.0f);
                            want = reference<float>(ta, tb, m, n, k, alpha, [&](int i) { return (float)ah[i]; }, lda, [&](int i) { return (float)bh[i]; }, ldb, 0.0, zero, ldc);
                            free_synced(A); free_synced(B);
                        }
                        else
                        {
                            auto A = upload(af), B = upload(bf);
                            if (variant == 0) OK(cublasSgemm_v2(h, ta, tb, m, n, k, &alpha, (float*)A, lda, (float*)B, ldb, &beta, (float*)C, ldc));
                            else OK(cublasGemmEx(h, ta, tb, m, n, k, &alpha, (void*)A, 0, lda, (void*)B, 0, ldb, &beta, (void*)C, 0, ldc, variant == 2 ? 77 : 68, -1));
                            auto load = [&](const std::vector<float>& v) { return [&v, variant](int i) { return variant == 2 ? tf32(v[i]) : v[i]; }; };
                            want = reference<float>(ta, tb, m, n, k, alpha, load(af), lda, load(bf), ldb, beta, cf, ldc);
                            free_synced(A); free_synced(B);
                        }
                        auto got = download<float>(C, cin.size());
                        for (int j = 0; j < n; j++) for (int i = 0; i < m; i++)
                            EXPECT(std::fabs(got[i + j * ldc] - want[i + j * ldc]) < tol * (1 + k), "float gemm variant %d ta=%d tb=%d %dx%dx%d (%d,%d): %g vs %g",
                                   variant, ta, tb, m, n, k, i, j, got[i + j * ldc], want[i + j * ldc]);
                        free_synced(C);
                    }
                    // Dsyrk lower/upper, trans N/T: n = m, k = k
                    for (int uplo = 0; uplo < 2; uplo++)
                    {
                        int nn = m, lda2 = (ta ? k : nn) + pad, ldc2 = nn + pad, cols = ta ? nn : k;
                        std::vector<double> a2(lda2 * cols), c2(ldc2 * nn);
                        for (auto& x : a2) x = u(rng);
                        for (auto& x : c2) x = u(rng);
                        double alpha = 2.0, beta = 0.25;
                        auto A = upload(a2), C = upload(c2);
                        OK(cublasDsyrk_v2(h, uplo, ta, nn, k, &alpha, (double*)A, lda2, &beta, (double*)C, ldc2));
                        auto got = download<double>(C, c2.size());
                        // op(A) op(A)^T = reference gemm with (ta, !ta) on the same matrix
                        auto want = reference<double>(ta, !ta, nn, nn, k, alpha, [&](int i) { return a2[i]; }, lda2, [&](int i) { return a2[i]; }, lda2, beta, c2, ldc2);
                        for (int j = 0; j < nn; j++) for (int i = 0; i < nn; i++)
                        {
                            bool in = uplo == 0 ? i >= j : i <= j;
                            double w = in ? want[i + j * ldc2] : c2[i + j * ldc2];
                            EXPECT(std::fabs(got[i + j * ldc2] - w) < 1e-12, "Dsyrk uplo=%d trans=%d n=%d k=%d (%d,%d)", uplo, ta, nn, k, i, j);
                        }
                        free_synced(A); free_synced(C);
                    }
                }
    // documented argument checks
    float one = 1, zero = 0;
    unsigned long long A, B, C;
    OK(cuMemAlloc_v2(&A, 4 * 100)); OK(cuMemAlloc_v2(&B, 4 * 100)); OK(cuMemAlloc_v2(&C, 4 * 100));
    EXPECT(cublasSgemm_v2(h, 0, 0, 4, 4, 4, &one, (float*)A, 3, (float*)B, 4, &zero, (float*)C, 4) == 7, "lda < m not rejected");
    EXPECT(cublasSgemm_v2(h, 1, 0, 4, 4, 5, &one, (float*)A, 4, (float*)B, 5, &zero, (float*)C, 4) == 7, "lda < k (trans) not rejected");
    EXPECT(cublasSgemm_v2(h, 0, 1, 4, 4, 4, &one, (float*)A, 4, (float*)B, 3, &zero, (float*)C, 4) == 7, "ldb < n (trans) not rejected");
    EXPECT(cublasSgemm_v2(h, 0, 0, 4, 4, 4, &one, (float*)A, 4, (float*)B, 4, &zero, (float*)C, 3) == 7, "ldc < m not rejected");
    EXPECT(cublasSgemm_v2(h, 5, 0, 4, 4, 4, &one, (float*)A, 4, (float*)B, 4, &zero, (float*)C, 4) == 7, "bad op not rejected");
    EXPECT(cublasSgemm_v2(h, 0, 0, -1, 4, 4, &one, (float*)A, 4, (float*)B, 4, &zero, (float*)C, 4) == 7, "m < 0 not rejected");
    EXPECT(cublasDsyrk_v2(h, 0, 0, 4, 4, (double*)&one, (double*)A, 3, (double*)&zero, (double*)C, 4) == 7, "syrk lda < n not rejected");
    EXPECT(cublasDsyrk_v2(h, 0, 1, 4, 5, (double*)&one, (double*)A, 4, (double*)&zero, (double*)C, 4) == 7, "syrk lda < k (trans) not rejected");
    EXPECT(cublasDsyrk_v2(h, 7, 0, 4, 4, (double*)&one, (double*)A, 4, (double*)&zero, (double*)C, 4) == 7, "syrk bad uplo not rejected");
    EXPECT(cublasGemmEx(h, 0, 0, 4, 4, 4, &one, (void*)A, 2, 4, (void*)B, 2, 4, &zero, (void*)C, 0, 4, 77, -1) == 15, "fp16 with FAST_TF32 not rejected");
    EXPECT(cublasSetMathMode(h, 9) == 7, "invalid math mode accepted");
    free_synced(A); free_synced(B); free_synced(C);
}

static const char* kKernels = R"(
#define N 256
extern "C" __global__ void __launch_bounds__(256) collectives(const int* in, int* warp_sums, int* total, float* fsum,
                                                              unsigned* ballots, int* block_max, int* shared_check, int* up_down)
{
    __shared__ int tile[N];
    int t = threadIdx.x, lane = t % 32, warp = t / 32;
    int v = in[blockIdx.x * N + t];
    tile[t] = v;
    __syncthreads();
    shared_check[blockIdx.x * N + t] = tile[N - 1 - t];   // needs every thread's store before the barrier
    int s = v;
    for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) warp_sums[blockIdx.x * 8 + warp] = s;
    int b = __shfl_sync(0xffffffffu, v, 3);               // broadcast lane 3
    if (b != in[blockIdx.x * N + warp * 32 + 3]) __trap();
    int up = __shfl_up_sync(0xffffffffu, v, 1), down = __shfl_down_sync(0xffffffffu, v, 1);
    up_down[(blockIdx.x * N + t) * 2] = up;
    up_down[(blockIdx.x * N + t) * 2 + 1] = down;
    unsigned ballot = __ballot_sync(0xffffffffu, v % 2 == 0);
    if (lane == 0) ballots[blockIdx.x * 8 + warp] = ballot;
    if (__all_sync(0xffffffffu, v >= 0) != 1 || __any_sync(0xffffffffu, v > 1000000) != 0) __trap();
    atomicAdd(total, v);
    atomicAdd(fsum, 0.5f);
    atomicMax(block_max, v);
    if (lane < 16) { int h = __shfl_xor_sync(0x0000ffffu, v, 1, 16); if (h != in[blockIdx.x * N + (t ^ 1)]) __trap(); }
    __syncwarp();
}
extern "C" __global__ void out_of_bounds(const float* p, int n, float* out) { out[0] = p[n]; }
extern "C" __global__ void bad_shuffle(int* out)
{
    if (threadIdx.x >= 16) return;
    out[threadIdx.x] = __shfl_sync(0xffffffffu, (int)threadIdx.x, threadIdx.x + 16);
}
extern "C" __global__ void diverged_barrier(int* out)
{
    if (threadIdx.x == 5) return;
    __syncthreads();
    out[threadIdx.x] = 1;
}
)";

static void* compile_module()
{
    void* prog;
    OK(nvrtcCreateProgram(&prog, kKernels, "selftest.cu", 0, nullptr, nullptr));
    const char* opts[] = {"--gpu-architecture=sm_90", "--std=c++17", "-lineinfo"};
    int r = nvrtcCompileProgram(prog, 3, opts);
    if (r != 0)
    {
        size_t n; nvrtcGetProgramLogSize(prog, &n);
        std::string log(n, 0); nvrtcGetProgramLog(prog, &log[0]);
        fprintf(stderr, "FAIL: selftest kernels do not compile:\n%s\n", log.c_str());
        exit(1);
    }
    size_t size;
    OK(nvrtcGetCUBINSize(prog, &size));
    std::vector<char> cubin(size);
    OK(nvrtcGetCUBIN(prog, cubin.data()));
    nvrtcDestroyProgram(&prog);
    void* module;
    OK(cuModuleLoadDataEx(&module, cubin.data(), 0, nullptr, nullptr));
    // options NVRTC rejects, and compile errors, come back as such
    OK(nvrtcCreateProgram(&prog, "extern \"C\" __global__ void k() { undeclared(); }", "bad.cu", 0, nullptr, nullptr));
    const char* bad_opt[] = {"--no-such-option"};
    EXPECT(nvrtcCompileProgram(prog, 1, bad_opt) == 5, "unknown option not rejected");
    EXPECT(nvrtcCompileProgram(prog, 0, nullptr) == 6, "compile error not reported");
    nvrtcDestroyProgram(&prog);
    OK(nvrtcCreateProgram(&prog, "#include <math.h>\nextern \"C\" __global__ void k() {}", "inc.cu", 0, nullptr, nullptr));
    EXPECT(nvrtcCompileProgram(prog, 0, nullptr) == 6, "host header include accepted (NVRTC has none)");
    nvrtcDestroyProgram(&prog);
    return module;
}

static void test_kernels(void* module)
{
    void* f;
    OK(cuModuleGetFunction(&f, module, "collectives"));
    EXPECT(cuModuleGetFunction(&f, module, "no_such_kernel") == 500, "missing kernel not CUDA_ERROR_NOT_FOUND");
    OK(cuModuleGetFunction(&f, module, "collectives"));
    const int blocks = 6, n = 256;
    std::vector<int> in(blocks * n);
    for (size_t i = 0; i < in.size(); i++) in[i] = (int)((i * 7919) % 1000);
    auto din = upload(in);
    auto dws = upload(std::vector<int>(blocks * 8, 0));
    auto dtotal = upload(std::vector<int>(1, 0));
    auto dfsum = upload(std::vector<float>(1, 0.0f));
    auto dballot = upload(std::vector<unsigned>(blocks * 8, 0));
    auto dmax = upload(std::vector<int>(1, -1));
    auto dshared = upload(std::vector<int>(blocks * n, 0));
    auto dupdown = upload(std::vector<int>(blocks * n * 2, 0));
    void* args[] = {&din, &dws, &dtotal, &dfsum, &dballot, &dmax, &dshared, &dupdown};
    EXPECT(cuLaunchKernel(f, blocks, 1, 1, 512, 1, 1, 0, nullptr, args, nullptr) == 1, "block over __launch_bounds__ accepted");
    EXPECT(cuLaunchKernel(f, blocks, 1, 1, 2048, 1, 1, 0, nullptr, args, nullptr) == 1, "2048-thread block accepted");
    OK(cuLaunchKernel(f, blocks, 1, 1, n, 1, 1, 0, nullptr, args, nullptr));
    auto ws = download<int>(dws, blocks * 8);
    auto total = download<int>(dtotal, 1)[0];
    auto fsum = download<float>(dfsum, 1)[0];
    auto ballots = download<unsigned>(dballot, blocks * 8);
    auto mx = download<int>(dmax, 1)[0];
    auto sh = download<int>(dshared, blocks * n);
    auto ud = download<int>(dupdown, blocks * n * 2);
    long long expect_total = 0;
    int expect_max = -1;
    for (int b = 0; b < blocks; b++)
        for (int w = 0; w < 8; w++)
        {
            int s = 0;
            unsigned bal = 0;
            for (int l = 0; l < 32; l++)
            {
                int v = in[b * n + w * 32 + l];
                s += v;
                if (v % 2 == 0) bal |= 1u << l;
                expect_total += v;
                expect_max = std::max(expect_max, v);
                int t = w * 32 + l;
                EXPECT(sh[b * n + t] == in[b * n + n - 1 - t], "shared memory after __syncthreads wrong at %d/%d", b, t);
                int up = l == 0 ? v : in[b * n + t - 1], down = l == 31 ? v : in[b * n + t + 1];
                EXPECT(ud[(b * n + t) * 2] == up && ud[(b * n + t) * 2 + 1] == down, "shfl_up/down wrong at %d/%d", b, t);
            }
            EXPECT(ws[b * 8 + w] == s, "warp sum %d/%d: %d vs %d", b, w, ws[b * 8 + w], s);
            EXPECT(ballots[b * 8 + w] == bal, "ballot %d/%d", b, w);
        }
    EXPECT(total == expect_total, "atomicAdd total %d vs %lld", total, expect_total);
    EXPECT(fsum == 0.5f * blocks * n, "float atomicAdd %g", fsum);
    EXPECT(mx == expect_max, "atomicMax %d vs %d", mx, expect_max);
}

// Two streams ordered by events (cuStreamWaitEvent): the waiting stream sees the work before the record; the
// recording stream runs as far ahead as the driver allows, so work queued there later without a wait back
// overtakes the waiting stream's work (what a double-buffered tile loop must prevent with a second event).
static void test_stream_wait_event()
{
    void *a, *b, *filled, *read;
    OK(cuStreamCreate(&a, 1));
    OK(cuStreamCreate(&b, 1));
    OK(cuEventCreate(&filled, 2));
    OK(cuEventCreate(&read, 2));
    OK(cuStreamWaitEvent(b, filled, 0));  // never recorded: complete, no effect
    EXPECT(cuStreamWaitEvent(b, filled, 1) == 1, "cuStreamWaitEvent with flags 1 not refused (CUDA_ERROR_INVALID_VALUE)");
    auto ones = upload(std::vector<float>(8, 1.0f));
    auto twos = upload(std::vector<float>(8, 2.0f));
    auto buffer = upload(std::vector<float>(8, 0.0f));
    auto out = upload(std::vector<float>(8, 0.0f));
    for (int with_wait_back = 0; with_wait_back < 2; with_wait_back++)
    {
        OK(cuMemcpyDtoDAsync_v2(buffer, ones, 32, a));   // "GEMM" of tile t into the buffer
        OK(cuEventRecord(filled, a));
        OK(cuStreamWaitEvent(b, filled, 0));
        OK(cuMemcpyDtoDAsync_v2(out, buffer, 32, b));    // "reduction" of tile t reads it
        OK(cuEventRecord(read, b));
        if (with_wait_back) OK(cuStreamWaitEvent(a, read, 0));
        OK(cuMemcpyDtoDAsync_v2(buffer, twos, 32, a));   // "GEMM" of tile t + 2 into the same buffer
        OK(cuStreamSynchronize(b));
        OK(cuStreamSynchronize(a));
        float got = download<float>(out, 8)[0];
        if (with_wait_back) EXPECT(got == 1.0f, "with the wait back the reader saw %g, expected the first fill 1", got);
        else EXPECT(got == 2.0f, "without the wait back the recording stream did not run ahead (reader saw %g, expected 2)", got);
    }
    for (auto d : {ones, twos, buffer, out}) free_synced(d);
    OK(cuEventDestroy_v2(filled));
    OK(cuEventDestroy_v2(read));
    OK(cuStreamDestroy_v2(a));
    OK(cuStreamDestroy_v2(b));
}

// Deferred streams: a download is not there before the synchronisation; level-1 results and syevd.
static void test_streams_and_solver(void* h)
{
    auto d = upload(std::vector<float>(16, 3.0f));
    std::vector<float> host(16, -1.0f);
    OK(cuMemcpyDtoHAsync_v2(host.data(), d, 64, nullptr));
    EXPECT(host[0] == -1.0f, "a download was complete before any synchronisation (streams not deferred)");
    OK(cuStreamSynchronize(nullptr));
    EXPECT(host[0] == 3.0f && host[15] == 3.0f, "download after synchronisation: %g", host[0]);
    free_synced(d);

    std::vector<double> x = {3, 4, 0, 12};
    auto dx = upload(x);
    double r = 0;
    OK(cublasDnrm2_v2(h, 4, (double*)dx, 1, &r));
    EXPECT(std::fabs(r - 13) < 1e-15, "Dnrm2 %g", r);
    OK(cublasDdot_v2(h, 2, (double*)dx, 2, (double*)dx, 1, &r));  // x0*x0 + x2*x1
    EXPECT(r == 9, "Ddot with strides %g", r);
    free_synced(dx);

    // syevd on a symmetric 3 x 3 with known eigenvalues 1, 2, 4: A = Q diag Q^T, Q a rotation.
    const int n = 3;
    double c = std::cos(0.3), sn = std::sin(0.3);
    double q[9] = {c, sn, 0, -sn, c, 0, 0, 0, 1};  // column-major
    double lam[3] = {4, 1, 2};
    std::vector<double> a(9);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
        {
            double v = 0;
            for (int k = 0; k < n; k++) v += q[i + k * n] * lam[k] * q[j + k * n];
            a[i + j * n] = i >= j ? v : 1e300;  // the upper triangle must not be read (uplo = lower)
        }
    void* s;
    OK(cusolverDnCreate(&s));
    auto da = upload(a);
    unsigned long long dw, dinfo, dwork;
    OK(cuMemAlloc_v2(&dw, 3 * 8));
    OK(cuMemAlloc_v2(&dinfo, 4));
    int lwork = 0;
    OK(cusolverDnDsyevd_bufferSize(s, 1, 0, n, (double*)da, n, (double*)dw, &lwork));
    EXPECT(cusolverDnDsyevd(s, 1, 0, n, (double*)da, n, (double*)dw, nullptr, lwork - 1, (int*)dinfo) == 3, "lwork below bufferSize accepted");
    OK(cuMemAlloc_v2(&dwork, (size_t)lwork * 8));
    OK(cusolverDnDsyevd(s, 1, 0, n, (double*)da, n, (double*)dw, (double*)dwork, lwork, (int*)dinfo));
    auto w = download<double>(dw, 3);
    auto info = download<int>(dinfo, 1);
    auto v = download<double>(da, 9);
    EXPECT(info[0] == 0, "syevd devInfo %d", info[0]);
    EXPECT(std::fabs(w[0] - 1) < 1e-13 && std::fabs(w[1] - 2) < 1e-13 && std::fabs(w[2] - 4) < 1e-13, "syevd eigenvalues %g %g %g", w[0], w[1], w[2]);
    // A v_k = w_k v_k with the original (full) matrix
    for (int k = 0; k < n; k++)
        for (int i = 0; i < n; i++)
        {
            double av = 0;
            for (int j = 0; j < n; j++) av += a[i >= j ? i + j * n : j + i * n] * v[j + k * n];
            EXPECT(std::fabs(av - w[k] * v[i + k * n]) < 1e-12, "syevd eigenvector %d row %d", k, i);
        }
    free_synced(da); free_synced(dw); free_synced(dinfo); free_synced(dwork);
}

// Runs body in a child process and expects it to die with a message containing `needle`.
template <class F> static void expect_abort(const char* what, const char* needle, F body)
{
    int fds[2];
    if (pipe(fds) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0)
    {
        dup2(fds[1], 2);
        close(fds[0]);
        body();
        _exit(0);
    }
    close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t r; (r = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, (size_t)r);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    bool died = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
    if (died && out.find(needle) != std::string::npos) printf("  reported loudly: %s\n", what);
    EXPECT(died && out.find(needle) != std::string::npos, "%s: expected a loud failure mentioning '%s', got status %d and:\n%s", what, needle, status, out.c_str());
}

int main()
{
    OK(cuInit(0));
    void* ctx;
    OK(cuDevicePrimaryCtxRetain(&ctx, 0));
    OK(cuCtxSetCurrent(ctx));
    void* h;
    OK(cublasCreate_v2(&h));
    test_gemms(h);
    void* module = compile_module();
    test_kernels(module);
    unsigned long long big;
    EXPECT(cuMemAlloc_v2(&big, (size_t)1 << 44) == 2, "16 TiB allocation did not fail with CUDA_ERROR_OUT_OF_MEMORY");

    expect_abort("kernel reading one element past an allocation", "guard page", [&] {
        void* f; OK(cuModuleGetFunction(&f, module, "out_of_bounds"));
        auto p = upload(std::vector<float>(10, 1.0f)); auto o = upload(std::vector<float>(1, 0.0f)); int n = 10;
        void* args[] = {&p, &n, &o};
        cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, nullptr, args, nullptr);
        cuStreamSynchronize(nullptr);
    });
    expect_abort("shuffle from exited lanes", "has exited", [&] {
        void* f; OK(cuModuleGetFunction(&f, module, "bad_shuffle"));
        auto o = upload(std::vector<int>(32, 0)); void* args[] = {&o};
        cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr);
        cuStreamSynchronize(nullptr);
    });
    expect_abort("__syncthreads after some threads exited", "__syncthreads", [&] {
        void* f; OK(cuModuleGetFunction(&f, module, "diverged_barrier"));
        auto o = upload(std::vector<int>(64, 0)); void* args[] = {&o};
        cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, nullptr, args, nullptr);
        cuStreamSynchronize(nullptr);
    });
    expect_abort("host pointer as kernel argument", "not device memory", [&] {
        void* f; OK(cuModuleGetFunction(&f, module, "bad_shuffle"));
        std::vector<int> host(32); int* hp = host.data(); void* args[] = {&hp};
        cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr);
        cuStreamSynchronize(nullptr);
    });
    expect_abort("cuBLAS reading past an allocation", "not inside one device allocation", [&] {
        unsigned long long a; OK(cuMemAlloc_v2(&a, 4 * 15)); float one = 1, zero = 0;
        cublasSgemm_v2(h, 0, 0, 4, 4, 4, &one, (float*)a, 4, (float*)a, 4, &zero, (float*)a, 4);
        cuStreamSynchronize(nullptr);
    });
    test_streams_and_solver(h);
    test_stream_wait_event();
    expect_abort("freeing device memory that queued work still reads", "still reads or writes this allocation", [&] {
        auto d = upload(std::vector<float>(1000, 1.0f));
        std::vector<float> host(1000);
        OK(cuMemcpyDtoHAsync_v2(host.data(), d, 4000, nullptr));
        cuMemFree_v2(d);  // no synchronisation: the queued download still reads d
    });
    expect_abort("changing a pageable host buffer before its queued upload ran", "host buffer changed", [&] {
        unsigned long long d; OK(cuMemAlloc_v2(&d, 4000));
        std::vector<float> host(1000, 1.0f);
        OK(cuMemcpyHtoDAsync_v2(d, host.data(), 4000, nullptr));
        host[7] = 2.0f;  // reused at once, as if the driver had staged it
        cuStreamSynchronize(nullptr);
    });
    expect_abort("releasing pinned memory that a queued upload still reads", "still reads or writes this pinned buffer", [&] {
        unsigned long long d; OK(cuMemAlloc_v2(&d, 4000));
        void* pinned; OK(cuMemHostAlloc(&pinned, 4000, 0));
        OK(cuMemcpyHtoDAsync_v2(d, pinned, 4000, nullptr));
        cuMemFreeHost(pinned);
    });
    if (failures) { fprintf(stderr, "emulator self-test: %d failure(s)\n", failures); return 1; }
    printf("emulator self-test: all checks passed\n");
    return 0;
}
