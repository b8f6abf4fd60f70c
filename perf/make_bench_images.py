#!/usr/bin/python3
"""Folders for `genmetrics bench --only images --images DIR` and PIL's time on them (the issue-12 baseline).

Writes DIR/jpeg/NNN.jpg (quality 90) and DIR/png/NNN.png: 96 images 256x256, smooth sinusoids with
uniform noise (so they compress like photos, not like flat cards). Then times, on one thread with the
file bytes already in memory, what clean-fid does per image: Image.open(...).convert('RGB'), then each
channel as a mode-F float32 image resized to 299x299 with BICUBIC. Prints images/s per core.
Run: /usr/bin/python3 perf/make_bench_images.py DIR   (Debian python3-pil, python3-numpy)."""
import io, os, sys, time
import numpy as np
from PIL import Image

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/genmetrics-bench-images"
rng = np.random.default_rng(1)
y, x = np.mgrid[0:256, 0:256]
for kind in ("jpeg", "png"):
    os.makedirs(os.path.join(out, kind), exist_ok=True)
for n in range(96):
    fx, fy, phase = 0.02 + rng.random() * 0.1, 0.02 + rng.random() * 0.1, rng.random() * 6
    img = np.stack([128 + 90 * np.sin(fx * x * (c + 1) + fy * y + phase) for c in range(3)], axis=-1)
    img = np.clip(img + rng.integers(-20, 21, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(os.path.join(out, "jpeg", f"{n:03}.jpg"), quality=90)
    Image.fromarray(img).save(os.path.join(out, "png", f"{n:03}.png"))


def clean(data):
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return [np.asarray(Image.fromarray(rgb[:, :, c].astype(np.float32), mode="F").resize((299, 299), Image.BICUBIC)) for c in range(3)]


def decode(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


for kind in ("jpeg", "png"):
    folder = os.path.join(out, kind)
    files = [open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))]
    for name, work in (("decode", decode), ("decode+clean-299", clean)):
        for f in files[:2]:
            work(f)
        times = []
        for _ in range(5):
            start = time.process_time()
            for f in files:
                work(f)
            times.append((time.process_time() - start) / len(files))
        per = sorted(times)[2]
        print(f"PIL {Image.__version__} {kind} {name}: {per * 1e3:.2f} ms/image, {1 / per:.0f} images/s per core (CPU time)")
