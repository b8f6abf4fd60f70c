// GenMetrics CUDA emulator: the prelude force-included (g++ -include) into every program "compiled" by the
// fake NVRTC. It stands in for what NVRTC provides without any #include. No host header is available
// (-nostdinc), as with NVRTC, so a kernel that includes <math.h> or <cstdio> fails here too.
// With GMEMU_ABI_ONLY defined it only declares the ABI shared with the fake libcuda (the runtime).
#pragma once

#define GMEMU_STACK_SIZE (256u * 1024u)   // each emulated thread's stack; a power of two, stacks aligned to it
#define GMEMU_STATE_SIZE 1024u            // per-thread state at the top of its stack region

struct gmemu_dim3 { unsigned x, y, z; };
struct gmemu_thread;
struct gmemu_ops
{
    // kind: 0 idx, 1 up, 2 down, 3 xor. Values travel as 64-bit patterns (size = 4 or 8 bytes).
    unsigned long long (*shfl)(gmemu_thread*, int kind, unsigned mask, unsigned long long bits, int size, int arg, int width);
    // kind: 0 ballot, 1 any, 2 all, 3 activemask
    unsigned (*vote)(gmemu_thread*, int kind, unsigned mask, int predicate);
    void (*syncthreads)(gmemu_thread*);
    void (*syncwarp)(gmemu_thread*, unsigned mask);
    void (*trap)(gmemu_thread*, const char* what);
};
struct gmemu_thread
{
    gmemu_dim3 threadIdx, blockIdx, blockDim, gridDim;
    const gmemu_ops* ops;
};

#ifndef GMEMU_ABI_ONLY

typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#define CUDA_VERSION 13000
#define __CUDACC__ 1
#define __CUDACC_RTC__ 1
#define __CUDA_ARCH__ 900
#define __NVCC__DISABLED_BY_EMULATOR__ 1
#define GENMETRICS_CUDA_EMULATOR 1

#define __global__ __attribute__((used))
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __restrict__ __restrict
// One host thread runs one block at a time, all of its emulated threads as fibers on that host thread.
#define __shared__ static thread_local
#define __constant__ static

static __attribute__((always_inline)) inline gmemu_thread* gmemu_self()
{
#if defined(__x86_64__)
    unsigned long sp;
    __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
#else
    unsigned long sp = (unsigned long)__builtin_frame_address(0);
#endif
    return (gmemu_thread*)((sp & ~(unsigned long)(GMEMU_STACK_SIZE - 1)) + GMEMU_STACK_SIZE - GMEMU_STATE_SIZE);
}
#define threadIdx (gmemu_self()->threadIdx)
#define blockIdx (gmemu_self()->blockIdx)
#define blockDim (gmemu_self()->blockDim)
#define gridDim (gmemu_self()->gridDim)
#define warpSize 32

typedef gmemu_dim3 uint3;
struct dim3 { unsigned x, y, z; };
struct float2 { float x, y; };
struct float4 { float x, y, z, w; };
struct int2 { int x, y; };
struct int4 { int x, y, z, w; };

// ---- bit casts and integer intrinsics
static __forceinline__ float __int_as_float(int v) { float f; __builtin_memcpy(&f, &v, 4); return f; }
static __forceinline__ int __float_as_int(float v) { int i; __builtin_memcpy(&i, &v, 4); return i; }
static __forceinline__ float __uint_as_float(unsigned v) { float f; __builtin_memcpy(&f, &v, 4); return f; }
static __forceinline__ unsigned __float_as_uint(float v) { unsigned i; __builtin_memcpy(&i, &v, 4); return i; }
static __forceinline__ double __longlong_as_double(long long v) { double f; __builtin_memcpy(&f, &v, 8); return f; }
static __forceinline__ long long __double_as_longlong(double v) { long long i; __builtin_memcpy(&i, &v, 8); return i; }
static __forceinline__ int __popc(unsigned v) { return __builtin_popcount(v); }
static __forceinline__ int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
static __forceinline__ int __clz(int v) { return v == 0 ? 32 : __builtin_clz((unsigned)v); }
static __forceinline__ int __ffs(int v) { return __builtin_ffs(v); }
static __forceinline__ unsigned __brev(unsigned v) { unsigned r = 0; for (int i = 0; i < 32; i++) r |= ((v >> i) & 1u) << (31 - i); return r; }

// ---- min/max (CUDA's overloads for same-typed and int/unsigned mixes)
static __forceinline__ int min(int a, int b) { return a < b ? a : b; }
static __forceinline__ int max(int a, int b) { return a > b ? a : b; }
static __forceinline__ unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static __forceinline__ unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static __forceinline__ unsigned min(int a, unsigned b) { return min((unsigned)a, b); }
static __forceinline__ unsigned min(unsigned a, int b) { return min(a, (unsigned)b); }
static __forceinline__ unsigned max(int a, unsigned b) { return max((unsigned)a, b); }
static __forceinline__ unsigned max(unsigned a, int b) { return max(a, (unsigned)b); }
static __forceinline__ long long min(long long a, long long b) { return a < b ? a : b; }
static __forceinline__ long long max(long long a, long long b) { return a > b ? a : b; }
static __forceinline__ unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static __forceinline__ unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
static __forceinline__ float min(float a, float b) { return __builtin_fminf(a, b); }
static __forceinline__ float max(float a, float b) { return __builtin_fmaxf(a, b); }
static __forceinline__ double min(double a, double b) { return __builtin_fmin(a, b); }
static __forceinline__ double max(double a, double b) { return __builtin_fmax(a, b); }

