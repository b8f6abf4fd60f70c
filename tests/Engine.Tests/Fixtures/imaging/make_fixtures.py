#!/usr/bin/python3
"""Golden fixtures for tests/Engine.Tests/Imaging. Run with Debian's /usr/bin/python3 (numpy, PIL,
python3-torch 1.13) from this folder: `/usr/bin/python3 make_fixtures.py [PHOTO_DIR]`.

photos/: legacy-pytorch on the full-size shared photos (issue 12: the error grows with the image size).
  Per photo and network size (299x299, 224x224), the bottom-right 16x16 of torch's network input (where
  the source index, and so its rounding, is largest) as CHW float32, NAME.WxH.legacy-pytorch.bin, and the
  input rectangle those outputs read, NAME.WxH.region.png (PIL's decode). photos/cases.txt:
  NAME OUT_W OUT_H IN_W IN_H REGION_X REGION_Y. With GENMETRICS_TORCH_FULL=DIR set, also writes the whole
  network input DIR/NAME.WxH.bin for the explicit full-image comparison test (not committed: 1 MB each).
resize/: input PNGs (RGB8) and, per case and mode, the network input CHW float32 little-endian:
  CASE.clean.bin              PIL: each channel as mode-F float32, resize(BICUBIC), clip [0,255], (x-128)/128
  CASE.legacy-pytorch.bin     torch: uint8/255 (ToTensor), F.interpolate bilinear align_corners=False, 2x-1
  CASE.legacy-tensorflow.bin  numpy float32 transcription of TF1 resize_bilinear (spec 2.1), (x-128)/128
  CASE.clean-resize.bin       PIL's resize alone (0..255 scale, before clipping): tests the resampler tightly
  resize/cases.txt            CASE INPUT.png OUT_WIDTH OUT_HEIGHT
decode/: tiny images of every supported kind written by PIL (or by hand where PIL cannot write the kind),
  NAME.rgb = PIL's Image.open(NAME).convert('RGB') as raw HWC uint8, listed in decode/cases.txt as
  NAME WIDTH HEIGHT TOLERANCE (max abs difference allowed per channel value; JPEG decoders differ).
  Also 8-bit PNGs with gAMA/cHRM/sRGB/iCCP/tRNS chunks and Adam7-interlaced ones (make_png_chunks;
  alone: GENMETRICS_FIXTURES_ONLY=png-chunks).
"""
import io, os, struct, sys, zlib
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/photos"


def photo(name):
    return np.asarray(Image.open(os.path.join(PHOTOS, name)).convert("RGB"))


# ---------------------------------------------------------------- resize goldens
def clean_resize(img, w, h):
    planes = [np.asarray(Image.fromarray(img[:, :, c].astype(np.float32), mode="F").resize((w, h), Image.BICUBIC))
              for c in range(3)]
    return np.stack(planes).astype(np.float32)


def pytorch_input(img, w, h):
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(np.array(img)).permute(2, 0, 1).float().div(255).unsqueeze(0)
    r = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
    return (2 * r - 1)[0].numpy().astype(np.float32)


def tf1_resize(img, w, h):
    """metrics-spec 2.1, float32 throughout."""
    src = img.astype(np.float32).transpose(2, 0, 1)
    ih, iw = src.shape[1:]

    def idx(n_in, n_out):
        scale = np.float32(n_in) / np.float32(n_out)
        s = np.arange(n_out, dtype=np.float32) * scale
        i0 = np.floor(s).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (s - i0.astype(np.float32)).astype(np.float32)

    x0, x1, fx = idx(iw, w)
    y0, y1, fy = idx(ih, h)
    tl, tr = src[:, y0][:, :, x0], src[:, y0][:, :, x1]
    bl, br = src[:, y1][:, :, x0], src[:, y1][:, :, x1]
    top = tl + (tr - tl) * fx[None, None, :]
    bottom = bl + (br - bl) * fx[None, None, :]
    return (top + (bottom - top) * fy[None, :, None]).astype(np.float32)


