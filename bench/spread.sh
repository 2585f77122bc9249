#!/bin/bash
# spread.sh JOB INPUT "RANKS" "SEEDS" [extra sanet options]: one run per rank count and
# seed (into ${SPREAD_OUT:-build/spread}), then per run its ACC and the ARI of its labels
# against the first run, and the ACC spread. One run at a time. For docs/accuracy.md.
set -u
job=$1; in=$2; ranks=$3; seeds=$4; shift 4
out=${SPREAD_OUT:-build/spread}; mkdir -p "$out"
dirs=()
for s in $seeds; do for np in $ranks; do
  d=$out/$(basename "$job" .yaml)-np$np-s$s; rm -rf "$d"
  ./tools/mpirun.sh "$np" build/sanet -options_file "$job" -input "$in" -output "$d" -seed "$s" "$@" >"$d.log" 2>&1 </dev/null && dirs+=("$d") || echo "np=$np seed=$s failed: $d.log"
done; done
[ ${#dirs[@]} -gt 0 ] || exit 1
/usr/bin/python3 - "${dirs[@]}" <<'PY'
import sys, h5py
from sklearn.metrics import adjusted_rand_score
R = [h5py.File(d + "/result.h5", "r") for d in sys.argv[1:]]
acc = [float(r.attrs["ACC"]) for r in R]
for d, r, a in zip(sys.argv[1:], R, acc):
    print("%-40s ACC %.4f  neig %d  ARI vs first %.4f" % (d.rsplit("/", 1)[-1], a, r.attrs["neig"], adjusted_rand_score(R[0]["labels"][...], r["labels"][...])))
print("ACC spread %.4f (min %.4f, max %.4f)" % (max(acc) - min(acc), min(acc), max(acc)))
PY
