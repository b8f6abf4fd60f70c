#!/usr/bin/env bash
# The GPU session in two steps (docs/cuda.md, "Running it on a GPU machine that has no .NET SDK").
#
#   here (SDK, no GPU):   bash perf/cuda-device-run.sh pack
#       publishes the CLI self-contained (~121 MB) and packs it as .carry/genmetrics.tar.xz (~37 MiB, under
#       the 64 MiB a device call carries; .carry/ is git-ignored).
#   there (GPU, no SDK):  bash perf/cuda-device-run.sh run            (device call: carry [".carry"])
#       unpacks, then in one call: devices (driver, chosen libraries, NVTX route), verify in fp32/tf32/fp16,
#       compute-sanitizer memcheck/racecheck and an nsys NVTX check when those tools exist, a quick bench as a
#       smoke test, and the full bench in each precision (upload GB/s, random-operand GEMM peak, Newton–Schulz
#       iterations are in its lines). Everything goes to $OUT (at most 8 files come back): log.txt with all
#       output, bench-fp32.json, bench-tf32.json, bench-fp16.json. A failing step is logged and the next runs.
#       Record the figures in perf/NOTES.md.
set -uo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  pack)
    set -e
    rm -rf out/gpu
    dotnet publish src/Cli -c Release -r linux-x64 --self-contained -o out/gpu
    mkdir -p .carry
    tar -cJf .carry/genmetrics.tar.xz -C out gpu
    ls -l .carry/genmetrics.tar.xz
    ;;
  run)
    out=${OUT:-/tmp/genmetrics-out}
    mkdir -p "$out"
    log="$out/log.txt"
    : >"$log"
    tar -xJf .carry/genmetrics.tar.xz -C /tmp || { echo "cannot unpack .carry/genmetrics.tar.xz (run 'pack' first and carry .carry)"; exit 2; }
    g=/tmp/gpu/genmetrics
    export XDG_CACHE_HOME=/tmp/genmetrics-cache   # a fresh kernel cache: the first run pays NVRTC, as a user's would
    failures=0
    step() {
      echo "== $*" | tee -a "$log"
      local start=$SECONDS
      "$@" 2>&1 | tee -a "$log"
      local rc=${PIPESTATUS[0]}
      echo "== exit $rc after $((SECONDS - start)) s: $*" | tee -a "$log"
      [ "$rc" -eq 0 ] || failures=$((failures + 1))
    }
    step nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
    # devices: which CUDA the driver supports, which toolkit's libraries that chose (and which were skipped),
    # cuSOLVER, and which NVTX route is active (NVTX_INJECTION64_PATH when run under nsys).
    step "$g" devices
    for p in fp32 tf32 fp16; do step "$g" verify --backend cuda --precision "$p"; done
    # Memory errors and shared-memory races on a small verify, when the toolkit's sanitizer is there.
    if command -v compute-sanitizer >/dev/null 2>&1; then
      step compute-sanitizer --tool memcheck --error-exitcode 1 "$g" verify --backend cuda --precision fp32
      step compute-sanitizer --tool racecheck --error-exitcode 1 "$g" verify --backend cuda --precision fp32
    else
      echo "== compute-sanitizer not on PATH: memcheck/racecheck skipped" | tee -a "$log"
    fi
    # NVTX reaching a tool: under Nsight Systems the ranges land in the report (nsys stats ... nvtx_sum).
    if command -v nsys >/dev/null 2>&1; then
      step nsys profile -o "$out/fid" --force-overwrite true --trace cuda,nvtx "$g" bench --backend cuda --only fid --quick --repeats 1
      step nsys stats --report nvtx_sum "$out/fid.nsys-rep"
    fi
    # GM_DEVICE_RUN_TINY=1: tiny sizes, to try the script itself on the CPU emulator (tests/cuda-emulator).
    if [ "${GM_DEVICE_RUN_TINY:-0}" = 1 ]; then sizes=(--samples 700 --dims 48 --repeats 1); else sizes=(); fi
    [ ${#sizes[@]} -gt 0 ] || step "$g" bench --backend cuda --quick --repeats 3
    for p in fp32 tf32 fp16; do step "$g" bench --backend cuda --precision "$p" "${sizes[@]}" --json "$out/bench-$p.json"; done
    echo "== $failures step(s) failed" | tee -a "$log"
    [ "$failures" -eq 0 ]
    ;;
  *)
    echo "usage: bash perf/cuda-device-run.sh pack|run" >&2
    exit 2
    ;;
esac
