#!/usr/bin/python3
"""A FID-Inception checkpoint with synthetic weights, for timing `genmetrics features` against torch offline.

The network's speed does not depend on its weight values, and the official pt_inception-2015-12-05 file
cannot be downloaded here. This writes a state_dict with exactly the keys and shapes of pytorch-fid's
FIDInceptionA/C/E network (torchvision Inception3 module names, fc 2048->1008, no aux classifier), in
torch's legacy serialisation like the official file, filled with the deterministic formula weights of
tests/Engine.Tests/Fixtures/models/make_fixtures.py (He-uniform conv/fc weights, BN near identity), so
the features are finite and not degenerate. Install it with
    GENMETRICS_HOME=/tmp/gm-home genmetrics models install inception --from FILE --allow-unverified
Run: /usr/bin/python3 perf/make_random_inception.py OUT.pth   (Debian python3-torch 1.13, python3-torchvision)."""
import importlib.util
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def fixtures_module():
    """The torch definition of FID-Inception already used by the model tests (one definition, not two)."""
    path = os.path.join(HERE, "..", "tests", "Engine.Tests", "Fixtures", "models", "make_fixtures.py")
    spec = importlib.util.spec_from_file_location("gm_model_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/random_inception.pth"
    net = fixtures_module().fid_inception()
    sd = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(sd, out, _use_new_zipfile_serialization=False)
    print(f"{out}: {len(sd)} tensors, {sum(v.numel() for v in sd.values()):,} parameters")
