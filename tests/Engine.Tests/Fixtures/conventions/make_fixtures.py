"""Fixtures for `--convention NAME`: each reference tool's formula, transcribed in numpy/scipy from the
tool's source (read, not copied; the sources are listed in docs/conventions.md), run on small committed
feature sets. The .NET tests (tests/Engine.Tests/Evaluation/ConventionFixtureTests.cs) compare the engine
under each convention with expected.txt: FID and KID to 1e-12 relative, k-NN metrics exactly.

Run with Debian's python3-numpy and python3-scipy:  /usr/bin/python3 make_fixtures.py

Data chosen so that the tools' float32 steps are exact and the comparison tests the formula, not rounding:
 * FID/KID features are small integers (float32 products and sums are exact), the set sizes are powers
   of two (a float32 mean of integers is then exact, as clean-fid and torch-fidelity keep mu in float32;
   dgm-eval's features are float64), and |mu_real - mu_fake| < 1 in every component (the float32 mean term diff.dot(diff) of
   those tools is then exact too).
 * KID without a seeded generator (clean-fid, StyleGAN2-ADA, torchmetrics, dgm-eval) is compared on two
   sets of 64 rows with subset size 64: every draw is then a permutation of the whole set, and the
   estimate does not depend on the draw.
 * k-NN sets are continuous float32 values; the script checks that the tools' float32 (and the NVIDIA
   tools' float16) distances give the same decisions as float64 here, so the float64 transcription is the
   tool's number.
"""
import os
import numpy as np
import scipy.linalg

HERE = os.path.dirname(os.path.abspath(__file__))
out = []


def emit(name, key, value):
    out.append(f"{name} {key} {float(value)!r}")


# ---------------------------------------------------------------- data
rs = np.random.RandomState(13)
D = 16
mix = np.eye(D) + 0.3 * rs.randn(D, D)
fid_real = np.clip(np.round(rs.randn(256, D) @ mix.T * 2.0), -9, 9).astype(np.float32)
fid_fake = np.clip(np.round(rs.randn(128, D) @ mix.T * 1.4 + 0.25), -9, 9).astype(np.float32)
assert np.all(np.abs(fid_real.mean(0, dtype=np.float64) - fid_fake.mean(0, dtype=np.float64)) < 1)
kid_real = np.clip(np.round(rs.randn(64, D) * 2.0), -8, 8).astype(np.float32)
kid_fake = np.clip(np.round(rs.randn(64, D) * 1.5 + 0.5), -8, 8).astype(np.float32)
seeded_real = np.clip(np.round(rs.randn(80, D) * 2.0), -8, 8).astype(np.float32)
seeded_fake = np.clip(np.round(rs.randn(64, D) * 1.5 + 0.5), -8, 8).astype(np.float32)
knn_real = rs.randn(150, 8).astype(np.float32)
knn_fake = (rs.randn(120, 8) * 1.1 + 0.3).astype(np.float32)
for name, a in [("fid_real", fid_real), ("fid_fake", fid_fake), ("kid_real", kid_real), ("kid_fake", kid_fake),
                ("seeded_real", seeded_real), ("seeded_fake", seeded_fake), ("knn_real", knn_real), ("knn_fake", knn_fake),
                ("knn_real_120", knn_real[:120])]:
    np.save(os.path.join(HERE, name + ".npy"), a)


# ---------------------------------------------------------------- FID transcriptions
def sqrtm_trace_checked(s1, s2, eps=1e-6, imag_check=True):
    """pytorch-fid / TTUR / dgm-eval: sqrtm of the product, eps retry, imaginary check, real part."""
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        off = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + off).dot(s2 + off))
    if np.iscomplexobj(covmean):
        if imag_check and not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("imaginary component")
        covmean = covmean.real
    return np.trace(covmean)


def fid_pytorch_fid(r, f):
    # activations land in a float64 array; np.mean and np.cov (N - 1) in float64
    r, f = r.astype(np.float64), f.astype(np.float64)
    mu1, mu2 = np.mean(f, axis=0), np.mean(r, axis=0)
    s1, s2 = np.cov(f, rowvar=False), np.cov(r, rowvar=False)
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * sqrtm_trace_checked(s1, s2)


def fid_clean_fid(r, f):
    # mu: np.mean of float32 features (float32); sigma: np.cov (float64); no imaginary check
    mu1, mu2 = np.mean(f, axis=0), np.mean(r, axis=0)
    assert mu1.dtype == np.float32
    s1, s2 = np.cov(f, rowvar=False), np.cov(r, rowvar=False)
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * sqrtm_trace_checked(s1, s2, imag_check=False)


