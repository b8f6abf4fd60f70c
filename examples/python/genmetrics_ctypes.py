"""Calls libgenmetrics.so (the GenMetrics C API) from Python with ctypes: no .NET runtime, no pip package.

    python3 genmetrics_ctypes.py REAL.npy FAKE.npy [--lib PATH] [--k 3] [--prdc-k 5] [--backend auto]

Prints FID, precision/recall/density/coverage, KID and the mean realism score, with the CLI's defaults:
precision, recall and realism at k = 3 (NVIDIA), density and coverage at k = 5 (prdc), as
`genmetrics metrics REAL FAKE` prints them. (The genmetrics Python package in python/ is the full binding.) The library is looked up
in --lib, then $GENMETRICS_LIB, then the default NativeAOT publish folder of this repository.
Only the standard library and numpy are needed.
"""
import argparse
import ctypes
import os
import sys

import numpy as np

GENMETRICS_API_VERSION = 1  # must match include/genmetrics.h
FLOAT32, FLOAT64 = 0, 1
STATUS_NAMES = {0: "OK", 1: "E_INPUT", 2: "E_ARGUMENT", 3: "E_BACKEND", 4: "E_INTERNAL"}


class Features(ctypes.Structure):
    """genmetrics_features: a view of a C-contiguous float32/float64 [N, D] array."""
    _fields_ = [("data", ctypes.c_void_p), ("rows", ctypes.c_int64), ("dim", ctypes.c_int64), ("dtype", ctypes.c_int32)]


class PrdcResult(ctypes.Structure):
    _fields_ = [("precision", ctypes.c_double), ("recall", ctypes.c_double),
                ("density", ctypes.c_double), ("coverage", ctypes.c_double),
                ("prdc_precision", ctypes.c_double), ("prdc_recall", ctypes.c_double)]


class GenMetricsError(RuntimeError):
    def __init__(self, function, status, message):
        super().__init__(f"{function}: {STATUS_NAMES.get(status, status)}: {message}")
        self.status = status


