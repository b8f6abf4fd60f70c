#!/usr/bin/python3
"""Fixtures for the input-validation tests (tests/Engine.Tests/Inputs). Run from anywhere with Debian's
/usr/bin/python3 (python3-numpy, python3-pil, python3-torch): `/usr/bin/python3 make_fixtures.py`.
Every output is small and deterministic (fixed seeds).

features/
  stats_mean_cov.npz     statistics under chainer-gan-lib's names: mean [64], cov [64, 64] (float64)
  stats_ref.npz          mu [64], sigma [64, 64]: the other set
  stats_fid.txt          FID of the two, float64 numpy: |mu1-mu2|^2 + tr S1 + tr S2 - 2 sum sqrt(eig(S1 S2))
  stats_ambiguous.npz    mean [8], cov [8, 8] and feats [10, 8]: refused, --key chooses
  stats_not_psd.npz      mu [16], sigma symmetric [16, 16] with two eigenvalues -1
  is_near_normalized.npy [200, 10] probabilities, rows 0..55 sum to 0.96..0.999 (the rest to 1)
  is_renormalized.txt    IS mean and std of is_near_normalized.npy with each row divided by its sum (10 splits, no shuffle)
  features_like.npy      [120, 256] standard normal values (not logits)
  huge_values.npy        [40, 8] float32 values of magnitude ~1e20 (KID's kernel overflows float32)
images/
  decode/NAME + NAME.rgb PIL's Image.open(NAME).convert('RGB') (raw HWC uint8), cases.txt: NAME W H
                         (WebP lossless and lossy, with and without alpha; TIFF raw/LZW/Deflate/PackBits,
                         predictor, RGB/RGBA/L/1/P, big-endian, tiled)
  damaged/NN.png + verdicts.txt: NAME pil|refused and for accepted files NAME.rgb, from seeded random
                         single-byte changes, byte runs and truncations of two PNGs
  macos.zip              a.png, b.png plus __MACOSX/._a.png, ._b.png, .DS_Store as Finder writes them
checkpoints/
  expand200.pt           torch.save of 200 names for one 1-element storage expanded to 1,000,000 (stride 0)
  declared_huge.pt       a 70,000-float tensor whose pickle declares 475,000,000 elements
  crc.pt                 a valid zip checkpoint with one byte of a stored tensor member flipped
  truncated_zip.pt       the first half of a zip checkpoint
  legacy_truncated.pt    the first 70% of a legacy-format checkpoint
  legacy_huge_numel.pt   legacy format whose storage element count is patched to 2^60
  member_size.pt         a zip checkpoint whose data.pkl entry declares 4 GB in both directory headers
"""
import io, os, struct, zipfile, zlib
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def out(*parts):
    path = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def features():
    rng = np.random.default_rng(14)
    d = 64

    def covariance(n):
        x = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) * 0.3
        return x.mean(0), np.cov(x, rowvar=False)

    m1, s1 = covariance(300)
    m2, s2 = covariance(300)
    m2 = m2 + 0.5
    np.savez(out("features", "stats_mean_cov.npz"), mean=m1, cov=s1)
    np.savez(out("features", "stats_ref.npz"), mu=m2, sigma=s2)
    eig = np.linalg.eigvals(s1 @ s2)
    fid = float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(eig.real, 0, None)).sum())
    with open(out("features", "stats_fid.txt"), "w") as f:
        f.write(repr(fid) + "\n")

    np.savez(out("features", "stats_ambiguous.npz"), mean=np.zeros(8), cov=np.eye(8), feats=rng.standard_normal((10, 8)))

    q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    eigenvalues = np.linspace(-1, 3, 16)
    eigenvalues[1] = -1
    sigma = q @ np.diag(eigenvalues) @ q.T
    sigma = (sigma + sigma.T) / 2
    np.savez(out("features", "stats_not_psd.npz"), mu=np.zeros(16), sigma=sigma)

    p = rng.dirichlet(np.full(10, 0.3), size=200)
    scale = np.ones(200)
    scale[:56] = rng.uniform(0.96, 0.999, size=56)
    p = (p * scale[:, None]).astype(np.float32)
    np.save(out("features", "is_near_normalized.npy"), p)
    q = p.astype(np.float64)
    q /= q.sum(1, keepdims=True)
    scores = []
    for s in range(10):
        part = q[s * 20:(s + 1) * 20]
        mean = part.mean(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(mean)), 0.0).sum(1)
        scores.append(np.exp(kl.mean()))
    with open(out("features", "is_renormalized.txt"), "w") as f:
        f.write(f"{np.mean(scores)!r} {np.std(scores)!r}\n")

    np.save(out("features", "features_like.npy"), rng.standard_normal((120, 256)).astype(np.float32))
    np.save(out("features", "huge_values.npy"), (rng.standard_normal((40, 8)) * 1e20).astype(np.float32))