def fid_torch_fidelity(r, f):
    # mu float32, sigma np.cov float64; Tr sqrt = sum of Re sqrt of the complex eigenvalues of s1 s2
    mu1, mu2 = np.mean(f, axis=0), np.mean(r, axis=0)
    s1, s2 = np.cov(f, rowvar=False), np.cov(r, rowvar=False)
    diff = mu1 - mu2
    tr = np.sum(np.sqrt(np.linalg.eigvals(s1.dot(s2)).astype("complex128")).real)
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * tr)


def fid_torchmetrics(r, f):
    # float64 running sums: cov = (sum x x^T - n mu mu^T) / (n - 1); sqrtm of the product; the result is cast
    # back to the features' dtype (float32) at the very end: we return both
    def stats(x):
        x = x.astype(np.float64)
        n = x.shape[0]
        s, ss = x.sum(axis=0), x.T @ x
        mu = s / n
        return mu, (ss - n * np.outer(mu, mu)) / (n - 1)
    mu1, s1 = stats(r)
    mu2, s2 = stats(f)
    covmean, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
    value = (mu1 - mu2).dot(mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real)
    return value, np.float32(value)


def fid_stylegan2_ada(r, f):
    # FeatureStats: raw_mean = sum x / n, raw_cov = sum x x^T / n (float64); cov = raw_cov - mu mu^T
    def stats(x):
        x = x.astype(np.float64)
        n = x.shape[0]
        mu = x.sum(axis=0) / n
        return mu, (x.T @ x) / n - np.outer(mu, mu)
    mu_r, s_r = stats(r)
    mu_g, s_g = stats(f)
    m = np.square(mu_g - mu_r).sum()
    s, _ = scipy.linalg.sqrtm(np.dot(s_g, s_r), disp=False)
    return float(np.real(m + np.trace(s_g + s_r - s * 2)))


def fid_dgm_eval(r, f):
    # get_representations stores the reps in np.empty (float64); compute_statistics: np.mean and np.cov;
    # compute_FD_with_stats as pytorch-fid
    r, f = r.astype(np.float64), f.astype(np.float64)
    mu1, mu2 = np.mean(r, axis=0), np.mean(f, axis=0)
    s1, s2 = np.cov(r, rowvar=False), np.cov(f, rowvar=False)
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * sqrtm_trace_checked(s1, s2)


def trace_sqrt_eigh(s1, s2):
    """The engine's route: eigenvalues of the symmetric PSD form s1^1/2 s2 s1^1/2 (to check the fixture is sound)."""
    w, v = np.linalg.eigh(s1)
    h = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    lam = np.linalg.eigvalsh(h @ s2 @ h)
    return np.sqrt(np.clip(lam, 0, None)).sum()


s1, s2 = np.cov(fid_fake.astype(np.float64), rowvar=False), np.cov(fid_real.astype(np.float64), rowvar=False)
t_sqrtm, t_eigh = sqrtm_trace_checked(s1, s2), trace_sqrt_eigh(s1, s2)
print(f"sqrtm vs eigh trace: relative difference {abs(t_sqrtm - t_eigh) / t_eigh:.2e}")

fids = {
    "pytorch-fid": fid_pytorch_fid(fid_real, fid_fake),
    "clean-fid": fid_clean_fid(fid_real, fid_fake),
    "clean-fid:legacy_tensorflow": fid_clean_fid(fid_real, fid_fake),
    "clean-fid:legacy_pytorch": fid_clean_fid(fid_real, fid_fake),
    "torch-fidelity": fid_torch_fidelity(fid_real, fid_fake),
    "stylegan2-ada": fid_stylegan2_ada(fid_real, fid_fake),
    "dgm-eval": fid_dgm_eval(fid_real, fid_fake),
}
tm64, tm32 = fid_torchmetrics(fid_real, fid_fake)
fids["torchmetrics"] = tm64
for name, v in fids.items():
    emit(name, "fid", v)
emit("torchmetrics", "fid_float32", tm32)
print("fid:", {k: round(float(v), 6) for k, v in fids.items()})


