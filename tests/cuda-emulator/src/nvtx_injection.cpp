// A fake NVTX tool for the GenMetrics CUDA emulator: an NVTX 3 injection library, as Nsight Systems names
// in NVTX_INJECTION64_PATH. When the application initialises NVTX it calls InitializeInjectionNvtx2 with its
// export-table getter; this library checks the version table, asks for the CORE module's function table and
// puts its own nvtxRangePushA / nvtxRangePop into the slots. Each range is appended to the file named by
// GM_FAKE_NVTX_LOG ("push NAME", "pop"), so a test can see that ranges reached the tool and are balanced.
// Protocol as in the NVTX 3 headers (nvtxDetail/nvtxImpl.h, nvtxInit.h): export table ids 1 (callbacks) and
// 3 (version info), module CORE = 1, callback ids RangePushA = 9, RangePop = 11, CORE table size 16.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>

typedef void (*NvtxFunctionPointer)(void);
typedef NvtxFunctionPointer** NvtxFunctionTable;
struct NvtxExportTableCallbacks
{
    size_t struct_size;
    int (*GetModuleFunctionTable)(int module, NvtxFunctionTable* out_table, unsigned int* out_size);
};
struct NvtxExportTableVersionInfo
{
    size_t struct_size;
    uint32_t version;
    uint32_t reserved0;
    void (*SetInjectionNvtxVersion)(uint32_t version);
};
typedef const void* (*NvtxGetExportTableFunc_t)(uint32_t exportTableId);

static std::mutex g_mutex;
static int g_depth = 0;

static void log_line(const char* what, const char* name)
{
    const char* path = getenv("GM_FAKE_NVTX_LOG");
    if (!path) return;
    std::lock_guard<std::mutex> lock(g_mutex);
    FILE* f = fopen(path, "a");
    if (!f) return;
    if (name) fprintf(f, "%s %s\n", what, name);
    else fprintf(f, "%s\n", what);
    fclose(f);
}

static int push_a(const char* message)
{
    log_line("push", message ? message : "(null)");
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_depth++;
}

static int pop()
{
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (g_depth == 0)
        {
            // logged below, outside the lock
        }
        else g_depth--;
    }
    log_line("pop", nullptr);
    return 0;
}

extern "C" __attribute__((visibility("default"))) int InitializeInjectionNvtx2(NvtxGetExportTableFunc_t getExportTable)
{
    if (!getExportTable) return 0;
    auto* version = static_cast<const NvtxExportTableVersionInfo*>(getExportTable(3));
    if (!version || version->struct_size < sizeof(NvtxExportTableVersionInfo) || version->version < 2)
    {
        log_line("error", "bad NvtxExportTableVersionInfo");
        return 0;
    }
    if (version->SetInjectionNvtxVersion) version->SetInjectionNvtxVersion(3);
    auto* callbacks = static_cast<const NvtxExportTableCallbacks*>(getExportTable(1));
    if (!callbacks || callbacks->struct_size < sizeof(NvtxExportTableCallbacks) || !callbacks->GetModuleFunctionTable)
    {
        log_line("error", "bad NvtxExportTableCallbacks");
        return 0;
    }
    NvtxFunctionTable table = nullptr;
    unsigned int size = 0;
    if (!callbacks->GetModuleFunctionTable(1, &table, &size) || !table || size < 16)
    {
        log_line("error", "no CORE function table");
        return 0;
    }
    // Every other module must answer too (real tools ask for all of them).
    for (int module = 2; module <= 6; module++)
    {
        NvtxFunctionTable t = nullptr;
        unsigned int s = 0;
        if (!callbacks->GetModuleFunctionTable(module, &t, &s) || !t || s == 0 || t[s] != nullptr)
        {
            log_line("error", "a module's function table is missing or not null-terminated");
            return 0;
        }
    }
    if (table[0] != nullptr || table[size] != nullptr)
    {
        log_line("error", "CORE table not framed by nulls");
        return 0;
    }
    *table[9] = (NvtxFunctionPointer)push_a;
    *table[11] = (NvtxFunctionPointer)pop;
    log_line("init", "NVTX 3 injection");
    return 1;
}