def write_bin(path, arr):
    np.ascontiguousarray(arr, dtype="<f4").tofile(path)


def make_resize():
    out = os.path.join(HERE, "resize")
    os.makedirs(out, exist_ok=True)
    astro, chelsea = photo("astronaut.png"), photo("chelsea.png")
    baboon = np.asarray(Image.fromarray(photo("baboon.jpg")).resize((64, 48), Image.LANCZOS))
    coffee = np.asarray(Image.fromarray(photo("coffee.png")).resize((64, 48), Image.LANCZOS))
    rng = np.random.default_rng(8)
    inputs = {
        "astronaut40x30": astro[200:230, 180:220],
        "chelsea40x30": chelsea[100:130, 200:240],
        "baboon64x48": baboon,
        "coffee64x48": coffee,
        "column1x20": astro[100:120, 300:301],
        "row20x1": chelsea[150:151, 100:120],
        "pixel1x1": astro[256:257, 256:257],
        "noise7x5": rng.integers(0, 256, (5, 7, 3), dtype=np.uint8),
    }
    cases = [
        ("astronaut_down17x13", "astronaut40x30", 17, 13),   # non-integer downscale
        ("astronaut_up57x41", "astronaut40x30", 57, 41),     # non-integer upscale
        ("chelsea_mixed29x50", "chelsea40x30", 29, 50),      # down in x, up in y
        ("chelsea_keepwidth40x13", "chelsea40x30", 40, 13),  # one pass skipped in PIL
        ("baboon_down29x22", "baboon64x48", 29, 22),
        ("baboon_same64x48", "baboon64x48", 64, 48),         # identity
        ("coffee_up72x60", "coffee64x48", 72, 60),
        ("coffee_down3x2", "coffee64x48", 3, 2),              # extreme downscale (wide support)
        ("column_to7x9", "column1x20", 7, 9),                # 1-pixel-wide input
        ("row_to5x3", "row20x1", 5, 3),
        ("pixel_to4x4", "pixel1x1", 4, 4),
        ("noise_to11x8", "noise7x5", 11, 8),
        ("noise_to1x1", "noise7x5", 1, 1),
    ]
    for name, img in inputs.items():
        Image.fromarray(np.ascontiguousarray(img), "RGB").save(os.path.join(out, name + ".png"))
    with open(os.path.join(out, "cases.txt"), "w") as f:
        for case, src, w, h in cases:
            img = inputs[src]
            f.write(f"{case} {src}.png {w} {h}\n")
            resized = clean_resize(img, w, h)
            write_bin(os.path.join(out, case + ".clean-resize.bin"), resized)
            write_bin(os.path.join(out, case + ".clean.bin"), (np.clip(resized, 0, 255) - 128) / np.float32(128))
            write_bin(os.path.join(out, case + ".legacy-pytorch.bin"), pytorch_input(img, w, h))
            write_bin(os.path.join(out, case + ".legacy-tensorflow.bin"), (tf1_resize(img, w, h) - 128) / np.float32(128))


# ---------------------------------------------------------------- full-size photos, legacy-pytorch
CROP = 16


