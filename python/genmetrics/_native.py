"""ctypes bindings of libgenmetrics.so (include/genmetrics.h), which ships inside this package.

Nothing here computes a metric: every number comes from the engine through the C API.
"""
import ctypes
import os
import threading

API_VERSION = 2  # GENMETRICS_API_VERSION of include/genmetrics.h this module was written for
FLOAT32, FLOAT64 = 0, 1

_c_int, _c_i64 = ctypes.c_int32, ctypes.c_int64
_c_dbl_p = ctypes.POINTER(ctypes.c_double)


class Features(ctypes.Structure):
    """genmetrics_features: a view of a C-contiguous float32/float64 [N, D] array."""
    _fields_ = [("data", ctypes.c_void_p), ("rows", ctypes.c_int64), ("dim", ctypes.c_int64), ("dtype", ctypes.c_int32)]


class PrdcResult(ctypes.Structure):
    """genmetrics_prdc_result. Keep in step with include/genmetrics.h."""
    _fields_ = [("precision", ctypes.c_double), ("recall", ctypes.c_double),
                ("density", ctypes.c_double), ("coverage", ctypes.c_double),
                ("prdc_precision", ctypes.c_double), ("prdc_recall", ctypes.c_double)]


class SymmetricResult(ctypes.Structure):
    """genmetrics_symmetric_result."""
    _fields_ = [("sym_precision", ctypes.c_double), ("sym_recall", ctypes.c_double), ("comp_precision", ctypes.c_double)]


_feats = ctypes.POINTER(Features)
_SIGNATURES = {
    "genmetrics_api_version": (_c_int, []),
    "genmetrics_version": (ctypes.c_char_p, []),
    "genmetrics_instruction_set": (ctypes.c_char_p, []),
    "genmetrics_last_error": (ctypes.c_char_p, []),
    "genmetrics_context_create": (_c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    "genmetrics_context_destroy": (None, [ctypes.c_void_p]),
    "genmetrics_context_backend": (ctypes.c_char_p, [ctypes.c_void_p]),
    "genmetrics_fid": (_c_int, [ctypes.c_void_p, _feats, _feats, _c_dbl_p]),
    "genmetrics_fid_from_statistics": (_c_int, [ctypes.c_void_p, _c_dbl_p, _c_dbl_p, _c_dbl_p, _c_dbl_p, _c_i64, _c_dbl_p]),
    "genmetrics_statistics": (_c_int, [ctypes.c_void_p, _feats, _c_int, _c_dbl_p, _c_dbl_p, _c_i64]),
    "genmetrics_prdc": (_c_int, [ctypes.c_void_p, _feats, _feats, _c_int, ctypes.POINTER(PrdcResult)]),
    "genmetrics_symmetric_precision_recall": (_c_int, [ctypes.c_void_p, _feats, _feats, _c_int, ctypes.POINTER(SymmetricResult)]),
    "genmetrics_realism": (_c_int, [ctypes.c_void_p, _feats, _feats, _c_int, ctypes.POINTER(ctypes.c_float), _c_i64]),
    "genmetrics_kid": (_c_int, [ctypes.c_void_p, _feats, _feats, _c_int, _c_int, _c_int, _c_dbl_p, _c_dbl_p]),
    "genmetrics_inception_score": (_c_int, [ctypes.c_void_p, _feats, _c_int, _c_int, _c_int, _c_dbl_p, _c_dbl_p]),
    "genmetrics_features_from_images": (_c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                                 ctypes.POINTER(ctypes.POINTER(ctypes.c_float)), ctypes.POINTER(_c_i64), ctypes.POINTER(_c_i64)]),
    "genmetrics_features_free": (None, [ctypes.POINTER(ctypes.c_float)]),
}


def library_path():
    """The libgenmetrics.so this package loads: $GENMETRICS_LIBRARY, else the one inside the package."""
    return os.environ.get("GENMETRICS_LIBRARY") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "libgenmetrics.so")


_lock = threading.Lock()
_lib = None
_contexts = {}


def lib():
    """The loaded library, with every function's signature declared (loaded on first use)."""
    global _lib
    with _lock:
        if _lib is None:
            path = library_path()
            if not os.path.isfile(path):
                raise ImportError(f"genmetrics: the native library {path} is missing (a broken installation?)")
            loaded = ctypes.CDLL(path)
            for name, (restype, argtypes) in _SIGNATURES.items():
                function = getattr(loaded, name)
                function.restype, function.argtypes = restype, argtypes
            found = loaded.genmetrics_api_version()
            if found != API_VERSION:
                raise ImportError(f"genmetrics: {path} implements C API version {found}, this package needs {API_VERSION}")
            _lib = loaded
        return _lib


def context(backend):
    """One genmetrics_context per backend name, created on first use and kept for the process."""
    library = lib()
    with _lock:
        handle = _contexts.get(backend)
        if handle is None:
            out = ctypes.c_void_p()
            status = library.genmetrics_context_create(backend.encode(), ctypes.byref(out))
            if status != 0:
                from . import _errors
                raise _errors.from_status(status, library.genmetrics_last_error().decode("utf-8", "replace"))
            handle = _contexts[backend] = out
        return handle


def check(status):
    """Raises the exception of a failed call, carrying the library's one-line message."""
    if status != 0:
        from . import _errors
        raise _errors.from_status(status, lib().genmetrics_last_error().decode("utf-8", "replace"))
