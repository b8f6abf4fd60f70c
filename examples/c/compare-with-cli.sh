#!/usr/bin/env sh
# CTest: the C example's numbers must equal the CLI's on the same files, to 1e-6 relative
# (both go through the same managed code; the tolerance only absorbs printing).
#   compare-with-cli.sh EXAMPLE REAL.npy FAKE.npy CLI-COMMAND...
set -eu
example=$1 real=$2 fake=$3
shift 3

ours=$("$example" "$real" "$fake" 3 cpu)
theirs=$("$@" metrics "$real" "$fake" --metrics fid,pr,prdc --k 3 --backend cpu --json -)
echo "C example:"; echo "$ours"
echo "CLI JSON:"; echo "$theirs"

status=0
for key in fid precision recall prdc_precision prdc_recall density coverage; do
  a=$(printf '%s\n' "$ours" | awk -v k="$key" '$1 == k { print $2 }')
  # The CLI's JSON is flat with one "key": value per line.
  b=$(printf '%s\n' "$theirs" | sed -n "s/^ *\"$key\": *\([^,]*\),*$/\1/p")
  if [ -z "$a" ] || [ -z "$b" ]; then
    echo "FAIL: $key missing (example: '$a', CLI: '$b')"
    status=1
    continue
  fi
  if awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; s = (b < 0 ? -b : b); exit !(d <= 1e-6 * s + 1e-12) }'; then
    echo "ok: $key $a vs $b"
  else
    echo "FAIL: $key differs: example $a, CLI $b"
    status=1
  fi
done
exit $status
