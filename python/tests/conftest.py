"""The reference numbers: the genmetrics CLI's output on the committed fixtures.

With GENMETRICS_CLI set (a command line, e.g. "src/Cli/bin/Release/net10.0/genmetrics" or
"dotnet run --project src/Cli -c Release --"), each case runs the CLI now; without it, the outputs that
write_expected.py saved from the CLI in fixtures/expected/ are used.
"""
import json
import os
import shlex
import subprocess
import tempfile

import numpy as np
import pytest

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
EXPECTED = os.path.join(FIXTURES, "expected")


def fixture(name):
    return os.path.join(FIXTURES, name)


REAL, FAKE, LOGITS = fixture("real.npy"), fixture("fake.npy"), fixture("logits.npy")
IMAGES_REAL, IMAGES_FAKE, TINY_ONNX = fixture("images/real"), fixture("images/fake"), fixture("tiny.onnx")
CPU = ["--backend", "cpu"]

# name -> (CLI arguments; "{out}" is an output file whose content is the result, else stdout is JSON)
CASES = {
    "fid": ["metrics", REAL, FAKE, "--metrics", "fid", "--json", "-"] + CPU,
    "kid": ["metrics", REAL, FAKE, "--metrics", "kid", "--kid-subsets", "20", "--kid-subset-size", "100", "--seed", "7", "--json", "-"] + CPU,
    "pr_k3": ["metrics", REAL, FAKE, "--metrics", "pr", "--k", "3", "--json", "-"] + CPU,
    "prdc_k5": ["metrics", REAL, FAKE, "--metrics", "pr,prdc", "--k", "5", "--json", "-"] + CPU,
    "sym_k5": ["metrics", REAL, FAKE, "--metrics", "sym", "--k", "5", "--json", "-"] + CPU,
    "is": ["is", LOGITS, "--splits", "4", "--json", "-"],
    "is_shuffled": ["is", LOGITS, "--splits", "4", "--shuffle", "--seed", "3", "--json", "-"],
    "realism_k3": ["realism", REAL, FAKE, "--k", "3", "-o", "{out}.npy"] + CPU,
    "stats_real": ["stats", REAL, "-o", "{out}.npz", "--backend", "cpu"],
    "stats_fake_n": ["stats", FAKE, "--cov-divisor", "n", "-o", "{out}.npz", "--backend", "cpu"],
    "images_fid": ["metrics", IMAGES_REAL, IMAGES_FAKE, "--metrics", "fid", "--network", TINY_ONNX, "--network-output", "pool",
                   "--mode", "clean", "--no-cache", "--json", "-"] + CPU,
}


def run_cli(name, command):
    """Runs one case; returns a dict (JSON) or a numpy array / npz dict (output files)."""
    args = list(CASES[name])
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, name)
        args = [a.replace("{out}", out) for a in args]
        done = subprocess.run(shlex.split(command) + args, capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError(f"genmetrics {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        files = [a for a in args if a.startswith(out)]
        if not files:
            return json.loads(done.stdout)
        loaded = np.load(files[0])
        return dict(loaded) if files[0].endswith(".npz") else loaded


def load_expected(name):
    for ext in (".json", ".npy", ".npz"):
        path = os.path.join(EXPECTED, name + ext)
        if os.path.isfile(path):
            if ext == ".json":
                with open(path, encoding="utf-8") as f:
                    return json.load(f)
            loaded = np.load(path)
            return dict(loaded) if ext == ".npz" else loaded
    raise AssertionError(f"no CLI output for {name}: set GENMETRICS_CLI or run python/tests/write_expected.py")


@pytest.fixture(scope="session")
def cli():
    """cli(name): the CLI's result for CASES[name]."""
    command = os.environ.get("GENMETRICS_CLI")
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_cli(name, command) if command else load_expected(name)
        return cache[name]
    return get


@pytest.fixture(scope="session", autouse=True)
def isolated_home():
    """The feature cache and model store of this run live in a temporary GENMETRICS_HOME."""
    with tempfile.TemporaryDirectory() as home:
        previous = os.environ.get("GENMETRICS_HOME")
        os.environ["GENMETRICS_HOME"] = home
        yield home
        if previous is None:
            os.environ.pop("GENMETRICS_HOME", None)
        else:
            os.environ["GENMETRICS_HOME"] = previous
