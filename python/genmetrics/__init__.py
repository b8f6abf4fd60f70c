"""GenMetrics from Python: FID, KID, Inception Score, precision/recall, density/coverage, symmetric P/R and
realism scores with the reference tools' numbers, computed by the GenMetrics engine (the same code as the
`genmetrics` CLI) through its C library, which ships inside this package: no .NET runtime, no GPU needed.

Inputs are feature arrays: anything numpy.asarray accepts (numpy arrays, objects with __array__), 2-D
[N, D], float32 or float64, C or Fortran order. float64 values are used exactly for FID's mean and
covariance and converted to float32 for the k-NN metrics and KID, as the reference tools do.

Every function takes backend= "auto" (CUDA when a usable GPU is found, else the CPU; the CLI's default),
"cpu" or "cuda". Errors raise a subclass of GenMetricsError (InputError and ArgumentError are also
ValueErrors) whose message is the library's one line, e.g. "real: 4 samples, k = 5 needs at least 6".

    >>> import numpy as np, genmetrics
    >>> real = np.random.RandomState(0).randn(5000, 256).astype(np.float32)
    >>> genmetrics.fid(real, 0.9 * real + 0.05)
"""
from dataclasses import dataclass, asdict
import ctypes

import numpy as np

from . import _native
from ._errors import GenMetricsError, InputError, ArgumentError, BackendError, InternalError

__all__ = [
    "fid", "fid_from_stats", "stats", "kid", "precision_recall", "prdc", "symmetric_precision_recall",
    "realism", "inception_score", "features", "instruction_set", "library_version",
    "Statistics", "Kid", "PrecisionRecall", "Prdc", "SymmetricPrecisionRecall", "InceptionScore",
    "GenMetricsError", "InputError", "ArgumentError", "BackendError", "InternalError",
]

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "0+unknown"


# ----------------------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Statistics:
    """Gaussian statistics of a feature set, as pytorch-fid and `genmetrics stats` store them.

    mu: float64 [D]; sigma: float64 [D, D] (covariance); n: number of samples (0 when unknown)."""
    mu: np.ndarray
    sigma: np.ndarray
    n: int = 0


@dataclass(frozen=True)
class Kid:
    """Kernel Inception Distance: mean and population standard deviation over the subsets (not x1000)."""
    mean: float
    std: float

    def as_dict(self):
        """The CLI's JSON keys: kid_mean, kid_std."""
        return {"kid_mean": self.mean, "kid_std": self.std}


@dataclass(frozen=True)
class PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019), fractions in [0, 1]."""
    precision: float
    recall: float

    def as_dict(self):
        return asdict(self)


@dataclass(frozen=True)
class Prdc:
    """prdc's four numbers at one k (Naeem et al. 2020, clovaai/prdc): precision and recall in [0, 1],
    density >= 0 (may exceed 1), coverage in [0, 1]."""
    precision: float
    recall: float
    density: float
    coverage: float

    def as_dict(self):
        return asdict(self)


@dataclass(frozen=True)
class SymmetricPrecisionRecall:
    """Symmetric and complement precision/recall (Khayatkhoei & AbdAlmageed 2023), fractions in [0, 1]."""
    sym_precision: float
    sym_recall: float
    comp_precision: float

    def as_dict(self):
        return asdict(self)


@dataclass(frozen=True)
class InceptionScore:
    """Inception Score: mean and population standard deviation of the per-split scores."""
    mean: float
    std: float

    def as_dict(self):
        """The CLI's JSON keys: is_mean, is_std."""
        return {"is_mean": self.mean, "is_std": self.std}


# ----------------------------------------------------------------------------------------------- helpers

class _View:
    """A genmetrics_features over a C-contiguous float32/float64 copy (or the array itself) kept alive."""

    def __init__(self, values, name):
        array = np.asarray(values)
        if array.dtype not in (np.float32, np.float64):
            raise InputError(f"{name}: dtype {array.dtype} is not float32 or float64 (convert with .astype(np.float32))")
        if array.ndim != 2:
            raise InputError(f"{name}: expected a 2-D array [N, D], got shape {tuple(array.shape)}")
        self.array = np.ascontiguousarray(array)
        self.struct = _native.Features(self.array.ctypes.data, self.array.shape[0], self.array.shape[1],
                                       _native.FLOAT32 if self.array.dtype == np.float32 else _native.FLOAT64)

    @property
    def ref(self):
        return ctypes.byref(self.struct)


