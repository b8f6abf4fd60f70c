#!/usr/bin/python3
"""Torch's side of the end-to-end timing: image folder -> FID-Inception pool3 features, fed as pytorch-fid
(0.3) feeds its network: files sorted by path, PIL Image.open(...).convert('RGB'), torchvision ToTensor,
a DataLoader with batch 50 and num_workers = the cores (pytorch-fid: min(cores, 8)), then inside the
model F.interpolate(bilinear, align_corners=False) to 299x299, 2x-1, the FID-Inception blocks (its
FIDInceptionA/C/E pool changes: the same module definition the model tests use, see
perf/make_random_inception.py) and the global average pool. Weights come from the checkpoint given, so
the same synthetic file can be installed into genmetrics.
Run: /usr/bin/python3 perf/torch_inception_e2e.py DIR CHECKPOINT.pth OUT.npy [--threads 2] [--workers N] [--batch 50]
Prints images/s over the whole run (model load excluded; printed separately) on stderr."""
import argparse
import os
import pathlib
import sys
import time

t_start = time.perf_counter()
import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as TF
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_random_inception import fixtures_module  # noqa: E402

EXTENSIONS = {"bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp"}


class Images(torch.utils.data.Dataset):
    def __init__(self, files):
        self.files = files
        self.to_tensor = TF.ToTensor()

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return self.to_tensor(Image.open(self.files[i]).convert("RGB"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=min(len(os.sched_getaffinity(0)), 8))
    ap.add_argument("--batch", type=int, default=50)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    fx = fixtures_module()
    fx.fill = lambda model: model  # the architecture only: the formula weights would cost seconds here
    net = fx.fid_inception()
    missing, unexpected = net.load_state_dict(torch.load(a.checkpoint, map_location="cpu"), strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        sys.exit(f"{a.checkpoint}: missing {missing}, unexpected {unexpected}")
    net.eval()
    t_loaded = time.perf_counter()

    path = pathlib.Path(a.dir)
    files = sorted(f for ext in EXTENSIONS for f in path.glob(f"*.{ext}"))
    loader = torch.utils.data.DataLoader(Images(files), batch_size=a.batch, shuffle=False, drop_last=False,
                                         num_workers=a.workers)
    out = np.empty((len(files), 2048), dtype=np.float32)
    start = 0
    with torch.no_grad():
        for batch in loader:
            x = F.interpolate(batch, size=(299, 299), mode="bilinear", align_corners=False)
            x = 2 * x - 1
            pool3, _, _ = fx.inception_forward(net, x)
            out[start:start + len(pool3)] = pool3.numpy()
            start += len(pool3)
    t_done = time.perf_counter()
    np.save(a.out, out)
    n = len(files)
    print(f"torch: {n} images, {n / (t_done - t_loaded):.2f} images/s (features {t_done - t_loaded:.2f} s; "
          f"start-up + model load {t_loaded - t_start:.2f} s; threads {a.threads}, workers {a.workers}, batch {a.batch})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
