/*
 * libgenmetrics.so: the loader of the C API (docs/c-api.md, "Instruction sets").
 *
 * NativeAOT fixes the instruction set of the compiled engine at build time, so the publish builds it three
 * times: libgenmetrics-x86-64-v4.so (AVX-512), libgenmetrics-x86-64-v3.so (AVX2, FMA) and
 * libgenmetrics-x86-64.so (SSE2: any x86-64). This library, the one programs link with -lgenmetrics, picks
 * the best variant the processor and the operating system support when it is loaded, dlopens it from its own
 * folder, and forwards every genmetrics_* symbol to it with a one-instruction jump, so the arguments, the
 * return value and the ABI are the variant's own: nothing here knows a function's signature.
 *
 * GENMETRICS_ISA=x86-64|x86-64-v3|x86-64-v4 in the environment chooses a variant (for comparisons and tests);
 * one the processor cannot run is refused with a message on stderr and the best supported one is used.
 *
 * GENMETRICS_SYMBOLS(X) (symbols.h) lists the exported names; build-loader.sh generates it from the
 * x86-64 variant's dynamic symbol table, so a new export needs no change here.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

/* One pointer per export, filled by the constructor below, and one trampoline that jumps through it. */
#define GM_TRAMPOLINE(name)                                                                   \
    __attribute__((visibility("hidden"))) void* gm_target_##name;                            \
    __asm__(".text\n\t.globl " #name "\n\t.type " #name ", @function\n\t.p2align 4\n"        \
            #name ":\n\tjmp *gm_target_" #name "(%rip)\n\t.size " #name ", .-" #name "\n");
GENMETRICS_SYMBOLS(GM_TRAMPOLINE)

static const char* const gm_variants[] = { "x86-64-v4", "x86-64-v3", "x86-64" };
enum { GM_V4 = 0, GM_V3 = 1, GM_BASE = 2 };

/* The x86-64 micro-architecture levels of the psABI, as NativeAOT's x86-64-v3/-v4 require them, including
 * the operating system's support for the wider registers (XCR0). */
static int gm_best_level(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return GM_BASE;
    const unsigned c1 = c;
    int osxsave = (c1 >> 27) & 1;
    if (!osxsave) return GM_BASE;
    uint32_t xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    (void)xcr0_hi;
    int ymm_os = (xcr0_lo & 0x6) == 0x6;              /* SSE and AVX state */
    int zmm_os = (xcr0_lo & 0xe6) == 0xe6;            /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    int avx = (c1 >> 28) & 1, fma = (c1 >> 12) & 1, f16c = (c1 >> 29) & 1, movbe = (c1 >> 22) & 1;
    if (__get_cpuid_max(0, NULL) < 7) return GM_BASE;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, bmi1 = (b >> 3) & 1, bmi2 = (b >> 8) & 1;
    int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512cd = (b >> 28) & 1;
    int avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    int lzcnt = 0;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d)) lzcnt = (c >> 5) & 1;
    int v3 = ymm_os && avx && avx2 && bmi1 && bmi2 && fma && f16c && movbe && lzcnt;
    int v4 = v3 && zmm_os && avx512f && avx512dq && avx512cd && avx512bw && avx512vl;
    return v4 ? GM_V4 : v3 ? GM_V3 : GM_BASE;
}

static char gm_problem[PATH_MAX + 256];

__attribute__((noreturn, used)) static void gm_unavailable(void)
{
    fprintf(stderr, "libgenmetrics.so: %s\n", gm_problem);
    abort();
}

__attribute__((constructor)) static void gm_load(void)
{
    int level = gm_best_level();
    const char* forced = getenv("GENMETRICS_ISA");
    if (forced != NULL && forced[0] != '\0') {
        int chosen = -1;
        for (int i = 0; i < 3; i++)
            if (strcmp(forced, gm_variants[i]) == 0) chosen = i;
        if (chosen < 0)
            fprintf(stderr, "libgenmetrics.so: GENMETRICS_ISA=%s is not x86-64, x86-64-v3 or x86-64-v4; using %s\n",
                    forced, gm_variants[level]);
        else if (chosen < level)
            fprintf(stderr, "libgenmetrics.so: GENMETRICS_ISA=%s: this processor does not support it; using %s\n",
                    forced, gm_variants[level]);
        else
            level = chosen;
    }

    /* The variants live beside this library. */
    char folder[PATH_MAX];
    Dl_info self;
    if (dladdr((void*)&gm_load, &self) == 0 || self.dli_fname == NULL || realpath(self.dli_fname, folder) == NULL) {
        snprintf(gm_problem, sizeof gm_problem, "cannot find its own path to load libgenmetrics-%s.so", gm_variants[level]);
    } else {
        char* slash = strrchr(folder, '/');
        if (slash != NULL) slash[1] = '\0';
        char path[PATH_MAX + 64];
        void* handle = NULL;
        /* The best level first; a missing file (a partial copy) falls back to the next level down. */
        for (int i = level; i < 3 && handle == NULL; i++) {
            snprintf(path, sizeof path, "%slibgenmetrics-%s.so", folder, gm_variants[i]);
            handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (handle == NULL)
                snprintf(gm_problem, sizeof gm_problem, "cannot load the engine: %s", dlerror());
        }
        if (handle != NULL) {
            gm_problem[0] = '\0';
#define GM_RESOLVE(name)                                                                                 \
            if ((gm_target_##name = dlsym(handle, #name)) == NULL && gm_problem[0] == '\0')                 \
                snprintf(gm_problem, sizeof gm_problem, "%s lacks %s (a variant from another build?)", path, #name);
            GENMETRICS_SYMBOLS(GM_RESOLVE)
#undef GM_RESOLVE
            if (gm_problem[0] == '\0') return;
        }
    }
    /* Nothing usable: every call reports why and aborts, rather than jumping through a null pointer. */
#define GM_FAIL(name) gm_target_##name = (void*)&gm_unavailable;
    GENMETRICS_SYMBOLS(GM_FAIL)
#undef GM_FAIL
}
