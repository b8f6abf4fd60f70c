#!/usr/bin/python3
"""OpenBLAS SGEMM reference rate for perf/NOTES.md: C = A @ B.T in float32 (the distance GEMM's shape).

Usage: /usr/bin/python3 perf/openblas_sgemm.py [M N K] [repeats]
Thread count: OPENBLAS_NUM_THREADS=1 for the single-core figure (must be set before numpy loads).
"per CPU-second" divides by process CPU time instead of wall time: on a shared machine it estimates what
one core does when it is not time-sliced away (with one thread; with several it is a per-core average).
"""
import os
import sys
import time

import numpy as np

m, n, k = (int(v) for v in sys.argv[1:4]) if len(sys.argv) >= 4 else (4096, 4096, 2048)
repeats = int(sys.argv[4]) if len(sys.argv) >= 5 else 7

rng = np.random.default_rng(1)
a = rng.standard_normal((m, k), dtype=np.float32)
b = rng.standard_normal((n, k), dtype=np.float32)
c = np.empty((m, n), dtype=np.float32)

np.matmul(a, b.T, out=c)  # warm-up: thread pool start, page faults on c
times = []
cpu_times = []
for _ in range(repeats):
    t0, p0 = time.perf_counter(), time.process_time()
    np.matmul(a, b.T, out=c)
    times.append(time.perf_counter() - t0)
    cpu_times.append(time.process_time() - p0)
times.sort()
cpu_times.sort()
median = times[len(times) // 2]
flops = 2.0 * m * n * k
# Debian's numpy links libblas.so.3, an alternatives link; name the library it resolves to.
blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")

print(f"numpy {np.__version__} blas={blas} threads={os.environ.get('OPENBLAS_NUM_THREADS', 'default')} "
      f"M={m} N={n} K={k}: median {median * 1e3:.1f} ms = {flops / median / 1e9:.1f} GFLOP/s "
      f"(best {flops / times[0] / 1e9:.1f}, worst {flops / times[-1] / 1e9:.1f}) over {repeats}; "
      f"per CPU-second {flops / cpu_times[len(cpu_times) // 2] / 1e9:.1f} GFLOP/s")