// ---- math (libm through the builtins; -fno-math-errno)
#define GMEMU_F1(name) static __forceinline__ float name##f(float x) { return __builtin_##name##f(x); } \
                       static __forceinline__ double name(double x) { return __builtin_##name(x); }
GMEMU_F1(sqrt) GMEMU_F1(exp) GMEMU_F1(exp2) GMEMU_F1(log) GMEMU_F1(log2) GMEMU_F1(log1p) GMEMU_F1(expm1)
GMEMU_F1(fabs) GMEMU_F1(floor) GMEMU_F1(ceil) GMEMU_F1(trunc) GMEMU_F1(round) GMEMU_F1(sin) GMEMU_F1(cos)
GMEMU_F1(tanh) GMEMU_F1(cbrt)
#undef GMEMU_F1
static __forceinline__ float fminf(float a, float b) { return __builtin_fminf(a, b); }
static __forceinline__ float fmaxf(float a, float b) { return __builtin_fmaxf(a, b); }
static __forceinline__ float fmaf(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
static __forceinline__ double fmin(double a, double b) { return __builtin_fmin(a, b); }
static __forceinline__ double fmax(double a, double b) { return __builtin_fmax(a, b); }
static __forceinline__ double fma(double a, double b, double c) { return __builtin_fma(a, b, c); }
static __forceinline__ float powf(float a, float b) { return __builtin_powf(a, b); }
static __forceinline__ double pow(double a, double b) { return __builtin_pow(a, b); }
static __forceinline__ float rsqrtf(float x) { return 1.0f / __builtin_sqrtf(x); }
static __forceinline__ double rsqrt(double x) { return 1.0 / __builtin_sqrt(x); }
static __forceinline__ float __fdividef(float a, float b) { return a / b; }
static __forceinline__ float __expf(float x) { return __builtin_expf(x); }
static __forceinline__ float __logf(float x) { return __builtin_logf(x); }
static __forceinline__ float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }
static __forceinline__ bool isnan(float x) { return __builtin_isnan(x); }
static __forceinline__ bool isnan(double x) { return __builtin_isnan(x); }
static __forceinline__ bool isinf(float x) { return __builtin_isinf(x); }
static __forceinline__ bool isinf(double x) { return __builtin_isinf(x); }
static __forceinline__ bool isfinite(float x) { return __builtin_isfinite(x); }
static __forceinline__ bool isfinite(double x) { return __builtin_isfinite(x); }

// ---- atomics: real host atomics (blocks run concurrently on several host threads)
#define GMEMU_RELAXED __ATOMIC_RELAXED
template <class T> static __forceinline__ T gmemu_atomic_add(T* p, T v) { return __atomic_fetch_add(p, v, GMEMU_RELAXED); }
static __forceinline__ int atomicAdd(int* p, int v) { return gmemu_atomic_add(p, v); }
static __forceinline__ unsigned atomicAdd(unsigned* p, unsigned v) { return gmemu_atomic_add(p, v); }
static __forceinline__ unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return gmemu_atomic_add(p, v); }
static __forceinline__ int atomicSub(int* p, int v) { return __atomic_fetch_sub(p, v, GMEMU_RELAXED); }
static __forceinline__ unsigned atomicSub(unsigned* p, unsigned v) { return __atomic_fetch_sub(p, v, GMEMU_RELAXED); }
template <class F, class B> static __forceinline__ F gmemu_atomic_fadd(F* p, F v)
{
    B* q = (B*)p;
    B old = __atomic_load_n(q, GMEMU_RELAXED), want;
    F f;
    do { __builtin_memcpy(&f, &old, sizeof(F)); f += v; __builtin_memcpy(&want, &f, sizeof(F)); }
    while (!__atomic_compare_exchange_n(q, &old, want, true, GMEMU_RELAXED, GMEMU_RELAXED));
    __builtin_memcpy(&f, &old, sizeof(F));
    return f;
}
static __forceinline__ float atomicAdd(float* p, float v) { return gmemu_atomic_fadd<float, unsigned>(p, v); }
static __forceinline__ double atomicAdd(double* p, double v) { return gmemu_atomic_fadd<double, unsigned long long>(p, v); }
template <class T, bool IsMax> static __forceinline__ T gmemu_atomic_minmax(T* p, T v)
{
    T old = __atomic_load_n(p, GMEMU_RELAXED);
    while (IsMax ? v > old : v < old)
        if (__atomic_compare_exchange_n(p, &old, v, true, GMEMU_RELAXED, GMEMU_RELAXED)) break;
    return old;
}
#define GMEMU_MINMAX(T) \
    static __forceinline__ T atomicMax(T* p, T v) { return gmemu_atomic_minmax<T, true>(p, v); } \
    static __forceinline__ T atomicMin(T* p, T v) { return gmemu_atomic_minmax<T, false>(p, v); }
