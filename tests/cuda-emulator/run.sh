#!/bin/bash
# Runs GenMetrics' whole CUDA path on the CPU emulator: builds the emulator and the solution, then
# genmetrics devices, verify and a tiny bench (every precision), and the Gpu test category.
# Exit status non-zero if anything fails. NOT a substitute for a run on a real GPU (see README.md).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${GM_CUDA_EMU_OUT:-$here/build}
start=$(date +%s)
fail=0
step() { echo; echo "=== $*"; }
check() { local rc=$?; if [ $rc -ne 0 ]; then echo "FAILED ($rc): $1"; fail=1; fi; }

step "build the emulator"
"$here/build.sh" "$out" || { echo "FAILED: emulator build"; exit 1; }
step "emulator self-test"
"$out/selftest"; check "emulator self-test"

if [ "${GM_CUDA_EMU_SKIP_BUILD:-0}" != 1 ]; then
    step "dotnet build Engine.sln -c Release"
    (cd "$root" && dotnet build Engine.sln -c Release -nologo -v q) || { echo "FAILED: dotnet build"; exit 1; }
fi

cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
export LD_LIBRARY_PATH="$out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export XDG_CACHE_HOME="$cache"   # KernelCache.DefaultDirectory: $XDG_CACHE_HOME/genmetrics/kernels
cli=$(ls "$root"/src/Cli/bin/Release/*/genmetrics | head -1)

step "genmetrics devices"
"$cli" devices | tee "$cache/devices.txt"; check "genmetrics devices"
grep -q "cuda backend: available" "$cache/devices.txt" || { echo "FAILED: the emulated device is not usable"; fail=1; }
step "libraries chosen by the driver's version (emulated driver for CUDA 12.8: CUDA 12 libraries only)"
GM_CUDA_EMU_DRIVER_VERSION=12080 "$cli" devices | tee "$cache/devices12.txt"; check "genmetrics devices (driver 12.8)"
for want in "cuBLAS: libcublas.so.12 (tried libcublas.so.13: skipped" "NVRTC: libnvrtc.so.12" "cuSOLVER: libcusolver.so.11" \
            "library choice: the driver supports CUDA 12.8" "cuda backend: available"; do
    grep -qF "$want" "$cache/devices12.txt" || { echo "FAILED: driver 12.8: expected '$want'"; fail=1; }
done
GM_CUDA_EMU_DRIVER_VERSION=12080 timeout 600 "$cli" verify --backend cuda --precision fp32 >/dev/null; check "verify with the CUDA 12 libraries"
step "a driver older than CUDA 12: unavailable, and why"
GM_CUDA_EMU_DRIVER_VERSION=11080 "$cli" devices | tee "$cache/devices11.txt"; check "genmetrics devices (driver 11.8)"
grep -q "cuda backend: unavailable (.*CUDA 12.0 or newer is needed" "$cache/devices11.txt" || { echo "FAILED: driver 11.8 not refused with the reason"; fail=1; }

step "NVTX 3 injection: ranges reach a tool named by NVTX_INJECTION64_PATH"
NVTX_INJECTION64_PATH="$out/libfake_nvtx_injection.so" "$cli" devices | grep -F "NVTX 3 injection library" \
    || { echo "FAILED: devices does not say NVTX injection is active"; fail=1; }
rm -f "$cache/nvtx.log"
NVTX_INJECTION64_PATH="$out/libfake_nvtx_injection.so" GM_FAKE_NVTX_LOG="$cache/nvtx.log" \
    timeout 300 "$cli" bench --backend cuda --only fid --samples 300 --dims 32 --repeats 1 >/dev/null; check "bench with the NVTX tool"
pushes=$(grep -c "^push " "$cache/nvtx.log" 2>/dev/null || echo 0); pops=$(grep -c "^pop$" "$cache/nvtx.log" 2>/dev/null || echo 0)
echo "NVTX tool saw: $(grep -c '^init' "$cache/nvtx.log" 2>/dev/null) init, $pushes pushes, $pops pops; $(grep -c '^push sqrtm' "$cache/nvtx.log" 2>/dev/null) square-root ranges"
if ! grep -q "^init" "$cache/nvtx.log" || [ "$pushes" -eq 0 ] || [ "$pushes" -ne "$pops" ] || grep -q "^error" "$cache/nvtx.log" || ! grep -q "^push sqrtm" "$cache/nvtx.log"; then
    echo "FAILED: NVTX ranges did not reach the injected tool, or are unbalanced"; fail=1
fi

for p in fp32 tf32 fp16; do
    step "genmetrics verify --backend cuda --precision $p"
    timeout 600 "$cli" verify --backend cuda --precision $p; check "verify $p"
done
# bench --backend cuda as a smoke test of its code path on tiny sizes (its times mean nothing here).
for p in fp32 tf32 fp16; do
    step "genmetrics bench --backend cuda --precision $p (tiny sizes)"
    timeout 300 "$cli" bench --backend cuda --precision $p --samples 700 --dims 48 --repeats 1 --json "$cache/bench-$p.json"
    check "bench $p"
done
step "out of device memory: the tile shrinks (emulated device of 12 MB)"
(cd "$root" && GM_CUDA_EMU_MEMORY_BYTES=12000000 timeout 300 dotnet test Engine.sln -c Release --no-build \
    --filter "FullyQualifiedName~OutOfMemoryShrinksTheTile" -nologo -v q | tee "$cache/oom.txt"); check "out-of-memory test"
grep -q "Passed: *1," "$cache/oom.txt" || { echo "FAILED: the out-of-memory test did not run"; fail=1; }
step "a device too small for the sets: one line, exit 2, no stack trace"
GM_CUDA_EMU_MEMORY_BYTES=4000000 "$cli" bench --backend cuda --only pr --samples 5000 --dims 512 --repeats 1 >/dev/null 2>"$cache/small.txt"
rc=$?
cat "$cache/small.txt"
if [ $rc -ne 2 ] || ! grep -q "CUDA error: .*CUDA_ERROR_OUT_OF_MEMORY" "$cache/small.txt" || grep -q "   at " "$cache/small.txt" || [ "$(wc -l < "$cache/small.txt")" -ne 1 ]; then
    echo "FAILED: expected exit 2 and one line naming CUDA_ERROR_OUT_OF_MEMORY (exit $rc)"; fail=1
fi
step "dotnet test (Gpu category)"
(cd "$root" && timeout 900 dotnet test Engine.sln -c Release --no-build --filter "TestCategory=Gpu" -nologo -v q); check "Gpu tests"

echo
echo "run.sh finished in $(( $(date +%s) - start )) s: $([ $fail -eq 0 ] && echo ALL PASSED || echo FAILURES)"
exit $fail
