"""Saves the CLI's outputs for every test case in fixtures/expected/ (the fallback when GENMETRICS_CLI is unset).

    GENMETRICS_CLI=src/Cli/bin/Release/net10.0/genmetrics /usr/bin/python3 python/tests/write_expected.py
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import CASES, EXPECTED, run_cli  # noqa: E402

command = os.environ.get("GENMETRICS_CLI")
if not command:
    sys.exit("set GENMETRICS_CLI to the genmetrics command line")
os.makedirs(EXPECTED, exist_ok=True)
for name in CASES:
    result = run_cli(name, command)
    if isinstance(result, dict) and all(isinstance(v, np.ndarray) for v in result.values()):
        np.savez(os.path.join(EXPECTED, name + ".npz"), **result)
    elif isinstance(result, np.ndarray):
        np.save(os.path.join(EXPECTED, name + ".npy"), result)
    else:
        # Fixture paths are machine-specific: keep the numbers only.
        with open(os.path.join(EXPECTED, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    print("wrote", name)
