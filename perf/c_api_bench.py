"""C API against the CLI: every call of libgenmetrics (through the genmetrics Python package, i.e. ctypes)
timed next to the same computation run by the genmetrics CLI, on the same random features.

    /usr/bin/python3 perf/c_api_bench.py [--sizes 5000x256,10000x2048] [--repeats 3] [--cli CMD] [--lib PATH]
                                         [--isa x86-64,x86-64-v3,x86-64-v4] [--only fid,kid,...]

C API: the median of --repeats calls after one untimed warm-up call (the first call of a process also
starts the library's runtime and pages its code in; that cold call is reported separately). The arrays are
already in memory, float32, C order (no copy on the Python side).
CLI: the median of --repeats runs of the whole process (start, reading the .npy files, the computation,
writing the result), which is what a user of the CLI waits for; `genmetrics --version` is timed too, so
the start-up share can be subtracted. Both run on the CPU backend, metric by metric (C API, then CLI) so that load changes hit both alike.
--isa runs the C API side once per library build (GENMETRICS_ISA), in child processes.
Prints one table per size; --json writes all rows.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLISH = os.path.join(ROOT, "src", "Engine", "bin", "Release", "net10.0", "linux-x64", "publish")
CLI = os.path.join(ROOT, "src", "Cli", "bin", "Release", "net10.0", "genmetrics")

# name -> (C API call on (genmetrics, real, fake), CLI arguments with {real} {fake} {out})
CASES = {
    "fid": (lambda g, r, f: g.fid(r, f, backend="cpu"), "metrics {real} {fake} --metrics fid"),
    "kid": (lambda g, r, f: g.kid(r, f, backend="cpu"), "metrics {real} {fake} --metrics kid"),
    "precision_recall": (lambda g, r, f: g.precision_recall(r, f, backend="cpu"), "metrics {real} {fake} --metrics pr --k 3"),
    "prdc": (lambda g, r, f: g.prdc(r, f, backend="cpu"), "metrics {real} {fake} --metrics pr,prdc --k 5"),
    "symmetric_pr": (lambda g, r, f: g.symmetric_precision_recall(r, f, backend="cpu"), "metrics {real} {fake} --metrics sym --k 5"),
    "realism": (lambda g, r, f: g.realism(r, f, backend="cpu"), "realism {real} {fake} --k 3 -o {out}.npy"),
    "stats": (lambda g, r, f: g.stats(r, backend="cpu"), "stats {real} -o {out}.npz"),
    "inception_score": (lambda g, r, f: g.inception_score(r), "is {real}"),
}


def data(n, d):
    real = np.random.RandomState(0).randn(n, d).astype(np.float32)
    fake = (0.9 * np.random.RandomState(1).randn(n, d) + 0.05).astype(np.float32)
    return real, fake


def time_c_api(lib, names, sizes, repeats):
    """Runs in this process: returns {size: {name: (cold, median)}}."""
    os.environ["GENMETRICS_LIBRARY"] = lib
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import genmetrics
    results = {"instruction_set": genmetrics.instruction_set()}
    for size in sizes:
        n, d = size
        real, fake = data(n, d)
        row = {}
        for name in names:
            call = CASES[name][0]
            start = time.perf_counter()
            call(genmetrics, real, fake)
            cold = time.perf_counter() - start
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                call(genmetrics, real, fake)
                times.append(time.perf_counter() - start)
            row[name] = (cold, statistics.median(times) if times else cold)
            print(f"  C API {n}x{d} {name}: {row[name][1]:.3f} s (first call {cold:.3f} s)", file=sys.stderr, flush=True)
        results[f"{n}x{d}"] = row
    return results


_startup = {}


def time_cli(cli, names, sizes, repeats, tmp):
    results = {}
    if True:
        def run(args):
            start = time.perf_counter()
            done = subprocess.run(shlex.split(cli) + args, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                raise SystemExit(f"{cli} {' '.join(args)}: {done.stderr.strip()}")
            return elapsed
        if "value" not in _startup:
            _startup["value"] = statistics.median(run(["--version"]) for _ in range(3))
        results["startup"] = _startup["value"]
        for n, d in sizes:
            paths = {"real": os.path.join(tmp, f"real{n}x{d}.npy"), "fake": os.path.join(tmp, f"fake{n}x{d}.npy"), "out": os.path.join(tmp, "out")}
            if not os.path.exists(paths["real"]):
                real, fake = data(n, d)
                np.save(paths["real"], real)
                np.save(paths["fake"], fake)
            row = {}
            for name in names:
                args = shlex.split(CASES[name][1].format(**paths)) + ["--backend", "cpu"]
                if name == "inception_score":
                    args = args[:-2]  # `is` has no backend: it runs on the CPU
                row[name] = statistics.median(run(args) for _ in range(repeats))
                print(f"  CLI   {n}x{d} {name}: {row[name]:.3f} s", file=sys.stderr, flush=True)
            results[f"{n}x{d}"] = row
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000x256,10000x2048")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cli", default=CLI, help="command line of the genmetrics CLI (default: the Release build)")
    parser.add_argument("--lib", default=os.path.join(PUBLISH, "libgenmetrics.so"))
    parser.add_argument("--isa", default="", help="comma-separated builds to time the C API with (default: the loader's choice)")
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    names = [n for n in args.only.split(",") if n]
    for n in names:
        if n not in CASES:
            parser.error(f"--only: unknown {n} ({', '.join(CASES)})")
    if args.child:
        print(json.dumps(time_c_api(args.lib, names, sizes, args.repeats)))
        return

    # Metric by metric, the C API (one child process per build) and then the CLI, so that a change in the
    # machine's load during the run hits both sides of a comparison alike.
    isas = args.isa.split(",") if args.isa else [""]
    c_results = {isa or "default": {} for isa in isas}
    cli = None if args.no_cli else {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            key = f"{size[0]}x{size[1]}"
            for name in names:
                for isa in isas:
                    env = dict(os.environ)
                    if isa:
                        env["GENMETRICS_ISA"] = isa
                    command = [sys.executable, os.path.abspath(__file__), "--child", "--sizes", key, "--repeats", str(args.repeats),
                               "--lib", args.lib, "--only", name]
                    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
                    if done.returncode != 0:
                        raise SystemExit(f"C API run ({isa or 'default'}, {name}) failed")
                    child = json.loads(done.stdout)
                    target = c_results[isa or "default"]
                    target["instruction_set"] = child["instruction_set"]
                    target.setdefault(key, {})[name] = child[key][name]
                if cli is not None:
                    part = time_cli(args.cli, [name], [size], args.repeats, tmp)
                    cli["startup"] = part["startup"]
                    cli.setdefault(key, {})[name] = part[key][name]

    load = os.getloadavg()
    print(f"# {os.cpu_count()} logical cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
          + (f"; CLI start-up (genmetrics --version) {cli['startup']:.3f} s" if cli else ""))
    for n, d in sizes:
        key = f"{n}x{d}"
        print(f"\n## {key} float32, CPU backend")
        header = f"{'call':18}" + "".join(f" {'C ' + c_results[i]['instruction_set'].split(' ')[0] + ' s':>14}" for i in c_results)
        header += f" {'first call s':>13}" + (f" {'CLI s':>8} {'C/CLI':>7}" if cli else "")
        print(header)
        for name in names:
            line = f"{name:18}" + "".join(f" {c_results[i][key][name][1]:14.3f}" for i in c_results)
            first = next(iter(c_results.values()))[key][name]
            line += f" {first[0]:13.3f}"
            if cli:
                line += f" {cli[key][name]:8.3f} {first[1] / cli[key][name]:7.2f}"
            print(line)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"c_api": c_results, "cli": cli, "load": load}, f, indent=2)


if __name__ == "__main__":
    main()