def make_photos():
    out = os.path.join(HERE, "photos")
    os.makedirs(out, exist_ok=True)
    full = os.environ.get("GENMETRICS_TORCH_FULL")
    lines = []
    for name in sorted(os.listdir(PHOTOS)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in (".png", ".jpg"):
            continue
        img = photo(name)
        ih, iw = img.shape[:2]
        for w, h in ((299, 299), (224, 224)):
            net = pytorch_input(img, w, h)
            if full:
                write_bin(os.path.join(full, f"{stem}.{w}x{h}.bin"), net)
            write_bin(os.path.join(out, f"{stem}.{w}x{h}.legacy-pytorch.bin"), net[:, h - CROP:, w - CROP:])
            # The outputs x >= w - CROP read input columns >= floor(scale*(w - CROP + 0.5) - 0.5); two more
            # columns of margin, and the rectangle runs to the image's edge.
            rx = max(0, int(np.floor(iw / w * (w - CROP + 0.5) - 0.5)) - 2)
            ry = max(0, int(np.floor(ih / h * (h - CROP + 0.5) - 0.5)) - 2)
            Image.fromarray(np.ascontiguousarray(img[ry:, rx:]), "RGB").save(os.path.join(out, f"{stem}.{w}x{h}.region.png"))
            lines.append(f"{stem} {w} {h} {iw} {ih} {rx} {ry}")
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- clean + centre crop (CLIP-style)
def make_center_crop():
    """resize/center-crop.txt: CASE INPUT.png OUT_W OUT_H; CASE.clean-center-crop.bin = torchvision's
    Resize(size) rule (binding side to the target, the other int(target * long / short)) applied with PIL
    BICUBIC to each mode-F channel, CenterCrop (offsets round((in - out) / 2), Python's half-to-even),
    clip [0, 255], (x - 128)/128."""
    out = os.path.join(HERE, "resize")
    cases = [("chelsea_crop16x16", "chelsea40x30.png", 16, 16), ("astronaut_crop12x20", "astronaut40x30.png", 12, 20),
             ("noise_crop11x8", "noise7x5.png", 11, 8)]
    with open(os.path.join(out, "center-crop.txt"), "w") as f:
        for case, src, w, h in cases:
            img = np.asarray(Image.open(os.path.join(out, src)).convert("RGB"))
            ih, iw = img.shape[:2]
            if w * ih >= h * iw:
                rw, rh = w, max(h, int(w * ih / iw))
            else:
                rw, rh = max(w, int(h * iw / ih)), h
            resized = clean_resize(img, rw, rh)
            top, left = int(round((rh - h) / 2.0)), int(round((rw - w) / 2.0))
            crop = resized[:, top:top + h, left:left + w]
            write_bin(os.path.join(out, case + ".clean-center-crop.bin"), (np.clip(crop, 0, 255) - 128) / np.float32(128))
            f.write(f"{case} {src} {w} {h}\n")


# ---------------------------------------------------------------- decoder fixtures
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png16(path, arr, color_type):
    """PIL cannot write 16-bit RGB/RGBA PNGs: a minimal writer (filter 0 on every row)."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def make_decode():
    out = os.path.join(HERE, "decode")
    os.makedirs(out, exist_ok=True)
    rgb = np.asarray(Image.fromarray(photo("chelsea.png")[60:230, 120:350]).resize((23, 17), Image.LANCZOS))
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    alpha = np.linspace(0, 255, 23 * 17).reshape(17, 23).astype(np.uint8)
    rng = np.random.default_rng(80)
    wide16 = rng.integers(0, 65536, (17, 23, 4), dtype=np.uint16)

    files = []  # (name, tolerance)
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "rgb8.png")); files.append(("rgb8.png", 0))
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(os.path.join(out, "rgba8.png")); files.append(("rgba8.png", 0))
    Image.fromarray(gray, "L").save(os.path.join(out, "gray8.png")); files.append(("gray8.png", 0))
    Image.fromarray(np.dstack([gray, alpha]), "LA").save(os.path.join(out, "graya8.png")); files.append(("graya8.png", 0))
    Image.fromarray(rgb, "RGB").quantize(37).save(os.path.join(out, "palette.png")); files.append(("palette.png", 0))
    Image.fromarray(gray > 128).save(os.path.join(out, "bilevel1.png")); files.append(("bilevel1.png", 0))
    write_png16(os.path.join(out, "rgb16.png"), wide16[:, :, :3], 2); files.append(("rgb16.png", 0))
    write_png16(os.path.join(out, "rgba16.png"), wide16, 6); files.append(("rgba16.png", 0))
    # 16-bit gray: PIL opens it as mode I and convert('RGB') clamps the 16-bit value to 255 (not >> 8);
    # small values (< 256) are the only ones on which PIL and a high-byte reduction could agree, so the
    # committed expectation is PIL's and the test checks the documented difference instead.
    Image.fromarray(wide16[:, :, 0]).save(os.path.join(out, "gray16.png")); files.append(("gray16.png", -1))
    wide16[:, :, 0].astype("<u2").tofile(os.path.join(out, "gray16.png.u16"))
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "rgb24.bmp")); files.append(("rgb24.bmp", 0))
    Image.fromarray(rgb, "RGB").quantize(16).save(os.path.join(out, "palette8.bmp")); files.append(("palette8.bmp", 0))
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "baseline.jpg"), quality=90); files.append(("baseline.jpg", 0))
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "baseline444.jpg"), quality=90, subsampling=0); files.append(("baseline444.jpg", 0))
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "progressive.jpg"), quality=90, progressive=True); files.append(("progressive.jpg", 0))
    Image.fromarray(gray, "L").save(os.path.join(out, "gray.jpg"), quality=90); files.append(("gray.jpg", 0))
    Image.fromarray(rgb, "RGB").convert("CMYK").save(os.path.join(out, "cmyk.jpg"), quality=95); files.append(("cmyk.jpg", 0))
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "rgb.gif")); files.append(("rgb.gif", 0))
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "rgb.tga")); files.append(("rgb.tga", 0))

    with open(os.path.join(out, "cases.txt"), "w") as f:
        for name, tol in files:
            im = Image.open(os.path.join(out, name))
            arr = np.asarray(im.convert("RGB"))
            arr.tofile(os.path.join(out, name + ".rgb"))
            f.write(f"{name} {arr.shape[1]} {arr.shape[0]} {tol} {im.mode}\n")

    # Broken files: PIL refuses all three.
    good_png = open(os.path.join(out, "rgb8.png"), "rb").read()
    good_jpg = open(os.path.join(out, "baseline.jpg"), "rb").read()
    corrupt = bytearray(good_png)
    corrupt[60:200] = rng.integers(0, 256, 140, dtype=np.uint8).tobytes()
    open(os.path.join(out, "corrupt.png"), "wb").write(bytes(corrupt))
    open(os.path.join(out, "truncated.png"), "wb").write(good_png[: len(good_png) // 2])
    open(os.path.join(out, "truncated.jpg"), "wb").write(good_jpg[: len(good_jpg) * 2 // 3])
    for name in ("corrupt.png", "truncated.png", "truncated.jpg"):
        try:
            Image.open(os.path.join(out, name)).convert("RGB")
            print("WARNING: PIL decodes", name)
        except Exception as e:
            print(name, "-> PIL:", type(e).__name__, e)


def write_png_adam7(path, arr, color_type):
    """PIL cannot write interlaced PNGs: a minimal 8-bit Adam7 writer. Each pass is its own sub-image;
    rows are filtered with Sub (type 1) and Up (type 2) alternately, so unfiltering is exercised too."""
    h, w = arr.shape[:2]
    arr = arr.reshape(h, w, -1)
    bpp = arr.shape[2]
    raw = bytearray()
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        sub = arr[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        previous = np.zeros(sub.shape[1] * bpp, np.int32)
        for i, row in enumerate(sub):
            line = row.reshape(-1).astype(np.int32)
            if i % 2 == 0:
                left = np.concatenate([np.zeros(bpp, np.int32), line[:-bpp]])
                raw += b"\x01" + ((line - left) % 256).astype(np.uint8).tobytes()
            else:
                raw += b"\x02" + ((line - previous) % 256).astype(np.uint8).tobytes()
            previous = line
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 1)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + png_chunk(b"IEND", b""))


def make_png_chunks():
    """decode/: 8-bit PNGs with the chunks that change nothing in PIL's convert('RGB') (gAMA, cHRM, sRGB,
    iCCP, tRNS on RGB and gray) and Adam7-interlaced files, appended to decode/cases.txt. A decoder that
    applied gamma or a colour profile, or composited the transparent colour, would differ from PIL here."""
    from PIL import PngImagePlugin
    out = os.path.join(HERE, "decode")
    rgb = np.asarray(Image.fromarray(photo("chelsea.png")[60:230, 120:350]).resize((23, 17), Image.LANCZOS))
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    alpha = np.linspace(0, 255, 23 * 17).reshape(17, 23).astype(np.uint8)
    icc = bytes(range(256)) * 2  # any bytes: PIL keeps the profile in info, it does not apply it

    def info(*chunks):
        pnginfo = PngImagePlugin.PngInfo()
        for kind, data in chunks:
            pnginfo.add(kind, data)
        return pnginfo

    gama = (b"gAMA", struct.pack(">I", 45455))
    chrm = (b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))
    files = []
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "rgb8_gama_iccp.png"), pnginfo=info(gama, chrm), icc_profile=icc)
    files.append("rgb8_gama_iccp.png")
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "rgb8_srgb_trns.png"), pnginfo=info((b"sRGB", b"\x00"), gama),
                                     transparency=tuple(int(v) for v in rgb[3, 5]))
    files.append("rgb8_srgb_trns.png")
    Image.fromarray(gray, "L").save(os.path.join(out, "gray8_trns_gama.png"), pnginfo=info((b"gAMA", struct.pack(">I", 100000))),
                                    transparency=int(gray[2, 2]))
    files.append("gray8_trns_gama.png")
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(os.path.join(out, "rgba8_gama_iccp.png"), pnginfo=info(gama), icc_profile=icc)
    files.append("rgba8_gama_iccp.png")
    write_png_adam7(os.path.join(out, "rgb8_adam7.png"), rgb, 2); files.append("rgb8_adam7.png")
    write_png_adam7(os.path.join(out, "rgba8_adam7.png"), np.dstack([rgb, alpha]), 6); files.append("rgba8_adam7.png")
    write_png_adam7(os.path.join(out, "gray8_adam7.png"), gray, 0); files.append("gray8_adam7.png")
    for name, source in (("rgb8_adam7.png", rgb), ("rgba8_adam7.png", rgb), ("gray8_adam7.png", np.dstack([gray] * 3))):
        decoded = np.asarray(Image.open(os.path.join(out, name)).convert("RGB"))
        assert (decoded == source).all(), f"PIL does not decode {name} to its source pixels"
    cases_path = os.path.join(out, "cases.txt")
    lines = [l for l in open(cases_path).read().splitlines() if l.split(" ")[0] not in files]
    for name in files:
        im = Image.open(os.path.join(out, name))
        arr = np.asarray(im.convert("RGB"))
        arr.tofile(os.path.join(out, name + ".rgb"))
        lines.append(f"{name} {arr.shape[1]} {arr.shape[0]} 0 {im.mode}")
        print(name, im.mode, sorted(k for k in im.info if k != "icc_profile"), "icc" if "icc_profile" in im.info else "")
    open(cases_path, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    if os.environ.get("GENMETRICS_FIXTURES_ONLY") == "png-chunks":
        make_png_chunks()
        sys.exit(0)
    if os.environ.get("GENMETRICS_FIXTURES_ONLY") == "photos":
        make_photos()
        sys.exit(0)
    if os.environ.get("GENMETRICS_FIXTURES_ONLY") == "center-crop":
        make_center_crop()
        sys.exit(0)
    make_resize()
    make_center_crop()
    make_photos()
    make_decode()
    make_png_chunks()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(HERE) for f in fs)
    print(f"fixtures total {total} bytes")