def pattern(w, h, seed, alpha=False):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 37) % 256], -1).astype(np.uint8)
    rgb = np.clip(rgb.astype(int) + rng.integers(-20, 21, rgb.shape), 0, 255).astype(np.uint8)
    if alpha:
        a = ((x * 7 + y * 3) % 256).astype(np.uint8)[..., None]
        return np.concatenate([rgb, a], -1)
    return rgb


def hand_tiff(arr, big_endian, tile):
    """A baseline RGB8 TIFF, strips (one per 5 rows) or tiles (padded with zeros), uncompressed."""
    e = ">" if big_endian else "<"
    h, w, _ = arr.shape
    chunks = []
    if tile is None:
        for y in range(0, h, 5):
            chunks.append(arr[y:y + 5].tobytes())
    else:
        tw, th = tile
        for ty in range(0, h, th):
            for tx in range(0, w, tw):
                t = np.zeros((th, tw, 3), np.uint8)
                part = arr[ty:ty + th, tx:tx + tw]
                t[:part.shape[0], :part.shape[1]] = part
                chunks.append(t.tobytes())
    body = bytearray()
    data_start = 8
    offsets = []
    for c in chunks:
        offsets.append(data_start + len(body))
        body += c
    extra = bytearray()
    extra_start = data_start + len(body)

    def array(fmt, values):
        at = extra_start + len(extra)
        extra.extend(struct.pack(e + fmt * len(values), *values))
        return at
    bits_at = array("H", [8, 8, 8])
    off_at = array("I", offsets)
    cnt_at = array("I", [len(c) for c in chunks])
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 3, bits_at), (259, 3, 1, 1), (262, 3, 1, 2), (277, 3, 1, 3), (284, 3, 1, 1)]
    if tile is None:
        entries += [(273, 4, len(chunks), off_at), (278, 4, 1, 5), (279, 4, len(chunks), cnt_at)]
    else:
        entries += [(322, 4, 1, tile[0]), (323, 4, 1, tile[1]), (324, 4, len(chunks), off_at), (325, 4, len(chunks), cnt_at)]
    entries.sort()
    ifd_at = extra_start + len(extra)
    ifd = bytearray(struct.pack(e + "H", len(entries)))
    for tag, typ, count, value in entries:
        if typ == 3 and count == 1:
            ifd += struct.pack(e + "HHIHH", tag, typ, count, value, 0)
        else:
            ifd += struct.pack(e + "HHII", tag, typ, count, value)
    ifd += struct.pack(e + "I", 0)
    head = (b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(e + "I", ifd_at)
    return bytes(head + body + extra + ifd)


def decode_cases():
    cases = []

    def save(name, image, **kw):
        path = out("images", "decode", name)
        image.save(path, **kw)
        back = Image.open(path)
        rgb = np.asarray(back.convert("RGB"))
        rgb.tofile(path + ".rgb")
        cases.append(f"{name} {rgb.shape[1]} {rgb.shape[0]}")

    rgb = Image.fromarray(pattern(23, 17, 1))
    rgba = Image.fromarray(pattern(19, 13, 2, alpha=True), "RGBA")
    save("lossless.webp", rgb, lossless=True)
    save("lossy.webp", rgb, quality=70)
    save("alpha_lossless.webp", rgba, lossless=True)
    save("alpha_lossy.webp", rgba, quality=80)
    save("raw.tif", rgb)
    save("lzw.tiff", rgb, compression="tiff_lzw")
    save("deflate.tif", rgb, compression="tiff_adobe_deflate")
    save("packbits.tif", rgb, compression="packbits")
    save("rgba.tif", rgba, compression="tiff_lzw")
    save("gray.tif", rgb.convert("L"), compression="tiff_deflate")
    save("bilevel.tif", rgb.convert("L").point(lambda v: 255 if v > 120 else 0).convert("1"))
    save("bilevel_packbits.tif", rgb.convert("L").point(lambda v: 255 if v > 120 else 0).convert("1"), compression="packbits")
    save("palette.tif", rgb.convert("P", palette=Image.ADAPTIVE, colors=16))
    save("predictor.tif", rgb, compression="tiff_lzw", tiffinfo={317: 2})
    save("gray.pgm", rgb.convert("L"))
    save("rgb.ppm", rgb)
    # PIL cannot write these two: written here by hand (uncompressed), read back by PIL for the reference.
    for name, big, tile in (("bigendian.tif", True, None), ("tiled.tif", False, (16, 16))):
        path = out("images", "decode", name)
        with open(path, "wb") as f:
            f.write(hand_tiff(pattern(37, 21, 3), big, tile))
        back = np.asarray(Image.open(path).convert("RGB"))
        back.tofile(path + ".rgb")
        cases.append(f"{name} {back.shape[1]} {back.shape[0]}")
    with open(out("images", "decode", "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")


def damaged_pngs():
    rng = np.random.default_rng(2014)
    sources = []
    for seed, (w, h, mode) in enumerate([(24, 18, "RGB"), (20, 20, "RGBA")]):
        arr = pattern(w, h, 10 + seed, alpha=mode == "RGBA")
        buf = io.BytesIO()
        Image.fromarray(arr, mode).save(buf, format="PNG")
        sources.append(buf.getvalue())
    verdicts = []
    n = 0
    for src in sources:
        for kind in ["byte"] * 14 + ["run"] * 4 + ["cut"] * 4:
            data = bytearray(src)
            if kind == "byte":
                i = int(rng.integers(8, len(data)))
                data[i] ^= int(rng.integers(1, 256))
            elif kind == "run":
                i = int(rng.integers(8, len(data) - 8))
                data[i:i + 6] = bytes(rng.integers(0, 256, 6, dtype=np.uint8))
            else:
                data = data[:int(rng.integers(40, len(data) - 1))]
            name = f"{n:02d}.png"
            n += 1
            path = out("images", "damaged", name)
            with open(path, "wb") as f:
                f.write(bytes(data))
            try:
                im = Image.open(path)
                rgb = np.asarray(im.convert("RGB"))
                rgb.tofile(path + ".rgb")
                verdicts.append(f"{name} pil {rgb.shape[1]} {rgb.shape[0]}")
            except Exception as e:  # PIL refuses: SyntaxError, OSError, zlib.error, ValueError
                verdicts.append(f"{name} refused {type(e).__name__}")
    with open(out("images", "damaged", "verdicts.txt"), "w") as f:
        f.write("\n".join(verdicts) + "\n")


def macos_zip():
    def png(seed):
        buf = io.BytesIO()
        Image.fromarray(pattern(8, 8, seed)).save(buf, format="PNG")
        return buf.getvalue()
    # AppleDouble companions: binary resource-fork headers, not images.
    apple = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)
    with zipfile.ZipFile(out("images", "macos.zip"), "w") as z:
        for name, data in (("set/a.png", png(1)), ("set/b.png", png(2)), ("__MACOSX/set/._a.png", apple),
                           ("__MACOSX/set/._b.png", apple), ("set/._c.png", apple),
                           ("set/.DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(32))):
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)


def checkpoints():
    import torch
    d = lambda name: out("checkpoints", name)
    base = torch.zeros(1).expand(1_000_000)
    torch.save({f"layer{i}.weight": base for i in range(200)}, d("expand200.pt"))

    buf = io.BytesIO()
    torch.save({"w": torch.arange(70_000, dtype=torch.float32)}, buf)
    data = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        names = z.namelist()
        members = {n: z.read(n) for n in names}
    pkl = next(n for n in names if n.endswith("data.pkl"))
    p = bytearray(members[pkl])
    old = b"J" + struct.pack("<i", 70_000)  # BININT numel in the storage's persistent id
    assert p.count(old) >= 1, p
    idx = p.rindex(old)
    p[idx:idx + 5] = b"J" + struct.pack("<i", 475_000_000)
    members[pkl] = bytes(p)
    with zipfile.ZipFile(d("declared_huge.pt"), "w", zipfile.ZIP_STORED) as z:
        for n in names:
            z.writestr(n, members[n])

    torch.save({"w": torch.arange(64, dtype=torch.float32).reshape(8, 8), "b": torch.ones(8)}, d("good_zip.pt"))
    good = open(d("good_zip.pt"), "rb").read()
    os.remove(d("good_zip.pt"))
    flipped = bytearray(good)
    marker = struct.pack("<f", 37.0)  # element 37 of w, stored uncompressed
    i = flipped.index(marker)
    flipped[i] ^= 0x40
    open(d("crc.pt"), "wb").write(bytes(flipped))
    open(d("truncated_zip.pt"), "wb").write(good[:len(good) // 2])

    buf = io.BytesIO()
    torch.save({"w": torch.arange(64, dtype=torch.float32), "b": torch.ones(8)}, buf, _use_new_zipfile_serialization=False)
    legacy = buf.getvalue()
    open(d("legacy_truncated.pt"), "wb").write(legacy[:len(legacy) * 7 // 10])
    # The storages follow the key list: an int64 element count then the raw bytes; the first is w's (64).
    patched = bytearray(legacy)
    j = patched.index(struct.pack("<q", 64) + struct.pack("<f", 0.0) + struct.pack("<f", 1.0))
    patched[j:j + 8] = struct.pack("<q", 1 << 60)
    open(d("legacy_huge_numel.pt"), "wb").write(bytes(patched))

    # data.pkl's declared uncompressed size patched to 4 GB - 1 in the local and central headers.
    raw = bytearray(good)
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while True:
            k = raw.find(sig, start)
            if k < 0:
                break
            name_len = struct.unpack_from("<H", raw, k + (26 if sig == b"PK\x03\x04" else 28))[0]
            name_at = k + (30 if sig == b"PK\x03\x04" else 46)
            if raw[name_at:name_at + name_len].endswith(b"data.pkl"):
                struct.pack_into("<I", raw, k + off, 0xFFFFFFFE)
            start = k + 4
    open(d("member_size.pt"), "wb").write(bytes(raw))


if __name__ == "__main__":
    features()
    decode_cases()
    damaged_pngs()
    macos_zip()
    checkpoints()
