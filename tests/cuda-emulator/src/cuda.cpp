// GenMetrics CUDA emulator: a fake libcuda.so.1 (CUDA driver API subset) that runs on the CPU.
// Semantics follow the CUDA driver API documentation (cuda.h); see ../README.md for what is checked.
#define GMEMU_ABI_ONLY
#include "prelude.h"
#include "emu.h"

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <memory>
#include <mutex>
#include <signal.h>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

enum
{
    CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_OUT_OF_MEMORY = 2, CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_DEINITIALIZED = 4, CUDA_ERROR_NO_DEVICE = 100, CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200, CUDA_ERROR_INVALID_CONTEXT = 201, CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
    CUDA_ERROR_INVALID_PTX = 218, CUDA_ERROR_INVALID_HANDLE = 400, CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600, CUDA_ERROR_ILLEGAL_ADDRESS = 700, CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_FAILED = 719, CUDA_ERROR_NOT_SUPPORTED = 801, CUDA_ERROR_UNKNOWN = 999,
};

static const struct { int code; const char* name; const char* text; } kErrors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {5, "CUDA_ERROR_PROFILER_DISABLED", "profiler disabled while using external profiling tool"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {202, "CUDA_ERROR_CONTEXT_ALREADY_CURRENT", "context already current"},
    {209, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {600, "CUDA_ERROR_NOT_READY", "device not ready"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {709, "CUDA_ERROR_CONTEXT_IS_DESTROYED", "context is destroyed"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {801, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

extern "C" [[noreturn]] void gmemu_fatal(const char* fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nGenMetrics CUDA emulator: %s\n", buf);
    fflush(stderr);
    abort();
}

static bool g_trace = getenv("GM_CUDA_EMU_TRACE") != nullptr;
#define TRACE(...) do { if (g_trace) { fprintf(stderr, "[gmemu] " __VA_ARGS__); fputc('\n', stderr); } } while (0)

// ------------------------------------------------------------------ driver state

static std::atomic<bool> g_initialised{false};
static std::mutex g_mutex;
struct Context { int magic = 0x43545821; int refcount = 0; };
static Context g_primary;                          // the one device's primary context
static thread_local Context* t_current = nullptr;  // cuCtxSetCurrent is per host thread

static CUresult need_init() { return g_initialised ? CUDA_SUCCESS : CUDA_ERROR_NOT_INITIALIZED; }
static CUresult need_context()
{
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (t_current == nullptr || t_current->refcount <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    return CUDA_SUCCESS;
}
#define CHECK(x) do { CUresult r_ = (x); if (r_ != CUDA_SUCCESS) return r_; } while (0)

static const char* kDeviceName = "GenMetrics CPU emulator (not a GPU)";
static const int kSmCount = 4;

static size_t memory_limit()
{
    static size_t limit = [] {
        const char* e = getenv("GM_CUDA_EMU_MEMORY_BYTES");
        if (e && *e) return (size_t)strtoull(e, nullptr, 10);
        return (size_t)8 << 30;
    }();
    return limit;
}

extern "C" CUresult cuInit(unsigned flags)
{
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;  // "Flags: Initialization flag for CUDA; must be 0"
    g_initialised = true;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDriverGetVersion(int* v)
{
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    const char* e = getenv("GM_CUDA_EMU_DRIVER_VERSION");
    *v = e ? atoi(e) : 13000;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceGetCount(int* n)
{
    CHECK(need_init());
    if (!n) return CUDA_ERROR_INVALID_VALUE;
    *n = 1;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceGet(CUdevice* d, int ordinal)
{
    CHECK(need_init());
    if (!d) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *d = 0;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceGetName(char* name, int len, CUdevice d)
{
    CHECK(need_init());
    if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    snprintf(name, (size_t)len, "%s", kDeviceName);
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d)
{
    CHECK(need_init());
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    *bytes = memory_limit();
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice d)
{
    CHECK(need_init());
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    switch (attribute)  // CUdevice_attribute numbering from cuda.h
    {
    case 1: *value = 1024; break;        // MAX_THREADS_PER_BLOCK
    case 2: *value = 1024; break;        // MAX_BLOCK_DIM_X
    case 3: *value = 1024; break;        // MAX_BLOCK_DIM_Y
    case 4: *value = 64; break;          // MAX_BLOCK_DIM_Z
    case 5: *value = 2147483647; break;  // MAX_GRID_DIM_X
    case 6: *value = 65535; break;       // MAX_GRID_DIM_Y
    case 7: *value = 65535; break;       // MAX_GRID_DIM_Z
    case 8: *value = 49152; break;       // MAX_SHARED_MEMORY_PER_BLOCK
    case 9: *value = 65536; break;       // TOTAL_CONSTANT_MEMORY
    case 10: *value = 32; break;         // WARP_SIZE
    case 12: *value = 65536; break;      // MAX_REGISTERS_PER_BLOCK
    case 13: *value = 1000000; break;    // CLOCK_RATE (kHz)
    case 16: *value = kSmCount; break;   // MULTIPROCESSOR_COUNT
    case 18: *value = 0; break;          // INTEGRATED
    case 20: *value = 0; break;          // COMPUTE_MODE (default)
    case 31: *value = 1; break;          // CONCURRENT_KERNELS
    case 39: *value = 2048; break;       // MAX_THREADS_PER_MULTIPROCESSOR
    case 41: *value = 1; break;          // UNIFIED_ADDRESSING
    case 75: *value = 9; break;          // COMPUTE_CAPABILITY_MAJOR
    case 76: *value = 0; break;          // COMPUTE_CAPABILITY_MINOR
    case 81: *value = 233472; break;     // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
    case 82: *value = 65536; break;      // MAX_REGISTERS_PER_MULTIPROCESSOR
    case 97: *value = 232448; break;     // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    case 106: *value = 32; break;        // MAX_BLOCKS_PER_MULTIPROCESSOR
    default:
        TRACE("cuDeviceGetAttribute: attribute %d not emulated", attribute);
        return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDevicePrimaryCtxRetain(void** ctx, CUdevice d)
{
    CHECK(need_init());
    if (!ctx) return CUDA_ERROR_INVALID_VALUE;
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_primary.refcount++;
    *ctx = &g_primary;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d)
{
    CHECK(need_init());
    if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_primary.refcount <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    g_primary.refcount--;
    return CUDA_SUCCESS;
}
extern "C" CUresult cuDevicePrimaryCtxRelease(CUdevice d) { return cuDevicePrimaryCtxRelease_v2(d); }

extern "C" CUresult cuCtxSetCurrent(void* ctx)
{
    CHECK(need_init());
    if (ctx == nullptr) { t_current = nullptr; return CUDA_SUCCESS; }
    Context* c = static_cast<Context*>(ctx);
    if (c != &g_primary) return CUDA_ERROR_INVALID_CONTEXT;
    // A primary context released to zero is destroyed; its handle stays valid but is inactive.
    if (c->refcount <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    t_current = c;
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ memory (electric-fence allocations)

struct Allocation
{
    uintptr_t start;  // what cuMemAlloc returned
    size_t size;
    void* map;        // the mapping: [slack][user bytes][guard page]
    size_t map_size;
};
static std::mutex g_mem_mutex;
static std::map<uintptr_t, Allocation> g_allocations;  // by start
static size_t g_allocated = 0;
static const size_t kPage = 4096;
static const unsigned char kCanary = 0xA5;

static const Allocation* find_allocation_locked(uintptr_t p)
{
    auto it = g_allocations.upper_bound(p);
    if (it == g_allocations.begin()) return nullptr;
    --it;
    const Allocation& a = it->second;
    return p >= a.start && p <= a.start + a.size ? &a : nullptr;
}

extern "C" int gmemu_check_range(const void* p, size_t bytes, char* why, size_t why_size)
{
    uintptr_t s = (uintptr_t)p;
    std::lock_guard<std::mutex> lock(g_mem_mutex);
    const Allocation* a = find_allocation_locked(s);
    if (a && s + bytes <= a->start + a->size && (bytes > 0 || s <= a->start + a->size)) return 1;
    if (why)
    {
        if (!a)
            snprintf(why, why_size, "address 0x%lx is not inside any live cuMemAlloc allocation", (unsigned long)s);
        else
            snprintf(why, why_size, "[0x%lx, +%zu bytes) overruns its allocation [0x%lx, +%zu bytes) by %zu bytes",
                     (unsigned long)s, bytes, (unsigned long)a->start, a->size, (size_t)(s + bytes - (a->start + a->size)));
    }
    return 0;
}

// Where the allocation containing p (or the guard page right after it) is, for fault messages.
static std::string describe_address(uintptr_t p)
{
    std::lock_guard<std::mutex> lock(g_mem_mutex);
    for (auto& [start, a] : g_allocations)
    {
        uintptr_t end = a.start + a.size;
        if (p >= a.start && p < end) return "inside allocation [0x" + std::to_string(a.start) + ", +" + std::to_string(a.size) + ")";
        if (p >= end && p < end + kPage)
        {
            char buf[256];
            snprintf(buf, sizeof buf, "%zu bytes past the end of the %zu-byte allocation at 0x%lx (guard page)",
                     (size_t)(p - end), a.size, (unsigned long)a.start);
            return buf;
        }
        if (p < a.start && p >= (uintptr_t)a.map)
        {
            char buf[256];
            snprintf(buf, sizeof buf, "%zu bytes before the %zu-byte allocation at 0x%lx", (size_t)(a.start - p), a.size, (unsigned long)a.start);
            return buf;
        }
    }
    return "not near any live device allocation (freed memory, a host pointer or garbage)";
}

extern "C" CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes)
{
    CHECK(need_context());
    if (!dptr) return CUDA_ERROR_INVALID_VALUE;
    if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;  // documented: "If bytesize is 0, cuMemAlloc() returns CUDA_ERROR_INVALID_VALUE"
    std::lock_guard<std::mutex> lock(g_mem_mutex);
    if (bytes > memory_limit() || g_allocated + bytes > memory_limit())
    {
        TRACE("cuMemAlloc(%zu): out of memory (%zu of %zu in use)", bytes, g_allocated, memory_limit());
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    // The user bytes end exactly where a PROT_NONE page starts, so reading one element past the end faults.
    // Alignment is therefore the largest power of two (<= 256) dividing the size, not the real driver's 256.
    size_t align = 256;
    while (align > 1 && bytes % align != 0) align /= 2;
    size_t data_pages = (bytes + align + kPage - 1) / kPage;
    size_t map_size = (data_pages + 1) * kPage;
    void* map = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    uintptr_t guard = (uintptr_t)map + data_pages * kPage;
    mprotect((void*)guard, kPage, PROT_NONE);
    uintptr_t start = guard - bytes;
    memset(map, kCanary, start - (uintptr_t)map);
    // Fresh device memory is not zeroed by cuMemAlloc: fill it with 0xFF bytes (NaN floats, -1 ints) so that
    // code that forgets to initialise it gets visibly wrong results.
    memset((void*)start, 0xFF, bytes);
    g_allocations[start] = Allocation{start, bytes, map, map_size};
    g_allocated += bytes;
    *dptr = start;
    TRACE("cuMemAlloc(%zu) = 0x%lx", bytes, (unsigned long)start);
    return CUDA_SUCCESS;
}

static std::string queued_user_of_device(uintptr_t start, uintptr_t end);

extern "C" CUresult cuMemFree_v2(CUdeviceptr p)
{
    CHECK(need_context());
    if (p == 0) return CUDA_SUCCESS;
    Allocation a;
    {
        std::lock_guard<std::mutex> lock(g_mem_mutex);
        auto it = g_allocations.find((uintptr_t)p);
        if (it == g_allocations.end())
        {
            fprintf(stderr, "GenMetrics CUDA emulator: cuMemFree(0x%llx): not the start of a live allocation\n", p);
            return CUDA_ERROR_INVALID_VALUE;
        }
        a = it->second;
    }
    // cuMemFree may or may not wait for queued work; the emulator does not, and reports work that needs the memory.
    std::string user = queued_user_of_device(a.start, a.start + a.size);
    if (!user.empty())
        gmemu_fatal("cuMemFree(0x%lx, %zu bytes): queued work (%s) still reads or writes this allocation; synchronise the stream "
                    "before freeing", (unsigned long)a.start, a.size, user.c_str());
    std::lock_guard<std::mutex> lock(g_mem_mutex);
    for (uintptr_t q = (uintptr_t)a.map; q < a.start; q++)
        if (*(unsigned char*)q != kCanary)
            gmemu_fatal("cuMemFree(0x%lx): the %zu bytes before this allocation were overwritten (underflow write)", (unsigned long)a.start, a.size);
    g_allocations.erase(a.start);
    g_allocated -= a.size;
    munmap(a.map, a.map_size);  // later use of the address faults
    return CUDA_SUCCESS;
}

extern "C" CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total)
{
    CHECK(need_context());
    if (!free_bytes || !total) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(g_mem_mutex);
    *total = memory_limit();
    *free_bytes = memory_limit() - g_allocated;
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ streams and events (deferred)
//
// Work given to a stream (copies, memsets, kernel launches, cuBLAS/cuSOLVER calls, event records) is NOT run
// when the call returns: it waits in the stream's queue until a synchronisation point asks for it
// (cuStreamSynchronize, cuEventSynchronize, a blocking cuBLAS/cuSOLVER result, cuStreamDestroy). This is
// what the driver allows, and more adversarial than a real GPU (which usually starts at once), so that
// a missing synchronisation shows: a host buffer read before the copy into it ran holds old data, device
// memory freed (cuMemFree) or pinned memory released (cuMemFreeHost) while queued work still names it is
// reported, and a host buffer changed after an asynchronous upload was queued but before it ran is
// reported. GM_CUDA_EMU_SYNC_STREAMS=1 runs everything at once instead (the old behaviour).

struct QueuedOp
{
    std::string what;
    std::vector<uintptr_t> touched;  // device or pinned host addresses the work reads or writes
    void (*run)(void*);
    void* ctx;
    void (*destroy)(void*);
};
struct Stream { int magic = 0x5354524d; unsigned flags; std::vector<QueuedOp> queue; };
// record_seq counts cuEventRecord calls, done_seq the records that have run: a cuStreamWaitEvent waits for the
// record that was the latest when it was called, even if the event is recorded again before the wait runs.
struct Event { int magic = 0x45564e54; unsigned flags; bool recorded = false; bool done = false; Stream* stream = nullptr; std::chrono::steady_clock::time_point when;
               unsigned long long record_seq = 0, done_seq = 0; };

static std::recursive_mutex g_queue_mutex;
static Stream g_default_stream{0x5354524d, 0, {}};  // NULL, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD
static std::vector<Stream*> g_streams{&g_default_stream};

static bool sync_streams()
{
    static bool v = [] { const char* e = getenv("GM_CUDA_EMU_SYNC_STREAMS"); return e && *e && strcmp(e, "0") != 0; }();
    return v;
}

static CUresult check_stream(void* s)
{
    if (s == nullptr || s == (void*)1 || s == (void*)2) return CUDA_SUCCESS;  // NULL, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD
    return static_cast<Stream*>(s)->magic == 0x5354524d ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
static Stream* as_stream(void* s)
{
    if (s == nullptr || s == (void*)1 || s == (void*)2) return &g_default_stream;
    return static_cast<Stream*>(s);
}

// Runs the queued work of one stream, in order (the caller holds g_queue_mutex). One operation at a time, taken
// from the front: a cuStreamWaitEvent operation may flush another stream, whose work may in turn wait on this
// one (then the nested flush continues this stream's queue where the outer one stands).
static void flush_locked(Stream* st)
{
    while (!st->queue.empty())
    {
        QueuedOp op = std::move(st->queue.front());
        st->queue.erase(st->queue.begin());
        TRACE("stream %p: running %s", (void*)st, op.what.c_str());
        op.run(op.ctx);
        if (op.destroy) op.destroy(op.ctx);
    }
}

extern "C" void gmemu_enqueue(void* stream, const char* what, const uintptr_t* touched, int ntouched, void (*run)(void*), void* ctx,
                              void (*destroy)(void*))
{
    if (sync_streams())
    {
        run(ctx);
        if (destroy) destroy(ctx);
        return;
    }
    std::lock_guard<std::recursive_mutex> lock(g_queue_mutex);
    QueuedOp op{what, std::vector<uintptr_t>(touched, touched + ntouched), run, ctx, destroy};
    as_stream(stream)->queue.push_back(std::move(op));
}

extern "C" void gmemu_stream_sync(void* stream)
{
    std::lock_guard<std::recursive_mutex> lock(g_queue_mutex);
    flush_locked(as_stream(stream));
}

// The first queued operation that names an address in [start, end], for the free checks; "" when none.
static std::string queued_user_of(uintptr_t start, uintptr_t end)
{
    std::lock_guard<std::recursive_mutex> lock(g_queue_mutex);
    for (Stream* st : g_streams)
        for (auto& op : st->queue)
            for (uintptr_t p : op.touched)
                if (p >= start && p <= end) return op.what;
    return "";
}

static std::string queued_user_of_device(uintptr_t start, uintptr_t end) { return queued_user_of(start, end); }

template <class F>
static void enqueue_lambda(void* stream, const std::string& what, std::vector<uintptr_t> touched, F f)
{
    auto* heap = new F(std::move(f));
    gmemu_enqueue(stream, what.c_str(), touched.data(), (int)touched.size(), [](void* c) { (*static_cast<F*>(c))(); },
                  heap, [](void* c) { delete static_cast<F*>(c); });
}

extern "C" CUresult cuStreamCreate(void** s, unsigned flags)
{
    CHECK(need_context());
    if (!s) return CUDA_ERROR_INVALID_VALUE;
    if (flags & ~1u) return CUDA_ERROR_INVALID_VALUE;  // CU_STREAM_DEFAULT (0) or CU_STREAM_NON_BLOCKING (1)
    auto* st = new Stream{0x5354524d, flags, {}};
    std::lock_guard<std::recursive_mutex> lock(g_queue_mutex);
    g_streams.push_back(st);
    *s = st;
    return CUDA_SUCCESS;
}
extern "C" CUresult cuStreamDestroy_v2(void* s)
{
    CHECK(need_context());
    if (!s || check_stream(s) != CUDA_SUCCESS || s == (void*)1 || s == (void*)2) return CUDA_ERROR_INVALID_HANDLE;
    // "the function will return immediately and the resources ... released once the device has completed all work"
    std::lock_guard<std::recursive_mutex> lock(g_queue_mutex);
    Stream* st = static_cast<Stream*>(s);
    flush_locked(st);
    for (size_t i = 0; i < g_streams.size(); i++)
        if (g_streams[i] == st) { g_streams.erase(g_streams.begin() + (long)i); break; }
    st->magic = 0;
    delete st;
    return CUDA_SUCCESS;
}
extern "C" CUresult cuStreamDestroy(void* s) { return cuStreamDestroy_v2(s); }
extern "C" CUresult cuStreamSynchronize(void* s)
{
    CHECK(need_context());
    CHECK(check_stream(s));
    gmemu_stream_sync(s);
    return CUDA_SUCCESS;
}
extern "C" CUresult cuCtxSynchronize()
{
    CHECK(need_context());
    std::lock_guard<std::recursive_mutex> lock(g_queue_mutex);
    for (Stream* st : g_streams) flush_locked(st);
    return CUDA_SUCCESS;
}

extern "C" CUresult cuEventCreate(void** e, unsigned flags)
{
    CHECK(need_context());
    if (!e) return CUDA_ERROR_INVALID_VALUE;
    if (flags & ~7u) return CUDA_ERROR_INVALID_VALUE;
    if ((flags & 4u) && !(flags & 2u)) return CUDA_ERROR_INVALID_VALUE;  // INTERPROCESS needs DISABLE_TIMING
    *e = new Event{0x45564e54, flags, false, false, nullptr, {}};
    return CUDA_SUCCESS;
}
static Event* as_event(void* e) { return e && static_cast<Event*>(e)->magic == 0x45564e54 ? static_cast<Event*>(e) : nullptr; }
extern "C" CUresult cuEventDestroy_v2(void* e)
{
    Event* ev = as_event(e);
    if (!ev) return CUDA_ERROR_INVALID_HANDLE;
    if (!ev->done && ev->recorded)
    {
        // Destroying an event whose record is still queued is allowed; the record then must not touch it.
        std::lock_guard<std::recursive_mutex> lock(g_queue_mutex);
        if (ev->stream) flush_locked(ev->stream);
    }
    // Kept allocated (a few bytes): a queued cuStreamWaitEvent may still look at it (and finds it complete).
    ev->magic = 0;
    return CUDA_SUCCESS;
}
extern "C" CUresult cuEventDestroy(void* e) { return cuEventDestroy_v2(e); }
extern "C" CUresult cuEventRecord(void* e, void* s)
{
    CHECK(need_context());
    Event* ev = as_event(e);
    if (!ev) return CUDA_ERROR_INVALID_HANDLE;
    CHECK(check_stream(s));
    ev->recorded = true;
    ev->done = false;
    ev->stream = as_stream(s);
    unsigned long long seq = ++ev->record_seq;
    enqueue_lambda(s, "cuEventRecord", {}, [ev, seq] {
        ev->done_seq = seq;
        ev->done = ev->done_seq == ev->record_seq;
        ev->when = std::chrono::steady_clock::now();
    });
    return CUDA_SUCCESS;
}

// Work queued on s after this call waits until the event's latest record (at the time of the call) has run; an
// event never recorded is complete (driver API documentation). Deferred like everything else: when the wait
// comes up in s's queue and the record has not run yet, the recording stream is flushed WHOLE first, i.e. it runs
// as far ahead of s as the driver would allow. A missing wait in the other direction then shows: work queued
// later on the recording stream (say the next GEMM into a buffer s is about to read) runs before s's work.
extern "C" CUresult cuStreamWaitEvent(void* s, void* e, unsigned flags)
{
    CHECK(need_context());
    CHECK(check_stream(s));
    Event* ev = as_event(e);
    if (!ev) return CUDA_ERROR_INVALID_HANDLE;
    if (flags != 0u) return CUDA_ERROR_INVALID_VALUE;  // CU_EVENT_WAIT_DEFAULT (EXTERNAL is for graphs only)
    if (!ev->recorded) return CUDA_SUCCESS;
    unsigned long long target = ev->record_seq;
    Stream* recorder = ev->stream;
    if (recorder == as_stream(s)) return CUDA_SUCCESS;  // same stream: already ordered
    enqueue_lambda(s, "cuStreamWaitEvent", {}, [ev, target, recorder] {
        if (ev->magic != 0x45564e54 || ev->done_seq >= target) return;  // destroyed events were flushed first
        flush_locked(recorder);
        if (ev->done_seq < target) gmemu_fatal("cuStreamWaitEvent: the awaited cuEventRecord never ran (emulator bug)");
    });
    return CUDA_SUCCESS;
}
extern "C" CUresult cuEventSynchronize(void* e)
{
    CHECK(need_context());
    Event* ev = as_event(e);
    if (!ev) return CUDA_ERROR_INVALID_HANDLE;
    if (ev->recorded && !ev->done && ev->stream)
    {
        std::lock_guard<std::recursive_mutex> lock(g_queue_mutex);
        flush_locked(ev->stream);
    }
    return CUDA_SUCCESS;
}
extern "C" CUresult cuEventElapsedTime_v2(float* ms, void* start, void* end)
{
    CHECK(need_context());
    if (!ms) return CUDA_ERROR_INVALID_VALUE;
    Event* a = as_event(start);
    Event* b = as_event(end);
    if (!a || !b) return CUDA_ERROR_INVALID_HANDLE;
    if ((a->flags & 2u) || (b->flags & 2u)) return CUDA_ERROR_INVALID_HANDLE;  // CU_EVENT_DISABLE_TIMING
    if (!a->recorded || !b->recorded) return CUDA_ERROR_INVALID_HANDLE;
    if (!a->done || !b->done) return CUDA_ERROR_NOT_READY;  // "If either event has not been completed yet"
    *ms = std::chrono::duration<float, std::milli>(b->when - a->when).count();
    return CUDA_SUCCESS;
}
extern "C" CUresult cuEventElapsedTime(float* ms, void* a, void* b) { return cuEventElapsedTime_v2(ms, a, b); }

// ------------------------------------------------------------------ pinned host memory

struct HostAllocation { uintptr_t start; size_t size; };
static std::map<uintptr_t, HostAllocation> g_host_allocations;  // under g_mem_mutex

static bool is_pinned(const void* p, size_t bytes)
{
    uintptr_t s = (uintptr_t)p;
    std::lock_guard<std::mutex> lock(g_mem_mutex);
    auto it = g_host_allocations.upper_bound(s);
    if (it == g_host_allocations.begin()) return false;
    --it;
    return s >= it->second.start && s + bytes <= it->second.start + it->second.size;
}

extern "C" CUresult cuMemHostAlloc(void** pp, size_t bytes, unsigned flags)
{
    CHECK(need_context());
    if (!pp || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (flags & ~0xFu) return CUDA_ERROR_INVALID_VALUE;  // PORTABLE 1, DEVICEMAP 2, WRITECOMBINED 4 (8: unused bit)
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    std::lock_guard<std::mutex> lock(g_mem_mutex);
    g_host_allocations[(uintptr_t)p] = HostAllocation{(uintptr_t)p, bytes};
    *pp = p;
    TRACE("cuMemHostAlloc(%zu) = %p", bytes, p);
    return CUDA_SUCCESS;
}
extern "C" CUresult cuMemFreeHost(void* p)
{
    CHECK(need_context());
    HostAllocation a;
    {
        std::lock_guard<std::mutex> lock(g_mem_mutex);
        auto it = g_host_allocations.find((uintptr_t)p);
        if (it == g_host_allocations.end()) return CUDA_ERROR_INVALID_VALUE;
        a = it->second;
    }
    std::string user = queued_user_of(a.start, a.start + a.size);
    if (!user.empty())
        gmemu_fatal("cuMemFreeHost(%p): queued work (%s) still reads or writes this pinned buffer; synchronise the stream first", p, user.c_str());
    std::lock_guard<std::mutex> lock(g_mem_mutex);
    g_host_allocations.erase(a.start);
    munmap((void*)a.start, a.size);
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ copies

static CUresult check_device_range(const char* api, uintptr_t p, size_t bytes)
{
    char why[512];
    if (gmemu_check_range((const void*)p, bytes, why, sizeof why)) return CUDA_SUCCESS;
    fprintf(stderr, "GenMetrics CUDA emulator: %s: device range %s\n", api, why);
    return CUDA_ERROR_INVALID_VALUE;
}

extern "C" CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, void* s)
{
    CHECK(need_context());
    CHECK(check_stream(s));
    if (bytes == 0) return CUDA_SUCCESS;
    if (!src) return CUDA_ERROR_INVALID_VALUE;
    CHECK(check_device_range("cuMemcpyHtoDAsync", dst, bytes));
    if (is_pinned(src, bytes))
    {
        // Pinned: the DMA reads the host buffer when the copy runs.
        enqueue_lambda(s, "cuMemcpyHtoDAsync from pinned memory", {(uintptr_t)dst, (uintptr_t)src},
                       [dst, src, bytes] { memcpy((void*)dst, src, bytes); });
        return CUDA_SUCCESS;
    }
    // Pageable: today's x86 drivers stage the bytes before returning, but that is not promised everywhere
    // (and a moving garbage collector may relocate the buffer once the call returns). The emulator keeps a
    // snapshot, copies the snapshot, and reports it if the buffer changed before the copy ran.
    auto snapshot = std::make_shared<std::vector<unsigned char>>((const unsigned char*)src, (const unsigned char*)src + bytes);
    enqueue_lambda(s, "cuMemcpyHtoDAsync from pageable memory", {(uintptr_t)dst}, [dst, src, bytes, snapshot] {
        if (!sync_streams() && memcmp(src, snapshot->data(), bytes) != 0)
            gmemu_fatal("cuMemcpyHtoDAsync(%zu bytes from pageable %p): the host buffer changed after the asynchronous upload was "
                        "queued and before it ran; upload from pinned memory or synchronise before reusing the buffer", bytes, src);
        memcpy((void*)dst, snapshot->data(), bytes);
    });
    return CUDA_SUCCESS;
}
extern "C" CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, void* s)
{
    CHECK(need_context());
    CHECK(check_stream(s));
    if (bytes == 0) return CUDA_SUCCESS;
    if (!dst) return CUDA_ERROR_INVALID_VALUE;
    CHECK(check_device_range("cuMemcpyDtoHAsync", src, bytes));
    // The host buffer holds the data only once the stream reaches the copy.
    enqueue_lambda(s, "cuMemcpyDtoHAsync", {(uintptr_t)src, (uintptr_t)dst}, [dst, src, bytes] { memcpy(dst, (const void*)src, bytes); });
    return CUDA_SUCCESS;
}
extern "C" CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, void* s)
{
    CHECK(need_context());
    CHECK(check_stream(s));
    if (bytes == 0) return CUDA_SUCCESS;
    CHECK(check_device_range("cuMemcpyDtoDAsync (source)", src, bytes));
    CHECK(check_device_range("cuMemcpyDtoDAsync (destination)", dst, bytes));
    enqueue_lambda(s, "cuMemcpyDtoDAsync", {(uintptr_t)src, (uintptr_t)dst}, [dst, src, bytes] { memmove((void*)dst, (const void*)src, bytes); });
    return CUDA_SUCCESS;
}
extern "C" CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t count, void* s)
{
    CHECK(need_context());
    CHECK(check_stream(s));
    if (dst % 4 != 0) return CUDA_ERROR_INVALID_VALUE;  // "dstDevice ... must be 4-byte aligned"
    if (count == 0) return CUDA_SUCCESS;
    CHECK(check_device_range("cuMemsetD32Async", dst, count * 4));
    enqueue_lambda(s, "cuMemsetD32Async", {(uintptr_t)dst}, [dst, value, count] {
        unsigned* p = (unsigned*)dst;
        for (size_t i = 0; i < count; i++) p[i] = value;
    });
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ host worker threads + fault reporting

static thread_local const char* t_device_work = nullptr;  // non-null while this thread runs device code
static thread_local char t_device_where[256];
static struct sigaction g_old_segv, g_old_bus;

static void fault_handler(int sig, siginfo_t* info, void* uctx)
{
    if (t_device_work)
    {
        std::string where = describe_address((uintptr_t)info->si_addr);
        char buf[1024];
        int n = snprintf(buf, sizeof buf,
                         "\nGenMetrics CUDA emulator: illegal memory access (signal %d) in %s%s at address %p: %s\n"
                         "(a real GPU would report CUDA_ERROR_ILLEGAL_ADDRESS or corrupt memory silently)\n",
                         sig, t_device_work, t_device_where, info->si_addr, where.c_str());
        if (n > 0) { ssize_t w = write(2, buf, (size_t)n); (void)w; }
        signal(SIGABRT, SIG_DFL);
        abort();
    }
    struct sigaction* old = sig == SIGSEGV ? &g_old_segv : &g_old_bus;
    if (old->sa_flags & SA_SIGINFO) { if (old->sa_sigaction) old->sa_sigaction(sig, info, uctx); return; }
    if (old->sa_handler == SIG_IGN) return;
    if (old->sa_handler == SIG_DFL) { signal(sig, SIG_DFL); return; }  // the fault repeats and kills the process
    old->sa_handler(sig);
}

static void install_fault_handler()
{
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = fault_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &g_old_segv);
        sigaction(SIGBUS, &sa, &g_old_bus);
    });
}

static int worker_count()
{
    static int n = [] {
        const char* e = getenv("GM_CUDA_EMU_THREADS");
        int v = e ? atoi(e) : (int)std::thread::hardware_concurrency();
        return v < 1 ? 1 : (v > 16 ? 16 : v);
    }();
    return n;
}

extern "C" void gmemu_parallel_for(long count, void (*body)(long, void*), void* context, const char* what)
{
    install_fault_handler();
    std::atomic<long> next{0};
    auto work = [&] {
        // An alternate signal stack, so that a fault from a stack overflow can still be reported.
        static thread_local std::vector<char> alt(1 << 16);
        stack_t ss{};
        ss.ss_sp = alt.data();
        ss.ss_size = alt.size();
        stack_t old{};
        sigaltstack(&ss, &old);
        t_device_work = what;
        t_device_where[0] = 0;
        for (long i; (i = next.fetch_add(1)) < count;) body(i, context);
        t_device_work = nullptr;
        sigaltstack(&old, nullptr);
    };
    long n = std::min<long>(worker_count(), count);
    std::vector<std::thread> threads;
    for (long t = 0; t < n; t++) threads.emplace_back(work);
    for (auto& t : threads) t.join();
}

// ------------------------------------------------------------------ modules

struct Module { int magic = 0x4d4f444c; void* dl = nullptr; std::string path, arch; };
struct Function
{
    int magic = 0x46554e43;
    Module* module;
    std::string name;
    void (*launch)(void**);
    int (*info)(int*, int*, int);
    int max_threads;  // from __launch_bounds__, 0 when absent
};

static bool arch_number(const std::string& arch, int* major, int* minor, bool* virt)
{
    const char* s = arch.c_str();
    if (strncmp(s, "sm_", 3) == 0) { *virt = false; s += 3; }
    else if (strncmp(s, "compute_", 8) == 0) { *virt = true; s += 8; }
    else return false;
    int n = atoi(s);
    if (n < 10) return false;
    *major = n / 10;
    *minor = n % 10;
    return true;
}

extern "C" CUresult cuModuleLoadDataEx(void** module, const void* image, unsigned num_options, int* options, void** values)
{
    CHECK(need_context());
    if (!module || !image) return CUDA_ERROR_INVALID_VALUE;
    if (num_options > 0 && (!options || !values)) return CUDA_ERROR_INVALID_VALUE;
    const char* bytes = static_cast<const char*>(image);
    std::string arch;
    std::vector<char> so;
    if (memcmp(bytes, GMEMU_IMAGE_MAGIC, sizeof(GMEMU_IMAGE_MAGIC)) == 0)
    {
        gmemu_image_header h;
        memcpy(&h, bytes, sizeof h);
        arch.assign(h.arch, strnlen(h.arch, sizeof h.arch));
        so.assign(bytes + sizeof h, bytes + sizeof h + h.so_bytes);
    }
    else if (strncmp(bytes, GMEMU_PTX_MAGIC, strlen(GMEMU_PTX_MAGIC)) == 0)
    {
        const char* a = strstr(bytes, "// gmemu-arch ");
        const char* x = strstr(bytes, "// gmemu-so-hex ");
        if (!a || !x) return CUDA_ERROR_INVALID_PTX;
        a += strlen("// gmemu-arch ");
        arch.assign(a, strcspn(a, "\n"));
        x += strlen("// gmemu-so-hex ");
        for (; isxdigit((unsigned char)x[0]) && isxdigit((unsigned char)x[1]); x += 2)
        {
            char hex[3] = {x[0], x[1], 0};
            so.push_back((char)strtol(hex, nullptr, 16));
        }
    }
    else if (memcmp(bytes, "\x7f" "ELF", 4) == 0)
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cuModuleLoadDataEx: a real CUBIN cannot run on the emulator\n");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    else
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cuModuleLoadDataEx: not an image from the emulator's NVRTC (real PTX?)\n");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    int major, minor;
    bool virt;
    if (!arch_number(arch, &major, &minor, &virt)) return CUDA_ERROR_INVALID_IMAGE;
    // A CUBIN runs on devices of the same major version and an equal or higher minor; PTX on any device at
    // least as new as its virtual architecture. The emulated device is compute capability 9.0.
    if (virt ? (major * 10 + minor > 90) : (major != 9 || minor > 0))
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cuModuleLoadDataEx: image built for %s cannot run on a compute capability 9.0 device\n", arch.c_str());
        return CUDA_ERROR_NO_BINARY_FOR_GPU;
    }
    char path[] = "/tmp/gmemu-module-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return CUDA_ERROR_UNKNOWN;
    size_t off = 0;
    while (off < so.size())
    {
        ssize_t w = write(fd, so.data() + off, so.size() - off);
        if (w <= 0) { close(fd); unlink(path); return CUDA_ERROR_UNKNOWN; }
        off += (size_t)w;
    }
    close(fd);
    void* dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    unlink(path);
    if (!dl)
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cuModuleLoadDataEx: dlopen failed: %s\n", dlerror());
        return CUDA_ERROR_INVALID_IMAGE;
    }
    Module* m = new Module;
    m->dl = dl;
    m->arch = arch;
    *module = m;
    return CUDA_SUCCESS;
}

static Module* as_module(void* m) { return m && static_cast<Module*>(m)->magic == 0x4d4f444c ? static_cast<Module*>(m) : nullptr; }

extern "C" CUresult cuModuleUnload(void* module)
{
    CHECK(need_context());
    Module* m = as_module(module);
    if (!m) return CUDA_ERROR_INVALID_HANDLE;
    m->magic = 0;
    // The shared object stays mapped: a CUfunction used after unload is a caller bug we cannot detect
    // cheaply, but at least it does not jump into unmapped code.
    return CUDA_SUCCESS;
}

extern "C" CUresult cuModuleGetFunction(void** function, void* module, const char* name)
{
    CHECK(need_context());
    if (!function || !name) return CUDA_ERROR_INVALID_VALUE;
    Module* m = as_module(module);
    if (!m) return CUDA_ERROR_INVALID_HANDLE;
    std::string n(name);
    auto launch = (void (*)(void**))dlsym(m->dl, ("gmemu_launch_" + n).c_str());
    auto info = (int (*)(int*, int*, int))dlsym(m->dl, ("gmemu_info_" + n).c_str());
    auto bounds = (const int*)dlsym(m->dl, ("gmemu_maxthreads_" + n).c_str());
    if (!launch || !info) return CUDA_ERROR_NOT_FOUND;
    *function = new Function{0x46554e43, m, n, launch, info, bounds ? *bounds : 0};
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ fibers

extern "C" void gmemu_swap(void** save_sp, void* load_sp);
#if defined(__x86_64__)
asm(R"(
.text
.p2align 4
.globl gmemu_swap
.hidden gmemu_swap
.type gmemu_swap,@function
gmemu_swap:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
.size gmemu_swap, .-gmemu_swap
)");
#endif

enum State { RUNNABLE, AT_WARP, AT_BARRIER, EXITED };
enum WarpOp { OP_SHFL, OP_VOTE, OP_SYNCWARP };
struct Block;

// Lives at the top of each emulated thread's stack region (the prelude finds it from the stack pointer).
struct ThreadState
{
    gmemu_thread pub;
    Block* block;
    void* sp;
#if !defined(__x86_64__)
    ucontext_t uc;
#endif
    int linear, warp, lane;
    State state;
    WarpOp op;
    int kind, size, arg, width;
    unsigned mask;
    unsigned long long value, result;
};
static_assert(sizeof(ThreadState) <= GMEMU_STATE_SIZE, "thread state does not fit its reserved space");

struct Block
{
    const Function* f;
    void** params;
    gmemu_dim3 block_idx, block_dim, grid_dim;
    int threads;
    std::vector<ThreadState*> t;
    void* sched_sp;
#if !defined(__x86_64__)
    ucontext_t sched_uc;
#endif
};

static void yield_to_scheduler(ThreadState* ts)
{
#if defined(__x86_64__)
    gmemu_swap(&ts->sp, ts->block->sched_sp);
#else
    swapcontext(&ts->uc, &ts->block->sched_uc);
#endif
}

static const char* op_name(const ThreadState* t)
{
    static const char* shfl[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync"};
    static const char* vote[] = {"__ballot_sync", "__any_sync", "__all_sync", "__activemask"};
    switch (t->state)
    {
    case AT_BARRIER: return "__syncthreads";
    case EXITED: return "(exited)";
    case RUNNABLE: return "(running)";
    default: break;
    }
    if (t->op == OP_SHFL) return shfl[t->kind & 3];
    if (t->op == OP_VOTE) return vote[t->kind & 3];
    return "__syncwarp";
}

[[noreturn]] static void kernel_fatal(const ThreadState* ts, const char* fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    gmemu_fatal("kernel %s, block (%u,%u,%u), thread (%u,%u,%u) [warp %d lane %d]: %s", ts->block->f->name.c_str(),
                ts->pub.blockIdx.x, ts->pub.blockIdx.y, ts->pub.blockIdx.z, ts->pub.threadIdx.x, ts->pub.threadIdx.y,
                ts->pub.threadIdx.z, ts->warp, ts->lane, buf);
}

static ThreadState* self_of(gmemu_thread* p) { return reinterpret_cast<ThreadState*>(p); }

static void arrive_warp(ThreadState* ts, WarpOp op, int kind, unsigned mask)
{
    if (!(mask & (1u << ts->lane)))
        kernel_fatal(ts, "%s with mask 0x%08x that does not include the calling lane %d (undefined behaviour)",
                     op == OP_SHFL ? "warp shuffle" : op == OP_VOTE ? "warp vote" : "__syncwarp", mask, ts->lane);
    ts->op = op;
    ts->kind = kind;
    ts->mask = mask;
    ts->state = AT_WARP;
    yield_to_scheduler(ts);
}

static unsigned long long rt_shfl(gmemu_thread* p, int kind, unsigned mask, unsigned long long bits, int size, int arg, int width)
{
    ThreadState* ts = self_of(p);
    if (width < 1 || width > 32 || (width & (width - 1)) != 0)
        kernel_fatal(ts, "warp shuffle width %d is not a power of two in [1, 32]", width);
    ts->value = bits;
    ts->size = size;
    ts->arg = arg;
    ts->width = width;
    if (kind == 0 && false) {}
    arrive_warp(ts, OP_SHFL, kind, mask);
    return ts->result;
}
static unsigned rt_vote(gmemu_thread* p, int kind, unsigned mask, int predicate)
{
    ThreadState* ts = self_of(p);
    if (kind == 3)  // __activemask: lanes of the warp that have not exited (the emulator runs them converged)
    {
        unsigned m = 0;
        Block* b = ts->block;
        for (int i = ts->warp * 32; i < b->threads && i < ts->warp * 32 + 32; i++)
            if (b->t[i]->state != EXITED) m |= 1u << (i - ts->warp * 32);
        return m;
    }
    ts->value = (unsigned long long)predicate;
    arrive_warp(ts, OP_VOTE, kind, mask);
    return (unsigned)ts->result;
}
static void rt_syncwarp(gmemu_thread* p, unsigned mask)
{
    arrive_warp(self_of(p), OP_SYNCWARP, 0, mask);
}
static void rt_syncthreads(gmemu_thread* p)
{
    ThreadState* ts = self_of(p);
    ts->state = AT_BARRIER;
    yield_to_scheduler(ts);
}
static void rt_trap(gmemu_thread* p, const char* what) { kernel_fatal(self_of(p), "%s", what); }
static const gmemu_ops kOps = {rt_shfl, rt_vote, rt_syncthreads, rt_syncwarp, rt_trap};

static ThreadState* self_from_stack()
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return (ThreadState*)((sp & ~(uintptr_t)(GMEMU_STACK_SIZE - 1)) + GMEMU_STACK_SIZE - GMEMU_STATE_SIZE);
}

[[noreturn]] static void fiber_entry()
{
    ThreadState* ts = self_from_stack();
    ts->block->f->launch(ts->block->params);
    ts->state = EXITED;
    yield_to_scheduler(ts);
    gmemu_fatal("an exited emulated thread was resumed");
}

// Stacks for one host thread: up to 1024 regions of GMEMU_STACK_SIZE, aligned to it, each with a guard page.
// Unmapped when the thread ends: each launch runs on fresh worker threads, and a pool left behind keeps one
// mapping per guard page (the process hit vm.max_map_count after a few hundred launches).
struct StackPool
{
    char* base = nullptr;
    char* raw_base = nullptr;
    size_t raw_bytes = 0;
    int count = 0;
    ~StackPool()
    {
        if (raw_base) munmap(raw_base, raw_bytes);
    }
    ThreadState* state(int i) { return (ThreadState*)(base + (size_t)i * GMEMU_STACK_SIZE + GMEMU_STACK_SIZE - GMEMU_STATE_SIZE); }
    void ensure(int n)
    {
        if (n <= count) return;
        if (!base)
        {
            size_t bytes = (size_t)1024 * GMEMU_STACK_SIZE + GMEMU_STACK_SIZE;
            char* raw = (char*)mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (raw == MAP_FAILED) gmemu_fatal("cannot map fiber stacks");
            raw_base = raw;
            raw_bytes = bytes;
            base = (char*)(((uintptr_t)raw + GMEMU_STACK_SIZE - 1) & ~(uintptr_t)(GMEMU_STACK_SIZE - 1));
        }
        for (int i = count; i < n; i++) mprotect(base + (size_t)i * GMEMU_STACK_SIZE, kPage, PROT_NONE);
        count = n;
    }
};
static thread_local StackPool t_stacks;

static void start_fiber(ThreadState* ts)
{
#if defined(__x86_64__)
    uintptr_t top = ((uintptr_t)ts) & ~(uintptr_t)15;
    uintptr_t* sp = (uintptr_t*)top;
    *--sp = 0;                          // fake return address of fiber_entry (never returns)
    *--sp = (uintptr_t)&fiber_entry;    // gmemu_swap's ret target
    for (int i = 0; i < 6; i++) *--sp = 0;
    --sp;
    uint32_t csr[2] = {0x1F80u, 0x037Fu};  // default MXCSR and x87 control word
    memcpy(sp, csr, 8);
    ts->sp = sp;
#else
    getcontext(&ts->uc);
    char* region = (char*)((uintptr_t)ts & ~(uintptr_t)(GMEMU_STACK_SIZE - 1));
    ts->uc.uc_stack.ss_sp = region + kPage;
    ts->uc.uc_stack.ss_size = (size_t)((char*)ts - region) - kPage - 64;
    ts->uc.uc_link = nullptr;
    makecontext(&ts->uc, (void (*)())fiber_entry, 0);
#endif
}

static void resume(Block* b, ThreadState* ts)
{
#if defined(__x86_64__)
    gmemu_swap(&b->sched_sp, ts->sp);
#else
    swapcontext(&b->sched_uc, &ts->uc);
#endif
}

// Resolves one group of lanes waiting at the same warp collective. Returns true when it released them.
static bool resolve_group(Block* b, int warp, int first_lane)
{
    int base = warp * 32;
    int lanes = std::min(32, b->threads - base);
    ThreadState* lead = b->t[base + first_lane];
    unsigned mask = lead->mask;
    unsigned participating = 0;
    for (int l = 0; l < lanes; l++)
    {
        if (!(mask & (1u << l))) continue;
        ThreadState* t = b->t[base + l];
        if (t->state == EXITED) continue;  // documented: exited threads named in mask are allowed
        if (t->state != AT_WARP || t->mask != mask || t->op != lead->op || (t->op != OP_SYNCWARP && t->kind != lead->kind))
            return false;
        participating |= 1u << l;
    }
    if (lead->op == OP_SHFL)
    {
        for (int l = 0; l < lanes; l++)
        {
            if (!(participating & (1u << l))) continue;
            ThreadState* t = b->t[base + l];
            int w = t->width, seg = l & ~(w - 1), src;
            switch (t->kind)
            {
            case 0: src = seg + (t->arg & (w - 1)); break;
            case 1: src = l - t->arg; if (src < seg) src = l; break;
            case 2: src = l + t->arg; if (src >= seg + w) src = l; break;
            default: src = l ^ t->arg; if (src >= seg + w) src = l; break;
            }
            if (src < 0 || src >= 32 || !(participating & (1u << src)))
                kernel_fatal(t, "%s(mask 0x%08x) reads lane %d, which %s: the value is undefined", op_name(t), mask, src,
                             src >= lanes ? "does not exist (block size not a multiple of 32)"
                             : b->t[base + src]->state == EXITED ? "has exited" : "is not named in the mask");
            ThreadState* s = b->t[base + src];
            if (s->size != t->size) kernel_fatal(t, "%s between values of different sizes (%d and %d bytes)", op_name(t), t->size, s->size);
            t->result = s->value;
        }
    }
    else if (lead->op == OP_VOTE)
    {
        unsigned ballot = 0;
        for (int l = 0; l < lanes; l++)
            if ((participating & (1u << l)) && b->t[base + l]->value) ballot |= 1u << l;
        for (int l = 0; l < lanes; l++)
        {
            if (!(participating & (1u << l))) continue;
            ThreadState* t = b->t[base + l];
            t->result = t->kind == 0 ? ballot : t->kind == 1 ? (ballot != 0) : (ballot == participating);
        }
    }
    for (int l = 0; l < lanes; l++)
        if (participating & (1u << l)) b->t[base + l]->state = RUNNABLE;
    return true;
}

[[noreturn]] static void deadlock(Block* b)
{
    std::string s;
    int at_barrier = 0, exited = 0;
    for (int i = 0; i < b->threads; i++)
    {
        ThreadState* t = b->t[i];
        if (t->state == AT_BARRIER) at_barrier++;
        if (t->state == EXITED) exited++;
    }
    char line[256];
    for (int i = 0, shown = 0; i < b->threads && shown < 12; i++)
    {
        ThreadState* t = b->t[i];
        if (t->state != AT_WARP) continue;
        snprintf(line, sizeof line, "\n  thread %d (warp %d lane %d) waits in %s with mask 0x%08x", i, t->warp, t->lane, op_name(t), t->mask);
        s += line;
        shown++;
    }
    ThreadState* any = b->t[0];
    if (at_barrier > 0 && exited > 0)
        kernel_fatal(any, "__syncthreads() reached by %d threads while %d threads of the block have exited: "
                          "a barrier in non-uniform control flow is undefined behaviour%s", at_barrier, exited, s.c_str());
    kernel_fatal(any, "threads wait at different synchronisation points and none can proceed (%d at __syncthreads, %d exited, "
                      "the rest in warp collectives whose masks name lanes elsewhere):%s", at_barrier, exited, s.c_str());
}

static void run_block(Block* b)
{
    t_stacks.ensure(b->threads);
    b->t.resize(b->threads);
    unsigned bx = b->block_dim.x, by = b->block_dim.y;
    for (int i = 0; i < b->threads; i++)
    {
        ThreadState* ts = t_stacks.state(i);
        memset((void*)ts, 0, sizeof *ts);
        ts->pub.threadIdx = {i % bx, (i / bx) % by, i / (bx * by)};
        ts->pub.blockIdx = b->block_idx;
        ts->pub.blockDim = b->block_dim;
        ts->pub.gridDim = b->grid_dim;
        ts->pub.ops = &kOps;
        ts->block = b;
        ts->linear = i;
        ts->warp = i / 32;
        ts->lane = i % 32;
        ts->state = RUNNABLE;
        start_fiber(ts);
        b->t[i] = ts;
    }
    snprintf(t_device_where, sizeof t_device_where, ", block (%u,%u,%u)", b->block_idx.x, b->block_idx.y, b->block_idx.z);
    int warps = (b->threads + 31) / 32;
    for (;;)
    {
        for (int i = 0; i < b->threads; i++)
            if (b->t[i]->state == RUNNABLE) resume(b, b->t[i]);
        int exited = 0, at_barrier = 0;
        for (int i = 0; i < b->threads; i++)
        {
            exited += b->t[i]->state == EXITED;
            at_barrier += b->t[i]->state == AT_BARRIER;
        }
        if (exited == b->threads) break;
        bool progress = false;
        for (int w = 0; w < warps; w++)
            for (int l = 0; l < 32 && w * 32 + l < b->threads; l++)
                if (b->t[w * 32 + l]->state == AT_WARP && resolve_group(b, w, l)) progress = true;
        if (progress) continue;
        if (at_barrier > 0 && at_barrier + exited == b->threads && exited == 0)
        {
            for (int i = 0; i < b->threads; i++) b->t[i]->state = RUNNABLE;
            continue;
        }
        deadlock(b);
    }
}

struct Launch
{
    const Function* f;
    void** params;
    gmemu_dim3 grid, block;
};

static void run_block_index(long index, void* context)
{
    Launch* L = static_cast<Launch*>(context);
    Block b;
    b.f = L->f;
    b.params = L->params;
    b.grid_dim = L->grid;
    b.block_dim = L->block;
    b.block_idx = {(unsigned)(index % L->grid.x), (unsigned)((index / L->grid.x) % L->grid.y), (unsigned)(index / ((long)L->grid.x * L->grid.y))};
    b.threads = (int)(L->block.x * L->block.y * L->block.z);
    run_block(&b);
}

extern "C" CUresult cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                                   unsigned shared_bytes, void* stream, void** params, void** extra)
{
    CHECK(need_context());
    Function* f = static_cast<Function*>(function);
    if (!f || f->magic != 0x46554e43 || !as_module(f->module)) return CUDA_ERROR_INVALID_HANDLE;
    CHECK(check_stream(stream));
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return CUDA_ERROR_INVALID_VALUE;
    if (gx > 2147483647u || gy > 65535 || gz > 65535 || bx > 1024 || by > 1024 || bz > 64) return CUDA_ERROR_INVALID_VALUE;
    unsigned long long threads = (unsigned long long)bx * by * bz;
    if (threads > 1024) return CUDA_ERROR_INVALID_VALUE;
    if (f->max_threads > 0 && threads > (unsigned long long)f->max_threads)
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cuLaunchKernel(%s): %llu threads per block exceed __launch_bounds__(%d)\n",
                f->name.c_str(), threads, f->max_threads);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (shared_bytes > 49152) return CUDA_ERROR_INVALID_VALUE;
    if (shared_bytes > 0)
    {
        fprintf(stderr, "GenMetrics CUDA emulator: cuLaunchKernel(%s): dynamic shared memory is not emulated\n", f->name.c_str());
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (params && extra) return CUDA_ERROR_INVALID_VALUE;
    if (extra) { fprintf(stderr, "GenMetrics CUDA emulator: cuLaunchKernel: 'extra' parameter passing is not emulated\n"); return CUDA_ERROR_NOT_SUPPORTED; }
    int sizes[64], pointers[64];
    int n = f->info(sizes, pointers, 64);
    if (n > 0 && !params) return CUDA_ERROR_INVALID_VALUE;
    for (int i = 0; i < n && i < 64; i++)
    {
        if (!params[i]) gmemu_fatal("cuLaunchKernel(%s): kernelParams[%d] is NULL", f->name.c_str(), i);
        if (!pointers[i]) continue;
        const void* p = *(const void* const*)params[i];
        char why[512];
        if (p && !gmemu_check_range(p, 0, why, sizeof why))
            gmemu_fatal("cuLaunchKernel(%s): pointer argument #%d (0x%lx) is not device memory: %s", f->name.c_str(), i,
                        (unsigned long)(uintptr_t)p, why);
    }
    TRACE("cuLaunchKernel(%s, grid %u,%u,%u, block %u,%u,%u)", f->name.c_str(), gx, gy, gz, bx, by, bz);
    // The argument values are copied now ("kernelParams ... are copied at launch"): the caller's array may go.
    auto storage = std::make_shared<std::vector<unsigned long long>>((size_t)(n > 0 ? n : 1));
    auto argv = std::make_shared<std::vector<void*>>((size_t)(n > 0 ? n : 1));
    std::vector<uintptr_t> touched;
    for (int i = 0; i < n && i < 64; i++)
    {
        int size = sizes[i] > 8 ? 8 : sizes[i];
        if (sizes[i] > 8) gmemu_fatal("cuLaunchKernel(%s): argument #%d of %d bytes is not emulated", f->name.c_str(), i, sizes[i]);
        memcpy(&(*storage)[(size_t)i], params[i], (size_t)size);
        (*argv)[(size_t)i] = &(*storage)[(size_t)i];
        if (pointers[i]) touched.push_back((uintptr_t)(*storage)[(size_t)i]);
    }
    std::string what = "kernel " + f->name;
    gmemu_dim3 grid{gx, gy, gz}, block{bx, by, bz};
    enqueue_lambda(stream, what, touched, [f, storage, argv, grid, block, what] {
        Launch L{f, argv->data(), grid, block};
        gmemu_parallel_for((long)grid.x * grid.y * grid.z, run_block_index, &L, what.c_str());
    });
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ errors and profiler

extern "C" CUresult cuGetErrorName(CUresult code, const char** s)
{
    if (!s) return CUDA_ERROR_INVALID_VALUE;
    for (auto& e : kErrors) if (e.code == code) { *s = e.name; return CUDA_SUCCESS; }
    *s = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}
extern "C" CUresult cuGetErrorString(CUresult code, const char** s)
{
    if (!s) return CUDA_ERROR_INVALID_VALUE;
    for (auto& e : kErrors) if (e.code == code) { *s = e.text; return CUDA_SUCCESS; }
    *s = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}
extern "C" CUresult cuProfilerStart() { return need_context(); }
extern "C" CUresult cuProfilerStop() { return need_context(); }
