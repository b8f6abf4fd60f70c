#!/usr/bin/python3
"""Reference draws of numpy's legacy RandomState, for NumpyRandomStateTests.

Run with Debian's /usr/bin/python3 (numpy installed); writes numpy_random.txt next to this script.
Each line: kind seed args : values (space separated; doubles with repr precision).
"""
import os
import numpy as np

lines = [f"# numpy {np.__version__}"]
for seed, n, m in [(2020, 10, 10), (2020, 1000, 100), (0, 7, 3), (1, 1, 1), (12345, 1500, 1000), (4294967295, 33, 33), (2021, 65537, 20)]:
    v = np.random.RandomState(seed).choice(n, m, replace=False)
    lines.append(f"choice {seed} {n} {m} : " + " ".join(str(int(x)) for x in v))
# Two subsets per generator, as KID draws them: the state carries over.
rs = np.random.RandomState(2020)
a = rs.choice(50, 20, replace=False)
b = rs.choice(30, 20, replace=False)
lines.append("choice2 2020 50 20 30 20 : " + " ".join(str(int(x)) for x in list(a) + list(b)))
for seed, n in [(2020, 17), (7, 300)]:
    v = np.random.RandomState(seed).permutation(n)
    lines.append(f"permutation {seed} {n} : " + " ".join(str(int(x)) for x in v))
for seed, n in [(2020, 9), (0, 5)]:
    v = np.random.RandomState(seed).randn(n)
    lines.append(f"randn {seed} {n} : " + " ".join(repr(float(x)) for x in v))
for seed, n in [(2020, 6), (3, 4)]:
    v = np.random.RandomState(seed).random_sample(n)
    lines.append(f"random_sample {seed} {n} : " + " ".join(repr(float(x)) for x in v))

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy_random.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