def _float64(values, name, shape):
    array = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    if array.shape != shape:
        raise InputError(f"{name}: expected shape {shape}, got {tuple(array.shape)}")
    return array


def _ptr(array, ctype=ctypes.c_double):
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _context(backend):
    if not isinstance(backend, str):
        raise ArgumentError(f"backend must be a string ('auto', 'cpu', 'cuda' or 'cuda:tf32'), got {backend!r}")
    return _native.context(backend)


def _k(k):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ArgumentError(f"k must be an integer, got {k!r}")
    return int(k)


# ----------------------------------------------------------------------------------------------- metrics

def fid(real, fake, *, backend="auto"):
    """Fréchet Inception Distance between two feature sets.

    real, fake: [N_real, D] and [N_fake, D] features (N >= 2 each), float32 or float64.
    Returns a float (squared feature units). Reference: pytorch-fid / TTUR (np.cov with divisor N - 1,
    Tr sqrt(Σ_real Σ_fake) in float64). Same as `genmetrics metrics REAL FAKE --metrics fid`.
    Raises InputError (N < 2, dimensions differ, NaN/Inf), ArgumentError, BackendError.
    """
    a, b = _View(real, "real"), _View(fake, "fake")
    out = ctypes.c_double()
    _native.check(_native.lib().genmetrics_fid(_context(backend), a.ref, b.ref, ctypes.byref(out)))
    return out.value


def _as_statistics(value, name):
    if isinstance(value, Statistics):
        return value.mu, value.sigma
    try:
        return value["mu"], value["sigma"]
    except (KeyError, TypeError, IndexError):
        pass
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    raise InputError(f"{name}: expected Statistics, a mapping with 'mu' and 'sigma' (e.g. np.load of a pytorch-fid .npz) or a (mu, sigma) pair")


def fid_from_stats(real, fake, *, backend="auto"):
    """FID from two precomputed Gaussians.

    real, fake: each a Statistics (from stats()), a mapping with "mu" [D] and "sigma" [D, D] (np.load of a
    pytorch-fid / TTUR / `genmetrics stats` .npz) or a (mu, sigma) pair; sigma symmetric PSD. Values are
    used as float64. Returns a float. Reference: pytorch-fid's calculate_frechet_distance.
    Raises InputError (shapes disagree, NaN/Inf).
    """
    mu_r, sigma_r = _as_statistics(real, "real")
    mu_f, sigma_f = _as_statistics(fake, "fake")
    mu_r = np.ascontiguousarray(np.asarray(mu_r, dtype=np.float64))
    if mu_r.ndim != 1:
        raise InputError(f"real: mu must be 1-D [D], got shape {tuple(mu_r.shape)}")
    d = mu_r.shape[0]
    sigma_r = _float64(sigma_r, "real: sigma", (d, d))
    mu_f = _float64(mu_f, "fake: mu", (d,))
    sigma_f = _float64(sigma_f, "fake: sigma", (d, d))
    out = ctypes.c_double()
    _native.check(_native.lib().genmetrics_fid_from_statistics(
        _context(backend), _ptr(mu_r), _ptr(sigma_r), _ptr(mu_f), _ptr(sigma_f), d, ctypes.byref(out)))
    return out.value


