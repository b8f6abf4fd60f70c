#!/usr/bin/env bash
# CI entry point for the C API: publishes libgenmetrics.so with NativeAOT, builds the genmetrics CLI,
# configures and builds examples/c with CMake, and runs its CTest test (C example vs the CLI's JSON).
# Needs the .NET SDK, cmake and a C compiler (installed with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
# NativeAOT links with clang, or gcc when clang is absent; zlib's headers are the documented prerequisite.
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(clang)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
fi

build=${GENMETRICS_CMAKE_BUILD:-out/c-api}  # /out/ is git-ignored
libdir=src/Engine/bin/Release/net10.0/linux-x64/publish

echo "== NativeAOT publish of libgenmetrics.so"
start=$SECONDS
dotnet publish src/Engine -c Release -r linux-x64 -p:PublishAot=true -p:NativeLib=Shared
echo "publish took $((SECONDS - start)) s"
ls -l "$libdir/libgenmetrics.so"

echo "== genmetrics CLI (the comparison's reference)"
dotnet build src/Cli -c Release
cli=src/Cli/bin/Release/net10.0/genmetrics

echo "== CMake build of examples/c"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DGENMETRICS_LIBRARY_DIR="$PWD/$libdir" -DGENMETRICS_CLI="$PWD/$cli"
cmake --build "$build" --target genmetrics_example

echo "== CTest"
ctest --test-dir "$build" --output-on-failure --no-tests=error
