#!/usr/bin/python3
"""Fixtures for tests/Engine.Tests/Models (run with Debian's /usr/bin/python3 + python3-torch/torchvision).

Weights and inputs are not stored: they follow a formula the C# tests reproduce bit for bit
(see SyntheticWeights.cs):
  seed(name) = FNV-1a 32-bit of the UTF-8 name
  x = (seed + i * 0x9E3779B9) mod 2^32, then the "lowbias32" integer hash
      x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16   (all mod 2^32)
  u = x / 2^32 * 2 - 1  in [-1, 1)   (i = flat row-major index in the tensor)
  value, computed in float64 and rounded once to float32:
    *.running_var            1 + 0.25 (u + 1)
    *.running_mean           0.1 u
    *.num_batches_tracked    0 (int64)
    *.bias                   0.1 u
    *.weight, 1-D (BN gamma) 1 + 0.1 u
    *.weight, >= 2-D         u sqrt(6 / fan_in), fan_in = product of shape[1:]  (He-uniform: activations keep their scale)
  network input "input" [N,3,H,W]: u
Outputs written (float32 little-endian, row-major):
  tiny_zip.pt / tiny_legacy.pt    a tiny state_dict in both torch.save formats (reader test)
  fid_inception_outputs.bin       pool3 [2,2048], logits [2,1008], logits_unbiased [2,1008] for input [2,3,299,299]
  vgg16_outputs.bin               fc2 [1,4096], fc2_relu [1,4096] for input [1,3,224,224]
"""
import os
import numpy as np
import torch
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


def fnv1a(name):
    h = 0x811C9DC5
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def uniform(name, count):
    out = np.empty(count, dtype=np.float64)
    seed = np.uint32(fnv1a(name))
    chunk = 1 << 22
    for start in range(0, count, chunk):
        i = np.arange(start, min(count, start + chunk), dtype=np.uint64)
        x = ((np.uint64(seed) + i * np.uint64(0x9E3779B9)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
        out[start:start + len(i)] = x.astype(np.float64) / 4294967296.0 * 2.0 - 1.0
    return out


def synthetic(name, shape):
    count = int(np.prod(shape)) if len(shape) else 1
    if name.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=torch.int64)
    u = uniform(name, count)
    if name.endswith("running_var"):
        v = 1.0 + 0.25 * (u + 1.0)
    elif name.endswith("running_mean") or name.endswith("bias"):
        v = 0.1 * u
    elif len(shape) == 1:
        v = 1.0 + 0.1 * u
    else:
        v = u * np.sqrt(6.0 / int(np.prod(shape[1:])))
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def fill(model):
    sd = model.state_dict()
    model.load_state_dict({k: synthetic(k, tuple(t.shape)) for k, t in sd.items()})
    return model


# ---- tiny checkpoint for the reader ------------------------------------------------------------------
class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, bias=False)
        self.bn = torch.nn.BatchNorm2d(4, eps=0.001)
        self.fc = torch.nn.Linear(4, 5)


def tiny_fixtures():
    sd = fill(Tiny()).state_dict()
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd["extra.transposed"] = base.t()                       # non-contiguous view: stride (1, 4)
    sd["extra.sliced"] = base[1:, 1:3]                      # storage offset 5, stride (4, 1)
    sd["extra.double"] = torch.tensor([0.5, -1.25, 3.0], dtype=torch.float64)
    sd["extra.long"] = torch.tensor([7, -3, 1 << 40], dtype=torch.int64)
    torch.save(sd, os.path.join(HERE, "tiny_zip.pt"))
    torch.save(sd, os.path.join(HERE, "tiny_legacy.pt"), _use_new_zipfile_serialization=False)
    # A TorchScript archive (the format of NVIDIA's inception-2015-12-05.pt), which the reader must refuse.
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), os.path.join(HERE, "tiny_torchscript.pt"))


# ---- FID-Inception, written from the spec (torchvision Inception3 + the FID differences) ---------------
tv = torchvision.models.inception


class FidA(tv.InceptionA):
    def forward(self, x):
        pool = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(pool)], 1)


class FidC(tv.InceptionC):
    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        d = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(self.branch7x7dbl_2(d))))
        pool = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(pool)], 1)


class FidE(tv.InceptionE):
    def __init__(self, in_channels, max_pool):
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        if self.max_pool:
            pool = F.max_pool2d(x, 3, stride=1, padding=1)
        else:
            pool = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pool)], 1)


def fid_inception():
    net = tv.Inception3(num_classes=1008, aux_logits=False, transform_input=False, init_weights=False)
    net.Mixed_5b = FidA(192, pool_features=32)
    net.Mixed_5c = FidA(256, pool_features=64)
    net.Mixed_5d = FidA(288, pool_features=64)
    net.Mixed_6b = FidC(768, channels_7x7=128)
    net.Mixed_6c = FidC(768, channels_7x7=160)
    net.Mixed_6d = FidC(768, channels_7x7=160)
    net.Mixed_6e = FidC(768, channels_7x7=192)
    net.Mixed_7b = FidE(1280, max_pool=False)
    net.Mixed_7c = FidE(2048, max_pool=True)
    return fill(net).eval()


def inception_forward(net, x):
    for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"]:
        x = getattr(net, name)(x)
    x = F.max_pool2d(x, 3, stride=2)
    x = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(x))
    x = F.max_pool2d(x, 3, stride=2)
    for name in ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
                 "Mixed_7a", "Mixed_7b", "Mixed_7c"]:
        x = getattr(net, name)(x)
    pool3 = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
    logits_unbiased = pool3 @ net.fc.weight.t()
    return pool3, logits_unbiased + net.fc.bias, logits_unbiased


def report(label, t):
    print(f"{label}: shape {tuple(t.shape)} mean {t.mean():.4g} std {t.std():.4g} max|.| {t.abs().max():.4g}")


def inception_fixtures():
    torch.set_num_threads(2)
    net = fid_inception()
    x = torch.from_numpy(uniform("input", 2 * 3 * 299 * 299).astype(np.float32).reshape(2, 3, 299, 299))
    with torch.no_grad():
        pool3, logits, unbiased = inception_forward(net, x)
    for label, t in [("pool3", pool3), ("logits", logits), ("logits_unbiased", unbiased)]:
        report(label, t)
    blob = np.concatenate([t.numpy().astype("<f4").ravel() for t in (pool3, logits, unbiased)])
    blob.tofile(os.path.join(HERE, "fid_inception_outputs.bin"))


def vgg_fixtures():
    net = fill(torchvision.models.vgg16(weights=None)).eval()
    x = torch.from_numpy(uniform("input", 1 * 3 * 224 * 224).astype(np.float32).reshape(1, 3, 224, 224))
    with torch.no_grad():
        h = torch.flatten(net.avgpool(net.features(x)), 1)
        fc2 = net.classifier[3](net.classifier[1](net.classifier[0](h)))
    report("fc2", fc2)
    np.concatenate([fc2.numpy().ravel(), F.relu(fc2).numpy().ravel()]).astype("<f4").tofile(os.path.join(HERE, "vgg16_outputs.bin"))


if __name__ == "__main__":
    tiny_fixtures()
    inception_fixtures()
    if os.environ.get("SKIP_VGG") != "1":
        vgg_fixtures()