def stats(features, *, cov_divisor="n-1", backend="auto"):
    """Mean and covariance of a feature set, as `genmetrics stats` and pytorch-fid compute them.

    features: [N, D] (N >= 2). cov_divisor: "n-1" (default; np.cov, pytorch-fid, TTUR) or "n"
    (StyleGAN2-ADA). Returns Statistics(mu float64 [D], sigma float64 [D, D], n).
    Raises InputError (N < 2, NaN/Inf), ArgumentError (bad cov_divisor).
    """
    divisors = {"n-1": 0, "n": 1}
    if cov_divisor not in divisors:
        raise ArgumentError(f"cov_divisor must be 'n-1' or 'n', got {cov_divisor!r}")
    view = _View(features, "features")
    d = view.array.shape[1]
    mu = np.empty(d, dtype=np.float64)
    sigma = np.empty((d, d), dtype=np.float64)
    _native.check(_native.lib().genmetrics_statistics(_context(backend), view.ref, divisors[cov_divisor],
                                                      _ptr(mu), _ptr(sigma), d))
    return Statistics(mu, sigma, int(view.array.shape[0]))


def kid(real, fake, *, subsets=100, subset_size=1000, seed=2020, backend="auto"):
    """Kernel Inception Distance (cubic polynomial kernel, unbiased MMD²).

    real, fake: [N, D] (N >= 2). subsets random subsets of subset_size rows of each set, drawn with numpy's
    RandomState(seed) as torch-fidelity does (defaults 100, 1000, 2020 = torch-fidelity's); the subset
    shrinks to the smaller set when a set is smaller. Returns Kid(mean, std) (not multiplied by 1000).
    Reference: torch-fidelity. Raises InputError (subsets < 1, subset_size < 2, seed < 0, N < 2, ...).
    """
    a, b = _View(real, "real"), _View(fake, "fake")
    mean, std = ctypes.c_double(), ctypes.c_double()
    _native.check(_native.lib().genmetrics_kid(_context(backend), a.ref, b.ref, int(subsets), int(subset_size), int(seed),
                                               ctypes.byref(mean), ctypes.byref(std)))
    return Kid(mean.value, std.value)


def _prdc(real, fake, k, backend):
    a, b = _View(real, "real"), _View(fake, "fake")
    out = _native.PrdcResult()
    _native.check(_native.lib().genmetrics_prdc(_context(backend), a.ref, b.ref, _k(k), ctypes.byref(out)))
    return out


def precision_recall(real, fake, *, k=3, backend="auto"):
    """Improved precision and recall (Kynkäänniemi et al. 2019; NVIDIA's StyleGAN2 / torch-fidelity code).

    real, fake: [N, D] with N > k. k: neighbourhood size (default 3, the reference's). A fake sample counts
    for precision when its distance to some real sample is <= that real sample's k-NN radius (and
    symmetrically for recall). Returns PrecisionRecall(precision, recall), fractions in [0, 1].
    Raises InputError (k >= N, dimensions differ, NaN/Inf), ArgumentError (k < 1).
    """
    r = _prdc(real, fake, k, backend)
    return PrecisionRecall(r.precision, r.recall)


def prdc(real, fake, *, k=5, backend="auto"):
    """Precision, recall, density and coverage of clovaai/prdc (Naeem et al. 2020) at one k.

    real, fake: [N, D] with N > k. k: nearest_k (default 5, prdc's). density counts, for each fake, the real
    k-NN balls (strict <) holding it, divided by k N_fake; coverage is the fraction of real samples whose
    ball (strict <) holds a fake. Returns Prdc(precision, recall, density, coverage).
    precision/recall are prdc's own (strict <), not NVIDIA's (<=; see precision_recall).
    Raises InputError (k >= N, dimensions differ, NaN/Inf), ArgumentError (k < 1).
    """
    r = _prdc(real, fake, k, backend)
    return Prdc(r.prdc_precision, r.prdc_recall, r.density, r.coverage)


def symmetric_precision_recall(real, fake, *, k=5, backend="auto"):
    """Symmetric and complement precision/recall (Khayatkhoei & AbdAlmageed 2023, "emergent asymmetry",
    their manifmetric code; strict <, default k = 5).

    real, fake: [N, D] with N > k. Returns SymmetricPrecisionRecall(sym_precision, sym_recall,
    comp_precision). Raises InputError (k >= N, dimensions differ, NaN/Inf), ArgumentError (k < 1).
    """
    a, b = _View(real, "real"), _View(fake, "fake")
    out = _native.SymmetricResult()
    _native.check(_native.lib().genmetrics_symmetric_precision_recall(_context(backend), a.ref, b.ref, _k(k), ctypes.byref(out)))
    return SymmetricPrecisionRecall(out.sym_precision, out.sym_recall, out.comp_precision)