class GenMetrics:
    """A context of the C API. Every call checks its status and raises GenMetricsError with the library's message."""

    def __init__(self, library_path, backend="auto"):
        self._lib = lib = ctypes.CDLL(library_path)
        feats = ctypes.POINTER(Features)
        c_int, c_i64, c_dbl_p = ctypes.c_int32, ctypes.c_int64, ctypes.POINTER(ctypes.c_double)
        signatures = {
            "genmetrics_api_version": (c_int, []),
            "genmetrics_version": (ctypes.c_char_p, []),
            "genmetrics_instruction_set": (ctypes.c_char_p, []),
            "genmetrics_last_error": (ctypes.c_char_p, []),
            "genmetrics_context_create": (c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
            "genmetrics_context_destroy": (None, [ctypes.c_void_p]),
            "genmetrics_context_backend": (ctypes.c_char_p, [ctypes.c_void_p]),
            "genmetrics_fid": (c_int, [ctypes.c_void_p, feats, feats, c_dbl_p]),
            "genmetrics_fid_from_statistics": (c_int, [ctypes.c_void_p, c_dbl_p, c_dbl_p, c_dbl_p, c_dbl_p, c_i64, c_dbl_p]),
            "genmetrics_prdc": (c_int, [ctypes.c_void_p, feats, feats, c_int, ctypes.POINTER(PrdcResult)]),
            "genmetrics_realism": (c_int, [ctypes.c_void_p, feats, feats, c_int, ctypes.POINTER(ctypes.c_float), c_i64]),
            "genmetrics_kid": (c_int, [ctypes.c_void_p, feats, feats, c_int, c_int, c_int, c_dbl_p, c_dbl_p]),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        if lib.genmetrics_api_version() != GENMETRICS_API_VERSION:
            raise RuntimeError(f"{library_path} implements API {lib.genmetrics_api_version()}, this script expects {GENMETRICS_API_VERSION}")
        self.version = lib.genmetrics_version().decode()
        self.instruction_set = lib.genmetrics_instruction_set().decode()
        handle = ctypes.c_void_p()
        self._check("genmetrics_context_create", lib.genmetrics_context_create(backend.encode(), ctypes.byref(handle)))
        self._context = handle
        self.backend = lib.genmetrics_context_backend(self._context).decode()

    def close(self):
        if self._context:
            self._lib.genmetrics_context_destroy(self._context)
            self._context = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check(self, function, status):
        if status != 0:
            raise GenMetricsError(function, status, self._lib.genmetrics_last_error().decode())

    @staticmethod
    def _view(array):
        """Features pointing into `array` (kept alive by the caller for the duration of the call)."""
        if array.ndim != 2 or array.dtype not in (np.float32, np.float64) or not array.flags.c_contiguous:
            raise ValueError("features must be a C-contiguous 2-D float32 or float64 array")
        return Features(array.ctypes.data, array.shape[0], array.shape[1], FLOAT64 if array.dtype == np.float64 else FLOAT32)

    def fid(self, real, fake):
        out = ctypes.c_double()
        self._check("genmetrics_fid", self._lib.genmetrics_fid(self._context, self._view(real), self._view(fake), ctypes.byref(out)))
        return out.value

    def fid_from_statistics(self, mu_real, sigma_real, mu_fake, sigma_fake):
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (mu_real, sigma_real, mu_fake, sigma_fake)]
        pointers = [a.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) for a in arrays]
        out = ctypes.c_double()
        self._check("genmetrics_fid_from_statistics",
                    self._lib.genmetrics_fid_from_statistics(self._context, *pointers, arrays[0].shape[0], ctypes.byref(out)))
        return out.value

    def prdc(self, real, fake, k=3):
        out = PrdcResult()
        self._check("genmetrics_prdc", self._lib.genmetrics_prdc(self._context, self._view(real), self._view(fake), k, ctypes.byref(out)))
        return {"precision": out.precision, "recall": out.recall, "prdc_precision": out.prdc_precision,
                "prdc_recall": out.prdc_recall, "density": out.density, "coverage": out.coverage}

    def realism(self, real, fake, k=3):
        scores = np.empty(fake.shape[0], dtype=np.float32)
        self._check("genmetrics_realism", self._lib.genmetrics_realism(
            self._context, self._view(real), self._view(fake), k,
            scores.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), scores.shape[0]))
        return scores

    def kid(self, real, fake, subsets=100, subset_size=1000, seed=2020):
        mean, std = ctypes.c_double(), ctypes.c_double()
        self._check("genmetrics_kid", self._lib.genmetrics_kid(
            self._context, self._view(real), self._view(fake), subsets, subset_size, seed, ctypes.byref(mean), ctypes.byref(std)))
        return mean.value, std.value


def default_library():
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    return os.environ.get("GENMETRICS_LIB") or os.path.join(
        repo, "src", "Engine", "bin", "Release", "net10.0", "linux-x64", "publish", "libgenmetrics.so")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real")
    parser.add_argument("fake")
    parser.add_argument("--lib", default=default_library())
    parser.add_argument("--k", type=int, default=3, help="k of precision, recall and realism (default 3, the CLI's)")
    parser.add_argument("--prdc-k", type=int, default=5, help="k of density and coverage (default 5, the CLI's)")
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()

    real = np.ascontiguousarray(np.load(args.real))
    fake = np.ascontiguousarray(np.load(args.fake))
    try:
        with GenMetrics(args.lib, args.backend) as gm:
            print(f"libgenmetrics {gm.version}, {gm.instruction_set}, backend {gm.backend}", file=sys.stderr)
            print(f"fid {gm.fid(real, fake):.17g}")
            pr = gm.prdc(real, fake, args.k)
            dc = gm.prdc(real, fake, args.prdc_k)
            for key, value in (("precision", pr["precision"]), ("recall", pr["recall"]),
                               ("density", dc["density"]), ("coverage", dc["coverage"])):
                print(f"{key} {value:.17g}")
            kid_mean, kid_std = gm.kid(real, fake)
            print(f"kid_mean {kid_mean:.17g}")
            print(f"kid_std {kid_std:.17g}")
            print(f"realism_mean {float(gm.realism(real, fake, args.k).mean()):.17g}")
    except GenMetricsError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
