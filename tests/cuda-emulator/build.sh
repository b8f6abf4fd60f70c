#!/bin/bash
# Builds the GenMetrics CUDA emulator (fake libcuda.so.1, libnvrtc.so.13, libcublas.so.13) into OUTDIR.
# Usage: build.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
CXX=${CXX:-g++}
flags=(-std=c++17 -O2 -g -fPIC -shared -Wall -Wextra -Wno-unused-parameter -I"$here/src" -pthread)
"$CXX" "${flags[@]}" -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1" "$here/src/cuda.cpp" -ldl
"$CXX" "${flags[@]}" -Wl,-soname,libnvrtc.so.13 -o "$out/libnvrtc.so.13" "$here/src/nvrtc.cpp" -ldl
"$CXX" "${flags[@]}" -Wl,-soname,libcublas.so.13 -o "$out/libcublas.so.13" "$here/src/cublas.cpp" \
    -L"$out" -l:libcuda.so.1 -Wl,-rpath,'$ORIGIN'
cp "$here/src/prelude.h" "$out/prelude.h"
"$CXX" -std=c++17 -O2 -g -Wall -I"$here/src" -pthread -o "$out/selftest" "$here/src/selftest.cpp" \
    -L"$out" -l:libcuda.so.1 -l:libnvrtc.so.13 -l:libcublas.so.13 -Wl,-rpath,'$ORIGIN' -ldl
echo "emulator built in $out"
