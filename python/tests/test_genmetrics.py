"""Every function of the genmetrics package against the genmetrics CLI on the committed fixtures, and its errors.

The package and the CLI run the same engine; these tests check the Python layer: that arrays of every
accepted layout reach the library intact, that results come back complete and in the right fields, and
that failures raise the right exception with the library's message.
"""
import os

import numpy as np
import pytest

import genmetrics
from conftest import FAKE, IMAGES_FAKE, IMAGES_REAL, LOGITS, REAL, TINY_ONNX

REL = 1e-6  # the C example's tolerance against the CLI (examples/c/compare-with-cli.sh)

real = np.load(REAL)      # float32, C order
fake = np.load(FAKE)      # float64, Fortran order
logits = np.load(LOGITS)


def close(actual, expected):
    assert actual == pytest.approx(expected, rel=REL, abs=1e-12), f"{actual} != {expected}"


def test_fixture_layouts_are_the_ones_the_tests_claim():
    assert real.dtype == np.float32 and real.flags.c_contiguous
    assert fake.dtype == np.float64 and fake.flags.f_contiguous and not fake.flags.c_contiguous


def test_fid_matches_cli(cli):
    close(genmetrics.fid(real, fake, backend="cpu"), cli("fid")["fid"])


def test_kid_matches_cli(cli):
    expected = cli("kid")
    result = genmetrics.kid(real, fake, subsets=20, subset_size=100, seed=7, backend="cpu")
    close(result.mean, expected["kid_mean"])
    close(result.std, expected["kid_std"])
    assert result.as_dict() == {"kid_mean": result.mean, "kid_std": result.std}


def test_precision_recall_matches_cli(cli):
    expected = cli("pr_k3")
    result = genmetrics.precision_recall(real, fake, backend="cpu")  # default k = 3, the CLI's
    close(result.precision, expected["precision"])
    close(result.recall, expected["recall"])


def test_prdc_matches_cli(cli):
    expected = cli("prdc_k5")
    result = genmetrics.prdc(real, fake, backend="cpu")  # default k = 5, the CLI's
    close(result.precision, expected["prdc_precision"])
    close(result.recall, expected["prdc_recall"])
    close(result.density, expected["density"])
    close(result.coverage, expected["coverage"])


def test_symmetric_precision_recall_matches_cli(cli):
    expected = cli("sym_k5")
    result = genmetrics.symmetric_precision_recall(real, fake, backend="cpu")
    close(result.sym_precision, expected["sym_precision"])
    close(result.sym_recall, expected["sym_recall"])
    close(result.comp_precision, expected["comp_precision"])


def test_realism_matches_cli(cli):
    expected = cli("realism_k3")
    scores = genmetrics.realism(real, fake, backend="cpu")
    assert scores.dtype == np.float32 and scores.shape == (fake.shape[0],)
    np.testing.assert_allclose(scores, expected, rtol=REL)


@pytest.mark.parametrize("name, shuffle, seed", [("is", False, 2020), ("is_shuffled", True, 3)])
def test_inception_score_matches_cli(cli, name, shuffle, seed):
    expected = cli(name)
    result = genmetrics.inception_score(logits, splits=4, shuffle=shuffle, seed=seed)
    close(result.mean, expected["is_mean"])
    close(result.std, expected["is_std"])


