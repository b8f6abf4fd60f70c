#!/usr/bin/python3
"""How torch 1.13's CPU F.interpolate(bilinear, align_corners=False) computes its source indices and
weights: an input whose channel 0 is 1 on even columns and channel 1 is 1 on odd columns gives, per output
column, the two weights exactly. They are compared with candidate formulas; only "dbl_keep" (float32 scale,
position and fraction in double, weight rounded to float32 once) matches every weight. Resampling.cs
PyTorchIndices follows it. Run with Debian's /usr/bin/python3 (python3-torch 1.13); prints, writes nothing.
"""
import torch, numpy as np
import torch.nn.functional as F
def probe(n_in, n_out):
    x = np.zeros((1, 2, 1, n_in), np.float32)
    x[0, 0, 0, 0::2] = 1; x[0, 1, 0, 1::2] = 1
    y = F.interpolate(torch.from_numpy(x), size=(1, n_out), mode="bilinear", align_corners=False).numpy()[0, :, 0, :]
    return y  # even weight, odd weight
def cand(n_in, n_out, variant):
    j = np.arange(n_out)
    if variant == "f32":
        scale = np.float32(n_in) / np.float32(n_out)
        s = np.maximum(np.float32(0), scale * (j.astype(np.float32) + np.float32(0.5)) - np.float32(0.5)).astype(np.float32)
    elif variant == "dbl_from_f32scale":
        scale = np.float64(np.float32(n_in) / np.float32(n_out))
        s = np.maximum(0, (scale * (j + 0.5) - 0.5)).astype(np.float32)
    elif variant == "dbl":
        scale = n_in / n_out
        s = np.maximum(0, (scale * (j + 0.5) - 0.5))
    elif variant == "dbl_keep":
        scale = np.float64(np.float32(n_in) / np.float32(n_out))
        s = np.maximum(0, (scale * (j + 0.5) - 0.5))
    i0 = np.floor(s).astype(np.int64)
    l1 = (s - i0).astype(np.float32)
    l0 = (np.float32(1) - l1).astype(np.float32)
    return i0, l0, l1
for n_in, n_out in [(640, 299), (427, 299), (752, 224), (512, 299)]:
    y = probe(n_in, n_out)
    for v in ["f32", "dbl_from_f32scale", "dbl", "dbl_keep"]:
        i0, l0, l1 = cand(n_in, n_out, v)
        even = np.where(i0 % 2 == 0, l0, l1); odd = np.where(i0 % 2 == 0, l1, l0)
        last = i0 >= n_in - 1
        d = np.maximum(np.abs(even - y[0]), np.abs(odd - y[1]))[~last]
        print(n_in, n_out, v, "max weight diff", d.max(), "n differ", (d > 0).sum())
