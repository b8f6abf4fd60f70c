#!/usr/bin/env python3
"""Feature files for the by-hand check of FeatureMatrix beyond 2^31 values (perf/NOTES.md, "Sizes").

Standard library only. Writes, in the current folder:
  real.npy  [1024, 4096] float32, uniform [0, 1)
  g.npy     [1024, 4096] float32, uniform [0, 1) + 0.05
  huge.npy  g repeated 513 times: [525312, 4096] = 2 151 677 952 values (> 2^31 - 1), 8.6 GB
Then: genmetrics realism real.npy g.npy -o small.npy; genmetrics realism real.npy huge.npy -o huge_scores.npy;
every huge score i must equal small[i % 1024].
"""
import array
import random

D = 4096


def header(rows):
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, D)
    text = text + ' ' * (64 - (10 + len(text) + 1) % 64) + '\n'
    return b'\x93NUMPY\x01\x00' + len(text).to_bytes(2, 'little') + text.encode()


def block(seed, rows, offset):
    r = random.Random(seed)
    return array.array('f', (r.random() + offset for _ in range(rows * D))).tobytes()


real = block(1, 1024, 0.0)
g = block(2, 1024, 0.05)
with open('real.npy', 'wb') as f:
    f.write(header(1024) + real)
with open('g.npy', 'wb') as f:
    f.write(header(1024) + g)
with open('huge.npy', 'wb') as f:
    f.write(header(1024 * 513))
    for _ in range(513):
        f.write(g)
