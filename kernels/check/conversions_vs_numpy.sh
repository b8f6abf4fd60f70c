#!/usr/bin/env bash
# By-hand check of the integer float16 / TF32 conversions in kernels/feature_preparation.cu against numpy:
# compiles the three device functions as host C++ (g++), feeds them every kind of float32 bit pattern
# (random, the whole float16 subnormal and overflow neighbourhoods, ±0, ±inf, NaN) and compares with
# numpy's float32 → float16 cast (round to nearest even) and a float64 round-half-away TF32 reference.
# Needs g++ and python3 with numpy (Debian's python3-numpy); not part of CI (no Python there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  cat <<'CPP'
#include <cstdio>
#include <cstring>
#define __device__
#define __forceinline__ inline
static unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
static float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
CPP
  sed -n '/^static __device__ __forceinline__ float round_to_tf32/,/^\/\/ y\[row\]/p' "$here/../feature_preparation.cu" | sed '$d'
  cat <<'CPP'
int main()
{
    unsigned u;
    while (std::fread(&u, 4, 1, stdin) == 1)
    {
        float f = __uint_as_float(u);
        unsigned short h = float_to_half_bits(f);
        float back = half_bits_to_float(h), t = round_to_tf32(f);
        std::fwrite(&h, 2, 1, stdout);
        std::fwrite(&back, 4, 1, stdout);
        std::fwrite(&t, 4, 1, stdout);
    }
}
CPP
} >"$work/conv.cpp"
g++ -O2 -o "$work/conv" "$work/conv.cpp"
python3 - "$work/conv" <<'PY'
import subprocess, sys
import numpy as np
rng = np.random.default_rng(1)
bits = np.concatenate([
    rng.integers(0, 2**32, 2_000_000, dtype=np.uint64).astype(np.uint32),
    np.arange(0x33000000 - 5000, 0x38800000 + 5000, 7, dtype=np.uint32),   # float16 subnormals and 2^-14
    np.arange(0x477F0000, 0x47800100, dtype=np.uint32),                     # 65504 .. 65536
    np.array([0, 0x7F800000, 0x7FC00000, 0x33000000, 0x33000001, 0x477FE000, 0x477FF000, 0x477FEFFF], dtype=np.uint32)])
bits = np.concatenate([bits, bits | 0x80000000])
f = bits.view(np.float32)
out = subprocess.run([sys.argv[1]], input=bits.tobytes(), capture_output=True, check=True).stdout
got = np.frombuffer(out, dtype=np.dtype([("h", "<u2"), ("back", "<f4"), ("tf32", "<f4")]))
with np.errstate(all="ignore"):
    ref = f.astype(np.float16)
nan = np.isnan(f)
bad_half = int(np.sum(got["h"][~nan] != ref.view(np.uint16)[~nan])) + int(np.sum(~np.isnan(got["h"][nan].view(np.float16))))
bad_back = int(np.sum(got["back"][~nan] != ref.astype(np.float32)[~nan]))
finite = np.isfinite(f) & (np.abs(f) >= np.float32(1.1754944e-38))   # TF32 rounding of float32 normals
x = f[finite].astype(np.float64)
m, e = np.frexp(np.abs(x))
with np.errstate(all="ignore"):
    tf32 = (np.sign(x) * np.ldexp(np.floor(m * 2**11 + 0.5) / 2**11, e)).astype(np.float32)
bad_tf32 = int(np.sum(got["tf32"][finite] != tf32))
print(f"{len(f)} float32 values: float16 {bad_half} differ, float16→float32 {bad_back} differ, TF32 {bad_tf32} differ")
sys.exit(1 if bad_half or bad_back or bad_tf32 else 0)
PY
