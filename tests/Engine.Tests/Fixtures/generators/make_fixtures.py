"""Tiny ONNX generators with seeded random weights, and what torch computes from them.

Run with Debian's python3 (torch, onnx, numpy): /usr/bin/python3 make_fixtures.py
Writes, next to this script:
  latents.json                 numpy RandomState(s).randn(1, 512): first and last 8 values, float64
  single/{single.onnx, generator.json}             z [N,16] -> image [N,3,8,8]
  single_psi/{single_psi.onnx, generator.json}     z [N,16], psi [1] -> image [N,3,8,8]
  single_class/{single_class.onnx, generator.json}  z [N,16], one-hot c [N,3] -> image [N,3,8,8]
  stylegan/{mapping.onnx, synthesis.onnx, generator.json}
                               mapping z [N,16] -> w [N,16]; synthesis ws [N,4,16] -> image [N,3,8,8]
  expected.json                images for seeds 3 and 7 computed here by torch in float64 from the numpy
                               latents, with the truncation done here too, so the C# test checks the chain
                               seed -> latent -> ONNX -> image.
"""
import json
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
Z = 16
W = 16
L = 4
SEEDS = [3, 7]
CLASSES = 3
torch.manual_seed(20261123)


def latent(seed, z=Z):
    return np.random.RandomState(seed).randn(1, z)


class Single(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(Z, 3 * 8 * 8)

    def forward(self, z):
        return torch.tanh(self.fc(z)).reshape(-1, 3, 8, 8)


class SinglePsi(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(Z, 3 * 8 * 8)

    def forward(self, z, psi):
        # Outputs in [0, 1] so that the output_range setting is exercised.
        return torch.sigmoid(self.fc(z * psi)).reshape(-1, 3, 8, 8)


class SingleClass(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(Z + CLASSES, 3 * 8 * 8)

    def forward(self, z, c):
        return torch.tanh(self.fc(torch.cat([z, c], dim=1))).reshape(-1, 3, 8, 8)


class Mapping(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(Z, W)
        self.fc2 = torch.nn.Linear(W, W)

    def forward(self, z):
        return self.fc2(torch.nn.functional.leaky_relu(self.fc1(z), 0.2))


class Synthesis(torch.nn.Module):
    """Each style layer has its own projection, so truncating only the first layers changes the image."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(W, 3 * 8 * 8) for _ in range(L)])

    def forward(self, ws):
        acc = self.layers[0](ws[:, 0])
        for i in range(1, L):
            acc = acc + self.layers[i](ws[:, i]) * (0.5 ** i)
        return torch.tanh(acc).reshape(-1, 3, 8, 8)


def export(module, args, path, input_names, output_names, dynamic):
    module.eval()
    torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic, opset_version=13)


def main():
    os.makedirs(os.path.join(HERE, "single"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "single_psi"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "stylegan"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "single_class"), exist_ok=True)

    latents = {str(s): {"first": latent(s, 512)[0, :8].tolist(), "last": latent(s, 512)[0, -8:].tolist()}
               for s in [0, 1, 42, 123456789, 4294967295]}
    with open(os.path.join(HERE, "latents.json"), "w") as f:
        json.dump(latents, f, indent=1)

    single, single_psi, mapping, synthesis = Single(), SinglePsi(), Mapping(), Synthesis()
    single_class = SingleClass()  # made last: the other modules' weights stay as before it existed
    z0 = torch.zeros(2, Z)
    export(single, (z0,), os.path.join(HERE, "single", "single.onnx"), ["z"], ["img"], {"z": {0: "n"}, "img": {0: "n"}})
    export(single_psi, (z0, torch.ones(1)), os.path.join(HERE, "single_psi", "single_psi.onnx"), ["z", "psi"], ["img"],
           {"z": {0: "n"}, "img": {0: "n"}})
    export(mapping, (z0,), os.path.join(HERE, "stylegan", "mapping.onnx"), ["z"], ["w"], {"z": {0: "n"}, "w": {0: "n"}})
    export(synthesis, (torch.zeros(2, L, W),), os.path.join(HERE, "stylegan", "synthesis.onnx"), ["ws"], ["img"],
           {"ws": {0: "n"}, "img": {0: "n"}})

    export(single_class, (z0, torch.zeros(2, CLASSES)), os.path.join(HERE, "single_class", "single_class.onnx"), ["z", "c"],
           ["img"], {"z": {0: "n"}, "c": {0: "n"}, "img": {0: "n"}})
    with open(os.path.join(HERE, "single_class", "generator.json"), "w") as f:
        json.dump({"kind": "single", "model": "single_class.onnx", "latent_input": "z", "class_input": "c"}, f, indent=2)
    with open(os.path.join(HERE, "single", "generator.json"), "w") as f:
        json.dump({"kind": "single", "model": "single.onnx", "latent_input": "z", "output": "img"}, f, indent=2)
    with open(os.path.join(HERE, "single_psi", "generator.json"), "w") as f:
        json.dump({"kind": "single", "model": "single_psi.onnx", "latent_input": "z", "psi_input": "psi",
                   "output": "img", "output_range": [0, 1]}, f, indent=2)

    # The w_avg the C# side estimates when the description gives none: the mean of mapping(z) over 10000 z
    # drawn in one stream from RandomState(0).randn(10000, Z).
    d = torch.float64
    single_d, single_psi_d, mapping_d, synthesis_d, single_class_d = (
        m.to(d) for m in (single, single_psi, mapping, synthesis, single_class))
    with torch.no_grad():
        w_avg_est = mapping_d(torch.from_numpy(np.random.RandomState(0).randn(10000, Z))).mean(0)
        # The description carries its own w_avg (not the estimate), so the truncation test knows it exactly.
        w_avg = torch.from_numpy(np.random.RandomState(99).randn(W) * 0.1)
    with open(os.path.join(HERE, "stylegan", "generator.json"), "w") as f:
        json.dump({"kind": "stylegan", "mapping": "mapping.onnx", "synthesis": "synthesis.onnx",
                   "mapping_input": "z", "mapping_output": "w", "synthesis_input": "ws", "synthesis_output": "img",
                   "num_layers": L, "w_avg": w_avg.tolist()}, f, indent=2)

    expected = {"seeds": SEEDS, "w_avg_estimated": w_avg_est.tolist(), "cases": {}}
    with torch.no_grad():
        for s in SEEDS:
            z = torch.from_numpy(latent(s))
            w = mapping_d(z)
            ws = w.unsqueeze(1).repeat(1, L, 1)
            cases = {
                "single": single_d(z),
                "single_psi_0.5": single_psi_d(z, torch.tensor([0.5], dtype=d)),
                "stylegan_psi_1": synthesis_d(ws),
                "single_class_2": single_class_d(z, torch.tensor([[0.0, 0.0, 1.0]], dtype=d)),
            }
            t = ws.clone()
            t = w_avg + 0.7 * (t - w_avg)
            cases["stylegan_psi_0.7"] = synthesis_d(t)
            t = ws.clone()
            t[:, :2] = w_avg + 0.7 * (t[:, :2] - w_avg)
            cases["stylegan_psi_0.7_cutoff_2"] = synthesis_d(t)
            for name, img in cases.items():
                expected["cases"].setdefault(name, {})[str(s)] = img.reshape(-1).tolist()
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
