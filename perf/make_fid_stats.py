#!/usr/bin/env python3
"""Two D-dimensional FID statistics files (mu, sigma as float64, np.savez) for timing the CLI end to end.

    /usr/bin/python3 perf/make_fid_stats.py OUT_DIR [--dims 2048] [--samples 4096]

Writes OUT_DIR/a_stats.npz and OUT_DIR/b_stats.npz: the mean and np.cov (divisor N-1) of N x D standard
normal samples (seeds 1 and 2), as pytorch-fid writes them. With --reference it also prints the FID by
pytorch-fid's formula in float64 (scipy.linalg.sqrtm) and the time scipy takes for it, loading included.
"""
import argparse
import os
import time

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out_dir")
    p.add_argument("--dims", type=int, default=2048)
    p.add_argument("--samples", type=int, default=4096)
    p.add_argument("--reference", action="store_true")
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    paths = []
    for name, seed in (("a", 1), ("b", 2)):
        x = np.random.RandomState(seed).randn(a.samples, a.dims)
        path = os.path.join(a.out_dir, f"{name}_stats.npz")
        np.savez(path, mu=x.mean(axis=0), sigma=np.cov(x, rowvar=False))
        paths.append(path)
    if a.reference:
        from scipy import linalg
        t0 = time.perf_counter()
        s = [np.load(q) for q in paths]
        mu1, s1, mu2, s2 = s[0]["mu"], s[0]["sigma"], s[1]["mu"], s[1]["sigma"]
        covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
        covmean = covmean.real
        fid = ((mu1 - mu2) @ (mu1 - mu2)) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
        print(f"fid {fid!r}  (scipy sqrtm, {time.perf_counter() - t0:.2f} s with loading)")


if __name__ == "__main__":
    main()
