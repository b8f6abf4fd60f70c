#!/bin/bash
# End-to-end images -> FID-Inception pool3 on the CPU: genmetrics (legacy-pytorch and clean) vs torch 1.13
# fed as pytorch-fid feeds it, interleaved, each under /usr/bin/time (wall, user, sys; children included).
# Usage: perf/e2e_inception_vs_torch.sh IMAGES_DIR CHECKPOINT.pth RUNS
#   CHECKPOINT.pth: perf/make_random_inception.py's file, installed into $GENMETRICS_HOME with
#   `genmetrics models install inception --from CHECKPOINT.pth --allow-unverified` (same weights both sides).
# TORCH_NO_WORKERS=1 adds a torch run with the decoding in the main process (DataLoader num_workers=0).
# Set GENMETRICS_HOME to a private folder; GM to the genmetrics binary (default: the Release build).
set -euo pipefail
dir=$1; ckpt=$2; runs=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
GM=${GM:-$here/../src/Cli/bin/Release/net10.0/genmetrics}
out=$(mktemp -d)
n=$(find "$dir" -maxdepth 1 -type f | wc -l)
echo "images: $n in $dir; $(nproc) cores; GENMETRICS_HOME=${GENMETRICS_HOME:-unset}"
t() { # label, command...
  local label=$1; shift
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %U %S" -o "$out/time" "$@" > "$out/log" 2>&1 || { cat "$out/log"; exit 1; }
  read -r wall user sys < "$out/time"
  printf '%-22s load %5s  wall %7.2f s  user %7.2f s  sys %6.2f s  cpu %7.2f s  %6.2f images/s\n' \
    "$label" "$load" "$wall" "$user" "$sys" "$(echo "$user + $sys" | bc)" "$(echo "scale=2; $n / $wall" | bc)"
  grep -h "torch:" "$out/log" || true
}
for r in $(seq 1 "$runs"); do
  echo "--- run $r ($(date -u +%H:%M:%S))"
  t "genmetrics legacy-pt" "$GM" features "$dir" -o "$out/gm-legacy.npy" --network inception --layer pool3 \
    --mode legacy-pytorch --no-cache --device cpu --batch-size 50 -q
  t "torch (pytorch-fid)" /usr/bin/python3 "$here/torch_inception_e2e.py" "$dir" "$ckpt" "$out/torch.npy" --threads 2 --batch 50
  if [ -n "${TORCH_NO_WORKERS:-}" ]; then
    t "torch, num_workers 0" /usr/bin/python3 "$here/torch_inception_e2e.py" "$dir" "$ckpt" "$out/torch0.npy" --threads 2 --batch 50 --workers 0
  fi
  t "genmetrics clean" "$GM" features "$dir" -o "$out/gm-clean.npy" --network inception --layer pool3 \
    --mode clean --no-cache --device cpu --batch-size 50 -q
done
/usr/bin/python3 -c "
import numpy as np, sys
a = np.load('$out/gm-legacy.npy'); b = np.load('$out/torch.npy')
print(f'legacy-pytorch vs torch on all {len(a)} images: max abs diff {abs(a - b).max():.3g}, max abs {abs(b).max():.3g}, ratio {abs(a - b).max() / abs(b).max():.3g}')"
rm -rf "$out"
