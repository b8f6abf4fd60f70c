#!/usr/bin/python3
"""Writes the .npy/.npz fixtures for tests/Engine.Tests/Features (run: /usr/bin/python3 make_fixtures.py).

Feature values follow a formula of (row i, column j) so that a test asserting the formula proves the
layout:  F[i, j] = i*10 + j*0.5 + 0.25  (exact in float32).  The float64 fixture adds 0.1 so that
rounding to float32 is visible.  Statistics: mu[j] = j*0.5 + 0.25, sigma[i, j] = 1 / (1 + |i - j|).
"""
import io, os, struct, zipfile
import numpy as np

os.chdir(os.path.dirname(os.path.abspath(__file__)))
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # so that rerunning the script gives identical zips

def F(n, d, dtype=np.float32, extra=0.0):
    i, j = np.meshgrid(np.arange(n), np.arange(d), indexing="ij")
    return (i * 10 + j * 0.5 + 0.25 + extra).astype(dtype)

def stats(d):
    i, j = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    return np.arange(d) * 0.5 + 0.25, 1.0 / (1.0 + np.abs(i - j))

def raw_npy(path, dict_text, data, major=1, align=16, encoding="latin1"):
    """A hand-made .npy: the header as given, padded to `align` (older NumPy used 16)."""
    prefix = 10 if major == 1 else 12
    body = dict_text.encode(encoding)
    total = prefix + len(body) + 1
    pad = (-total) % align
    body += b" " * pad + b"\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY" + bytes([major, 0]))
        f.write(struct.pack("<H" if major == 1 else "<I", len(body)))
        f.write(body)
        f.write(data)

np.save("f32_c.npy", F(6, 4))
np.save("f64.npy", F(5, 3, np.float64, 0.1))
a = np.ascontiguousarray(F(7, 5).T)            # 5 x 7, C order
np.save("fortran.npy", a.T)                    # 7 x 5 = F(7, 5), written with fortran_order True
with open("v2.npy", "wb") as f:
    np.lib.format.write_array(f, F(3, 4), version=(2, 0))
with open("v3.npy", "wb") as f:
    np.lib.format.write_array(f, F(3, 4), version=(3, 0))
# Python 2 style: L suffixes, keys in another order, spare spaces, 16-byte alignment, no trailing comma.
raw_npy("py2_header.npy", "{'shape': (3L, 4L) ,  'fortran_order':False,'descr':'<f4'}", F(3, 4).tobytes())
np.savez("savez.npz", feats=F(6, 4))
np.savez_compressed("savez_compressed.npz", feats=F(6, 4))
mu, sigma = stats(4)
np.savez_compressed("stats.npz", mu=mu, sigma=sigma)                    # pytorch-fid / TTUR
np.savez("stats_cleanfid.npz", mu=mu.astype(np.float32), sigma=sigma)   # clean-fid: mu float32
bad = sigma.copy(); bad[0, 2] += 0.01
np.savez("stats_asymmetric.npz", mu=mu, sigma=bad)
np.savez("stats_mismatch.npz", mu=mu, sigma=stats(3)[1])
np.savez("two_arrays.npz", a=F(3, 4), b=F(2, 4))
np.savez("no_matrix.npz", labels=np.arange(5, dtype=np.float32))
np.save("int64.npy", np.arange(12, dtype=np.int64).reshape(3, 4))
np.save("bigendian.npy", F(3, 4).astype(">f4"))
np.save("onedim.npy", np.arange(5, dtype=np.float32))
np.save("threedim.npy", np.zeros((2, 3, 4), np.float32))
nan = F(4, 3); nan[2, 1] = np.nan
np.save("nan.npy", nan)
inf64 = F(4, 3, np.float64); inf64[3, 0] = np.inf
np.save("inf64.npy", inf64)
np.save("overflow64.npy", np.full((2, 2), 1e300))
with open("f32_c.npy", "rb") as f:
    whole = f.read()
with open("truncated.npy", "wb") as f:
    f.write(whole[:-10])
raw_npy("corrupt_header.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4", b"\0" * 48)
raw_npy("structured.npy", "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (3, 1), }", b"\0" * 12)
# np.save of an object array (allow_pickle): refused by its dtype, before its shape.
np.save("object.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
open("empty.npy", "wb").close()
with zipfile.ZipFile("not_npz.zip", "w") as z:
    z.writestr(zipfile.ZipInfo("readme.txt", FIXED_TIME), "hello")
with open("neither.txt", "w") as f:
    f.write("just some text\n")
# An npz member cut short: the zip is intact but the .npy inside lacks data.
buf = io.BytesIO(); np.save(buf, F(6, 4))
with zipfile.ZipFile("truncated_member.npz", "w") as z:
    z.writestr(zipfile.ZipInfo("feats.npy", FIXED_TIME), buf.getvalue()[:-8])
print("fixtures written")

# ours_f32.npy (F(3, 4)) and ours_stats.npz (mu = [0.25, 0.75, 1.25], sigma[i, j] = 1/(1+|i-j|)) are not made
# here: FeatureFiles.WriteNpy / WriteStatistics wrote them, and this check passed when they were committed
# (ours_f32.npy is byte-identical to np.save's output).
def check_ours():
    a = np.load("ours_f32.npy")
    assert a.dtype == np.float32 and np.array_equal(a, F(3, 4))
    with np.load("ours_stats.npz") as f:
        m, s = f["mu"][:], f["sigma"][:]
    assert m.dtype == s.dtype == np.float64 and np.array_equal(m, stats(3)[0]) and np.array_equal(s, stats(3)[1])
    print("ours_* files read by numpy as expected")

if os.path.exists("ours_f32.npy"):
    check_ours()