def test_stats_match_cli(cli):
    expected = cli("stats_real")
    s = genmetrics.stats(real, backend="cpu")
    assert s.n == real.shape[0] and s.mu.shape == (32,) and s.sigma.shape == (32, 32)
    np.testing.assert_allclose(s.mu, expected["mu"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s.sigma, expected["sigma"], rtol=1e-12, atol=1e-15)
    n_divisor = cli("stats_fake_n")
    s = genmetrics.stats(fake, cov_divisor="n", backend="cpu")
    np.testing.assert_allclose(s.sigma, n_divisor["sigma"], rtol=1e-12, atol=1e-15)


def test_fid_from_stats_accepts_statistics_npz_mappings_and_pairs(cli):
    expected = cli("fid")["fid"]
    a, b = genmetrics.stats(real, backend="cpu"), genmetrics.stats(fake, backend="cpu")
    close(genmetrics.fid_from_stats(a, b, backend="cpu"), expected)
    close(genmetrics.fid_from_stats(cli("stats_real"), (b.mu, b.sigma), backend="cpu"), expected)


def test_features_of_an_image_folder_give_the_clis_fid(cli):
    a = genmetrics.features(IMAGES_REAL, network=TINY_ONNX, layer="pool", mode="clean", backend="cpu")
    b = genmetrics.features(IMAGES_FAKE, network=TINY_ONNX, layer="pool", mode="clean", backend="cpu")
    assert a.shape == (24, 8) and b.shape == (20, 8) and a.dtype == np.float32
    close(genmetrics.fid(a, b, backend="cpu"), cli("images_fid")["fid"])


# ------------------------------------------------------------------------------------- input layouts

class ArrayLike:
    """Not an ndarray: only __array__."""

    def __init__(self, values):
        self.values = values

    def __array__(self, dtype=None):
        return self.values if dtype is None else self.values.astype(dtype)


def test_every_layout_and_array_like_gives_the_same_number():
    reference = genmetrics.fid(real, fake, backend="cpu")
    close(genmetrics.fid(np.asfortranarray(real), np.ascontiguousarray(fake), backend="cpu"), reference)
    close(genmetrics.fid(ArrayLike(real), ArrayLike(fake), backend="cpu"), reference)
    close(genmetrics.fid(real.astype(np.float64), fake, backend="cpu"), genmetrics.fid(real.astype(np.float64), fake, backend="cpu"))
    strided = np.zeros((300, 64), dtype=np.float32)
    strided[:, ::2] = real
    close(genmetrics.fid(strided[:, ::2], fake, backend="cpu"), reference)


def test_float64_input_is_used_exactly_for_fid():
    # float64 values that float32 cannot hold: FID from the exact values differs from FID of the rounded ones.
    exact = fake + 1e-9
    assert genmetrics.fid(real, exact, backend="cpu") != genmetrics.fid(real, exact.astype(np.float32), backend="cpu")


# ------------------------------------------------------------------------------------- errors

def test_nan_is_an_input_error_naming_the_set():
    bad = fake.copy()
    bad[7, 3] = np.nan
    with pytest.raises(genmetrics.InputError, match="^fake") as error:
        genmetrics.fid(real, bad, backend="cpu")
    assert isinstance(error.value, ValueError) and "\n" not in str(error.value)


def test_k_not_below_n_is_an_input_error():
    with pytest.raises(genmetrics.InputError, match=r"real: 4 samples, k = 5 needs at least 6"):
        genmetrics.prdc(real[:4], fake, k=5, backend="cpu")


def test_k_below_one_is_an_argument_error():
    with pytest.raises(genmetrics.ArgumentError, match="k is 0"):
        genmetrics.precision_recall(real, fake, k=0, backend="cpu")


def test_dimension_mismatch_is_an_input_error():
    with pytest.raises(genmetrics.InputError, match="dimension mismatch"):
        genmetrics.realism(real, fake[:, :16], backend="cpu")


def test_wrong_dtype_and_shape_are_input_errors():
    with pytest.raises(genmetrics.InputError, match="real: dtype int64"):
        genmetrics.fid(np.ones((10, 3), dtype=np.int64), fake, backend="cpu")
    with pytest.raises(genmetrics.InputError, match=r"fake: expected a 2-D array \[N, D\], got shape \(5,\)"):
        genmetrics.fid(real, np.ones(5), backend="cpu")


def test_unknown_backend_is_a_backend_error():
    with pytest.raises(genmetrics.BackendError):
        genmetrics.fid(real, fake, backend="tpu")


def test_too_few_samples_for_kid_and_bad_splits_are_input_errors():
    with pytest.raises(genmetrics.InputError, match="real: 1 samples"):
        genmetrics.kid(real[:1], fake, backend="cpu")
    with pytest.raises(genmetrics.InputError, match="split"):
        genmetrics.inception_score(logits, splits=0)


def test_bad_cov_divisor_and_bad_statistics_are_errors():
    with pytest.raises(genmetrics.ArgumentError, match="cov_divisor"):
        genmetrics.stats(real, cov_divisor="n+1")
    s = genmetrics.stats(real, backend="cpu")
    with pytest.raises(genmetrics.InputError, match="fake: sigma"):
        genmetrics.fid_from_stats(s, (s.mu, s.sigma[:3]), backend="cpu")


def test_features_errors_name_the_problem(tmp_path):
    with pytest.raises(genmetrics.InputError, match="no such file or folder"):
        genmetrics.features(tmp_path / "missing", network=TINY_ONNX, layer="pool")
    with pytest.raises(genmetrics.InputError, match="not installed"):
        genmetrics.features(IMAGES_REAL)  # no inception in this run's empty model store
    with pytest.raises(genmetrics.InputError, match="'resnet' is neither inception, vgg16 nor an ONNX file"):
        genmetrics.features(IMAGES_REAL, network="resnet")
    with pytest.raises(genmetrics.InputError, match="unknown resize mode 'bicubic'"):
        genmetrics.features(IMAGES_REAL, network=TINY_ONNX, layer="pool", mode="bicubic")


# ------------------------------------------------------------------------------------- the package

def test_version_and_instruction_set():
    assert genmetrics.library_version() == genmetrics.__version__
    isa = genmetrics.instruction_set()
    assert any(isa.startswith(p) for p in ("AVX-512 (x86-64-v4)", "AVX2 (x86-64-v3)", "SSE4.2 (x86-64)", "SSE2 (x86-64)")), isa


def test_the_package_loads_its_bundled_library():
    from genmetrics import _native
    assert os.path.dirname(_native.library_path()) == os.path.dirname(os.path.abspath(genmetrics.__file__)) \
        or "GENMETRICS_LIBRARY" in os.environ