def realism(real, fake, *, k=3, backend="auto"):
    """Realism score of every fake sample (Kynkäänniemi et al. 2019, kynkaat variant: real k-NN radii above
    their median are ignored; default k = 3). Scores > 1 lie inside the real manifold.

    real: [N_real, D] with N_real > k; fake: [N_fake, D]. Returns float32 [N_fake] in fake-row order,
    as `genmetrics realism` writes them. Raises InputError, ArgumentError (k < 1).
    """
    a, b = _View(real, "real"), _View(fake, "fake")
    scores = np.empty(b.array.shape[0], dtype=np.float32)
    _native.check(_native.lib().genmetrics_realism(_context(backend), a.ref, b.ref, _k(k), _ptr(scores, ctypes.c_float), scores.shape[0]))
    return scores


def inception_score(logits, *, splits=10, shuffle=False, seed=2020, backend="auto"):
    """Inception Score from [N, C] logits (the FID Inception's unbiased logits) or class probabilities
    (rows in [0, 1] summing to 1; recognised automatically).

    splits: consecutive splits (default 10); shuffle=True first permutes the rows with numpy's
    RandomState(seed) as torch-fidelity does (seed 2020 its default); without it the splits follow the
    given order, as StyleGAN2-ADA. Returns InceptionScore(mean, std). Same as `genmetrics is`.
    Raises InputError (splits < 1 or > N, NaN/Inf, seed < 0).
    """
    view = _View(logits, "logits")
    mean, std = ctypes.c_double(), ctypes.c_double()
    _native.check(_native.lib().genmetrics_inception_score(_context(backend), view.ref, int(splits), 1 if shuffle else 0, int(seed),
                                                           ctypes.byref(mean), ctypes.byref(std)))
    return InceptionScore(mean.value, std.value)


def features(folder, network="inception", layer=None, mode="clean", *, backend="auto"):
    """Features of every image in a folder (searched recursively) or .zip, in sorted path order.

    network: "inception" (the FID Inception; layer "pool3" by default, 2048-d), "vgg16" (layer "fc2_relu",
    4096-d, the P&R papers' features) — both installed with `genmetrics models install` — or the path of an
    .onnx network taking [N, 3, H, W] (layer: its output tensor, required). mode: how images are decoded
    and resized, as the reference tool does: "clean" (clean-fid, default), "legacy-pytorch" (pytorch-fid),
    "legacy-tensorflow" (TTUR, StyleGAN, torch-fidelity) or "none". Every image must decode: a corrupt one
    is an InputError naming it (as the CLI's --strict). Results are cached as the CLI caches them.
    Returns float32 [N, D].
    Raises InputError (no such folder, no image, corrupt image, unknown network or mode, network not installed),
    ArgumentError (a NULL argument reached the library).
    """
    path = str(folder)
    data = ctypes.POINTER(ctypes.c_float)()
    rows, dim = ctypes.c_int64(), ctypes.c_int64()
    library = _native.lib()
    _native.check(library.genmetrics_features_from_images(
        _context(backend), path.encode(), str(network).encode(),
        None if layer is None else str(layer).encode(), str(mode).encode(),
        ctypes.byref(data), ctypes.byref(rows), ctypes.byref(dim)))
    try:
        n, d = int(rows.value), int(dim.value)
        if n * d == 0:
            return np.empty((n, d), dtype=np.float32)
        return np.ctypeslib.as_array(data, shape=(n, d)).copy()
    finally:
        library.genmetrics_features_free(data)


def instruction_set():
    """The vector instructions the engine runs with here, e.g. "AVX-512 (x86-64-v4)" (the library picks
    the best build the processor supports; GENMETRICS_ISA=x86-64|x86-64-v3|x86-64-v4 overrides)."""
    return _native.lib().genmetrics_instruction_set().decode()


def library_version():
    """Version of the bundled libgenmetrics (the same as `genmetrics --version`)."""
    return _native.lib().genmetrics_version().decode()