# ---------------------------------------------------------------- KID transcriptions
def poly_kernel(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(kxx, kxy, kyy):
    # torch-fidelity / torchmetrics / dgm-eval (Sutherland's form)
    m = kxx.shape[0]
    kt_xx = kxx.sum() - np.diagonal(kxx).sum()
    kt_yy = kyy.sum() - np.diagonal(kyy).sum()
    return (kt_xx + kt_yy) / (m * (m - 1)) - 2 * kxy.sum() / (m * m)


def kid_stylegan2_ada(x, y):
    # one subset: a = k(x,x) + k(y,y), b = k(x,y); t = (sum a - diag a)/(m-1) - 2 sum b/m; kid = t/m
    m = x.shape[0]
    a = poly_kernel(x, x) + poly_kernel(y, y)
    b = poly_kernel(x, y)
    return ((a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m) / m


def kid_subsets(first, second, subsets, m, rng, formula):
    """Each round draws from `first` then `second` (rng.choice without replacement); returns the values."""
    values = []
    for _ in range(subsets):
        a = first[rng.choice(len(first), m, replace=False)]
        b = second[rng.choice(len(second), m, replace=False)]
        values.append(formula(a, b))
    return np.array(values)


def tf_formula(f1, f2):
    return mmd2_unbiased(poly_kernel(f1, f1), poly_kernel(f1, f2), poly_kernel(f2, f2))


# Draw-independent: both sets of 64 rows, subset size 64 (the tools' 1000 shrinks to it, or is given).
full = {}
full["torch-fidelity"] = kid_subsets(kid_fake, kid_real, 100, 64, np.random.RandomState(2020), tf_formula)  # input1 = generated
full["clean-fid"] = kid_subsets(kid_fake, kid_real, 100, 64, np.random.RandomState(0), tf_formula)  # x from gen first
full["stylegan2-ada"] = kid_subsets(kid_fake, kid_real, 100, 64, np.random.RandomState(1),
                                    lambda x, y: kid_stylegan2_ada(x, y))  # gen first
full["torchmetrics"] = kid_subsets(kid_real, kid_fake, 100, 64, np.random.RandomState(2),
                                   lambda r, f: mmd2_unbiased(poly_kernel(r, r), poly_kernel(r, f), poly_kernel(f, f)))  # real first
full["dgm-eval"] = kid_subsets(kid_real, kid_fake, 100, 64, np.random.RandomState(3),
                               lambda r, g: mmd2_unbiased(poly_kernel(r, r), poly_kernel(r, g), poly_kernel(g, g)))
for name, values in full.items():
    emit(name, "kid_mean", values.mean())
    emit(name, "kid_std", values.std())  # population std (np.std, torch std(unbiased=False))
print("kid (full sets):", {k: float(v.mean()) for k, v in full.items()})

# Seeded: torch-fidelity's own draws, RandomState(2020), 5 subsets of 40 rows, generated (input1) first.
seeded = kid_subsets(seeded_fake, seeded_real, 5, 40, np.random.RandomState(2020), tf_formula)
emit("torch-fidelity", "seeded_kid_mean", seeded.mean())
emit("torch-fidelity", "seeded_kid_std", seeded.std())
# The same draws with the real rows first: the order torchmetrics and dgm-eval use (their generators are
# unseeded; RandomState(seed) stands in for them, so this pins our draw order, not their subsets).
seeded_rf = kid_subsets(seeded_real, seeded_fake, 5, 40, np.random.RandomState(2020),
                        lambda r, f: mmd2_unbiased(poly_kernel(r, r), poly_kernel(r, f), poly_kernel(f, f)))
emit("torchmetrics", "seeded_kid_mean", seeded_rf.mean())
emit("torchmetrics", "seeded_kid_std", seeded_rf.std())


# ---------------------------------------------------------------- k-NN transcriptions
def sq_dists(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def nvidia_pr(real, fake, k, squared, dtype=np.float64):
    """kynkaat (squared Gram form, partition index k, <=) and StyleGAN2-ADA / torch-fidelity (cdist,
    kthvalue(k+1), <=): precision = fakes in some real ball; recall = reals in some fake ball."""
    def dist(a, b):
        if dtype == np.float64:
            d2 = sq_dists(a, b)
        else:  # the tool's own arithmetic: Gram form in dtype, clamped at 0
            a, b = a.astype(dtype), b.astype(dtype)
            d2 = np.maximum((a * a).sum(1, dtype=dtype)[:, None] - 2 * (a @ b.T) + (b * b).sum(1, dtype=dtype)[None, :], 0)
        return d2 if squared else np.sqrt(d2)
    rr, ff, fr = dist(real, real), dist(fake, fake), dist(fake, real)
    r_rad = np.partition(rr, k, axis=1)[:, k]  # = kthvalue(k+1): index k of the ascending row, self included
    f_rad = np.partition(ff, k, axis=1)[:, k]
    precision = (fr <= r_rad[None, :]).any(axis=1)
    recall = (fr.T <= f_rad[None, :]).any(axis=1)
    return precision, recall


def prdc(real, fake, k):
    """clovaai/prdc compute_prdc: sklearn euclidean distances (non-squared), radius = max of the k+1 smallest."""
    def pairwise(a, b):
        return np.sqrt(sq_dists(a, b))
    def kth(d, kk):
        idx = np.argpartition(d, kk, axis=-1)[..., :kk]
        return np.take_along_axis(d, idx, axis=-1).max(axis=-1)
    r_rad = kth(pairwise(real, real), k + 1)
    f_rad = kth(pairwise(fake, fake), k + 1)
    d = pairwise(real, fake)
    inside = d < r_rad[:, None]
    return dict(precision=inside.any(axis=0).mean(), recall=(d < f_rad[None, :]).any(axis=1).mean(),
                density=(1.0 / float(k)) * inside.sum(axis=0).mean(), coverage=(d.min(axis=1) < r_rad).mean(),
                density_count=inside.sum())


def manifmetric(real, fake, k):
    """manifmetric: k+1 smallest squared distances (direct sum of squares), sorted, column k; strict <."""
    def radii(x):
        d = sq_dists(x, x)
        return np.sort(d, axis=1)[:, : k + 1][:, k]
    r_rad, g_rad = radii(real), radii(fake)
    d = sq_dists(fake, real)  # gen x ref
    precision = (d < r_rad[None, :]).any(axis=1).mean()
    recall = (d.T < g_rad[None, :]).any(axis=1).mean()
    coverage = (d.T < r_rad[:, None]).any(axis=1).mean()
    comp_precision = (d < g_rad[:, None]).any(axis=1).mean()
    density = (d < r_rad[None, :]).sum() / (fake.shape[0] * k)
    return dict(precision=precision, recall=recall, coverage=coverage, comp_precision=comp_precision,
                density=density, sym_precision=min(precision, comp_precision), sym_recall=min(recall, coverage))


def dgm_eval_prdc(real, fake, k):
    """dgm-eval: both sets subsampled to min(reduced_n = 10000, N_real, N_fake) rows with np.random (unseeded),
    then prdc's compute_prdc. The sets given here have equal sizes, so the draws are permutations."""
    rng = np.random.RandomState(4)
    n = min(10000, real.shape[0], fake.shape[0])
    r = real[rng.choice(real.shape[0], n, replace=False)]
    f = fake[rng.choice(np.arange(fake.shape[0]), min(fake.shape[0], n), replace=False)]
    return prdc(r, f, k)


for k in (3, 5):
    p64, r64 = nvidia_pr(knn_real, knn_fake, k, squared=True)
    p32, r32 = nvidia_pr(knn_real, knn_fake, k, squared=True, dtype=np.float32)
    assert (p64 == p32).all() and (r64 == r32).all(), "float32 flips a decision: choose other data"
    emit("kynkaat", f"precision_k{k}", p64.mean())
    emit("kynkaat", f"recall_k{k}", r64.mean())
    p, r = nvidia_pr(knn_real, knn_fake, k, squared=False)
    assert (p == p64).all() and (r == r64).all()
    p16, r16 = nvidia_pr(knn_real, knn_fake, k, squared=False, dtype=np.float16)
    print(f"k={k}: StyleGAN2-ADA fp16 distances change {int((p16 != p).sum() + (r16 != r).sum())} of {p.size + r.size} decisions here")
    for name in ("torch-fidelity", "stylegan2-ada"):
        emit(name, f"precision_k{k}", p.mean())
        emit(name, f"recall_k{k}", r.mean())
    for name, res in (("prdc", prdc(knn_real, knn_fake, k)), ("dgm-eval", dgm_eval_prdc(knn_real[:120], knn_fake, k))):
        emit(name, f"prdc_precision_k{k}", res["precision"])
        emit(name, f"prdc_recall_k{k}", res["recall"])
        emit(name, f"density_k{k}", res["density"])
        emit(name, f"density_count_k{k}", res["density_count"])
        emit(name, f"coverage_k{k}", res["coverage"])
    m = manifmetric(knn_real, knn_fake, k)
    for key in ("precision", "recall"):
        emit("manifmetric", f"prdc_{key}_k{k}", m[key])
    for key in ("density", "coverage", "comp_precision", "sym_precision", "sym_recall"):
        emit("manifmetric", f"{key}_k{k}", m[key])

with open(os.path.join(HERE, "expected.txt"), "w") as fh:
    fh.write("# convention key value -- written by make_fixtures.py; do not edit\n")
    fh.write("\n".join(out) + "\n")
print(f"wrote {len(out)} values")