GMEMU_MINMAX(int) GMEMU_MINMAX(unsigned) GMEMU_MINMAX(long long) GMEMU_MINMAX(unsigned long long)
#undef GMEMU_MINMAX
#define GMEMU_CAS_EXCH(T) \
    static __forceinline__ T atomicCAS(T* p, T compare, T v) { __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); return compare; } \
    static __forceinline__ T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); } \
    static __forceinline__ T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, GMEMU_RELAXED); } \
    static __forceinline__ T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, GMEMU_RELAXED); } \
    static __forceinline__ T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, GMEMU_RELAXED); }
GMEMU_CAS_EXCH(int) GMEMU_CAS_EXCH(unsigned) GMEMU_CAS_EXCH(unsigned long long)
#undef GMEMU_CAS_EXCH
static __forceinline__ float atomicExch(float* p, float v) { return __uint_as_float(atomicExch((unsigned*)p, __float_as_uint(v))); }
static __forceinline__ void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static __forceinline__ void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
template <class T> static __forceinline__ T __ldg(const T* p) { return *p; }

// ---- block and warp collectives (the runtime runs each block's threads in lockstep between these points)
static __forceinline__ void __syncthreads() { gmemu_thread* s = gmemu_self(); s->ops->syncthreads(s); }
static __forceinline__ void __syncwarp(unsigned mask = 0xffffffffu) { gmemu_thread* s = gmemu_self(); s->ops->syncwarp(s, mask); }
static __forceinline__ unsigned __ballot_sync(unsigned mask, int p) { gmemu_thread* s = gmemu_self(); return s->ops->vote(s, 0, mask, p != 0); }
static __forceinline__ int __any_sync(unsigned mask, int p) { gmemu_thread* s = gmemu_self(); return (int)s->ops->vote(s, 1, mask, p != 0); }
static __forceinline__ int __all_sync(unsigned mask, int p) { gmemu_thread* s = gmemu_self(); return (int)s->ops->vote(s, 2, mask, p != 0); }
static __forceinline__ unsigned __activemask() { gmemu_thread* s = gmemu_self(); return s->ops->vote(s, 3, 0, 0); }
static __forceinline__ void __trap() { gmemu_thread* s = gmemu_self(); s->ops->trap(s, "__trap()"); }
template <class T> static __forceinline__ T gmemu_shfl(int kind, unsigned mask, T v, int arg, int width)
{
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "__shfl_*_sync: 4- or 8-byte types only");
    unsigned long long bits = 0;
    __builtin_memcpy(&bits, &v, sizeof(T));
    gmemu_thread* s = gmemu_self();
    bits = s->ops->shfl(s, kind, mask, bits, (int)sizeof(T), arg, width);
    T r;
    __builtin_memcpy(&r, &bits, sizeof(T));
    return r;
}
template <class T> static __forceinline__ T __shfl_sync(unsigned mask, T v, int src, int width = 32) { return gmemu_shfl<T>(0, mask, v, src, width); }
template <class T> static __forceinline__ T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = 32) { return gmemu_shfl<T>(1, mask, v, (int)d, width); }
template <class T> static __forceinline__ T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = 32) { return gmemu_shfl<T>(2, mask, v, (int)d, width); }
template <class T> static __forceinline__ T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) { return gmemu_shfl<T>(3, mask, v, lane_mask, width); }

// ---- launcher support: unpack cuLaunchKernel's void** kernelParams into the kernel's parameter types
template <unsigned long... I> struct gmemu_seq {};
template <unsigned long N, unsigned long... I> struct gmemu_make_seq : gmemu_make_seq<N - 1, N - 1, I...> {};
template <unsigned long... I> struct gmemu_make_seq<0, I...> { typedef gmemu_seq<I...> type; };
template <class T> struct gmemu_is_ptr { enum { value = 0 }; };
template <class T> struct gmemu_is_ptr<T*> { enum { value = 1 }; };
template <class... A, unsigned long... I> static inline void gmemu_call(void (*f)(A...), void** p, gmemu_seq<I...>)
{
    f(*static_cast<A*>(p[I])...);
}
template <class... A> static inline void gmemu_invoke(void (*f)(A...), void** p)
{
    gmemu_call(f, p, typename gmemu_make_seq<sizeof...(A)>::type());
}
template <class... A> static inline int gmemu_param_info(void (*)(A...), int* sizes, int* pointers, int capacity)
{
    int s[] = {(int)sizeof(A)..., 0};
    int q[] = {(int)gmemu_is_ptr<A>::value..., 0};
    for (int i = 0; i < (int)sizeof...(A) && i < capacity; i++) { sizes[i] = s[i]; pointers[i] = q[i]; }
    return (int)sizeof...(A);
}
#endif
