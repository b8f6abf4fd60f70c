"""FID fixtures computed the way pytorch-fid does (np.cov, scipy sqrtm with the eps retry, real part).

Writes, for two feature sets A and B (300 x 64 float32, correlated, means far from 0):
  features_a.bin, features_b.bin  raw little-endian float32, row-major 300 x 64
  cov_a.bin                       np.cov(A, rowvar=False) as little-endian float64, 64 x 64
  mean_a.bin                      np.mean(A, axis=0) as float64
  fid.txt                         "rows dim fid" with fid printed to 17 significant digits
Run with Debian's /usr/bin/python3 (numpy + scipy).
"""
import numpy as np
from scipy import linalg

ROWS, DIM = 300, 64
rng = np.random.default_rng(20261123)


def features(offset, scale):
    mixing = rng.normal(size=(DIM, DIM)) / np.sqrt(DIM)
    latent = rng.normal(size=(ROWS, DIM)) * np.linspace(0.2, 2.0, DIM)
    return (latent @ mixing * scale + offset).astype(np.float32)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    # pytorch-fid's calculate_frechet_distance logic.
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component {}".format(np.max(np.abs(covmean.imag))))
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


a = features(5.0, 1.0)
b = features(5.3, 1.2)
stats = []
for name, x in (("a", a), ("b", b)):
    x.astype("<f4").tofile(f"features_{name}.bin")
    x64 = x.astype(np.float64)
    stats.append((np.mean(x64, axis=0), np.cov(x64, rowvar=False)))
stats[0][1].astype("<f8").tofile("cov_a.bin")
stats[0][0].astype("<f8").tofile("mean_a.bin")
fid = frechet_distance(stats[0][0], stats[0][1], stats[1][0], stats[1][1])
# Cross-check with the symmetric eigen route in float64, so the fixture's own rounding is known.
w, v = np.linalg.eigh(stats[0][1])
root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
alt = stats[0][0] - stats[1][0]
alt = alt.dot(alt) + np.trace(stats[0][1]) + np.trace(stats[1][1]) - 2 * np.sqrt(np.clip(np.linalg.eigvalsh(root @ stats[1][1] @ root), 0, None)).sum()
with open("fid.txt", "w") as f:
    f.write(f"{ROWS} {DIM} {fid:.17g}\n")
print("fid", repr(fid), "eigen route", repr(alt), "rel diff", abs(fid - alt) / fid)
