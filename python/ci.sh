#!/usr/bin/env bash
# CI for the Python package: builds the wheel around the published C library with Debian's python3-build
# and setuptools (no download), installs it into a fresh virtual environment (numpy from the system
# site-packages; nothing from a Python index) and runs the pytest suite, which compares every function
# with the genmetrics CLI. Needs the NativeAOT publish and the CLI's Release build (examples/c/run-ctest.sh
# makes both). A pytest run that collects no test fails here (pytest's exit code 5).
set -euo pipefail
cd "$(dirname "$0")/.."
py=/usr/bin/python3   # Debian's Python, where apt installs python3-build and friends

missing=()
for pkg in python3-build:build python3-venv:ensurepip python3-numpy:numpy python3-setuptools:setuptools python3-pytest:pytest python3-wheel:wheel; do
  "$py" -c "import ${pkg#*:}" >/dev/null 2>&1 || missing+=("${pkg%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
fi

libdir=${GENMETRICS_LIBRARY_DIR:-src/Engine/bin/Release/net10.0/linux-x64/publish}
cli=${GENMETRICS_CLI:-$PWD/src/Cli/bin/Release/net10.0/genmetrics}
[ -f "$libdir/libgenmetrics.so" ] || { echo "FAIL: $libdir/libgenmetrics.so missing (run examples/c/run-ctest.sh first)"; exit 1; }

echo "== wheel (python3 -m build --wheel --no-isolation python)"
start=$SECONDS
rm -rf python/build python/dist
GENMETRICS_LIBRARY_DIR="$PWD/$libdir" "$py" -m build --wheel --no-isolation python >/dev/null
wheel=$(ls python/dist/genmetrics-*.whl)
echo "built $wheel ($(du -h "$wheel" | cut -f1)) in $((SECONDS - start)) s"

echo "== fresh venv, pip install --no-index, pytest"
venv=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$venv" "$work"' EXIT
"$py" -m venv --system-site-packages "$venv"
"$venv/bin/pip" install --no-index --no-deps --disable-pip-version-check -q "$wheel"
cp -r python/tests "$work/tests"   # run outside the source tree: the installed package is the one imported
set +e
(cd "$work" && GENMETRICS_CLI="$cli" "$venv/bin/python" -m pytest -q -p no:cacheprovider tests)
status=$?
set -e
if [ "$status" -eq 5 ]; then echo "FAIL: pytest collected no test"; exit 1; fi
exit "$status"
