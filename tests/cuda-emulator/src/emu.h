// GenMetrics CUDA emulator: what the fake libcuda exports to the fake libcublas (allocation registry,
// host worker threads) and the image format shared by the fake NVRTC and libcuda.
#pragma once
#include <cstddef>
#include <cstdint>

#define GMEMU_IMAGE_MAGIC "GMEMU-CUBIN-v1"   // 15 bytes incl. NUL, padded to 16
#define GMEMU_PTX_MAGIC "//\n// GenMetrics CUDA emulator image (NOT real PTX)\n"

struct gmemu_image_header
{
    char magic[16];
    char arch[16];          // "sm_90", "compute_90"
    uint64_t so_bytes;      // the shared object follows the header
};

extern "C" {
// 1 when [p, p + bytes) lies inside one live device allocation; otherwise 0 and *why describes it.
int gmemu_check_range(const void* p, size_t bytes, char* why, size_t why_size);
// Runs body(i, context) for i in [0, count) on the emulator's host threads (marking them as "in device
// code" so that a fault there is reported by the emulator), and waits.
void gmemu_parallel_for(long count, void (*body)(long, void*), void* context, const char* what);
// Queues run(ctx) on a stream (NULL: the default stream); it runs at the stream's next synchronisation
// point, then destroy(ctx). touched: the device/pinned addresses the work uses (checked by cuMemFree).
void gmemu_enqueue(void* stream, const char* what, const uintptr_t* touched, int ntouched, void (*run)(void*), void* ctx,
                   void (*destroy)(void*));
// Runs everything queued on the stream (a blocking call's implicit synchronisation).
void gmemu_stream_sync(void* stream);
// Aborts the process with a message prefixed "GenMetrics CUDA emulator:".
[[noreturn]] void gmemu_fatal(const char* fmt, ...);
}

#ifdef __cplusplus
#include <utility>
#include <vector>
// Queues a callable on a stream (see gmemu_enqueue).
template <class F>
static inline void gmemu_enqueue_lambda(void* stream, const char* what, std::vector<uintptr_t> touched, F f)
{
    auto* heap = new F(std::move(f));
    gmemu_enqueue(stream, what, touched.data(), (int)touched.size(), [](void* c) { (*static_cast<F*>(c))(); }, heap,
                  [](void* c) { delete static_cast<F*>(c); });
}
#endif
