#!/bin/bash
# Builds the GenMetrics CUDA emulator into OUTDIR: fake libcuda.so.1, and the toolkit libraries twice, as
# CUDA 13 (libnvrtc.so.13, libcublas.so.13, libcusolver.so.12) and as CUDA 12 (libnvrtc.so.12,
# libcublas.so.12, libcusolver.so.11; same code, version numbers of 12.8), so that the choice of libraries
# by driver version can be tested; plus a fake NVTX injection library and the self-test.
# Usage: build.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
CXX=${CXX:-g++}
flags=(-std=c++17 -O2 -g -fPIC -shared -Wall -Wextra -Wno-unused-parameter -I"$here/src" -pthread)
"$CXX" "${flags[@]}" -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1" "$here/src/cuda.cpp" -ldl
for tk in 13 12; do
    if [ $tk = 13 ]; then solver=12; else solver=11; fi
    "$CXX" "${flags[@]}" -DGMEMU_TOOLKIT=$tk -Wl,-soname,libnvrtc.so.$tk -o "$out/libnvrtc.so.$tk" "$here/src/nvrtc.cpp" -ldl
    "$CXX" "${flags[@]}" -DGMEMU_TOOLKIT=$tk -Wl,-soname,libcublas.so.$tk -o "$out/libcublas.so.$tk" "$here/src/cublas.cpp" \
        -L"$out" -l:libcuda.so.1 -Wl,-rpath,'$ORIGIN'
    "$CXX" "${flags[@]}" -DGMEMU_TOOLKIT=$tk -Wl,-soname,libcusolver.so.$solver -o "$out/libcusolver.so.$solver" "$here/src/cusolver.cpp" \
        -L"$out" -l:libcuda.so.1 -Wl,-rpath,'$ORIGIN'
done
"$CXX" "${flags[@]}" -o "$out/libfake_nvtx_injection.so" "$here/src/nvtx_injection.cpp"
cp "$here/src/prelude.h" "$out/prelude.h"
"$CXX" -std=c++17 -O2 -g -Wall -I"$here/src" -pthread -o "$out/selftest" "$here/src/selftest.cpp" \
    -L"$out" -l:libcuda.so.1 -l:libnvrtc.so.13 -l:libcublas.so.13 -l:libcusolver.so.12 -Wl,-rpath,'$ORIGIN' -ldl
echo "emulator built in $out"
