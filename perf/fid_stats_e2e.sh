#!/bin/sh
# CLI FID from two statistics files, end to end, alternating builds so that the machine's load hits both alike.
#   perf/fid_stats_e2e.sh RUNS A_STATS B_STATS GENMETRICS [GENMETRICS...]
# Make the files with perf/make_fid_stats.py. Prints one line per run: build, wall s, user s, sys s, page faults.
runs=$1 a=$2 b=$3
shift 3
i=0
while [ "$i" -lt "$runs" ]; do
  for exe in "$@"; do
    out=$( { /usr/bin/time -f '%e %U %S %R' "$exe" metrics "$a" "$b" --metrics fid --backend cpu -q >/dev/null; } 2>&1 )
    echo "$exe $out"
  done
  i=$((i + 1))
done
