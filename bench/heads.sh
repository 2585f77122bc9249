#!/bin/bash
# heads.sh JOB INPUT OUTDIR [RANKS] [SEED] [extra sanet options]: the head's eigenvector
# count chosen by -neig auto beside every fixed count 10..24, for docs/accuracy.md.
# The first run computes (or, with stage files in OUTDIR, reuses) every layer; the
# variants reuse the layer stages through -resume and recompute the head alone. Prints
# one row per run: the count, the modularity of its clustering (label-free), and ACC.
# HEADS="10 14 20" sets the fixed counts; AUTO=0 skips the automatic run.
set -u
job=$1; in=$2; out=$3; np=${4:-2}; seed=${5:-0}; shift 5 2>/dev/null || shift $#
head=$(awk '/^network:/ {n=split($2, a, ","); print a[n]}' "$job")
proc=$(awk -v h="$head:" '$1 == h {f=1; next} f && /procedures:/ {print $2; exit}' "$job")
run() { # tag extra...
  local tag=$1; shift
  ./tools/mpirun.sh "$np" build/sanet -options_file "$job" -input "$in" -output "$out" -seed "$seed" -resume "$@" >"$out.$tag.log" 2>&1 </dev/null || { echo "$tag: failed, see $out.$tag.log"; return; }
  local q acc d
  q=$(sed -n 's/^quality: modularity \([0-9.]*\).*/\1/p' "$out.$tag.log")
  acc=$(sed -n 's/^metrics: ACC=\([0-9.]*\).*/\1/p' "$out.$tag.log")
  d=$(sed -n 's/^k-means: [0-9]* clusters of \([0-9]*\)-dimensional.*/\1/p' "$out.$tag.log")
  printf '%-6s %4s  modularity %s  ACC %s\n' "$tag" "$d" "$q" "$acc"
}
[ "${AUTO:-1}" = 0 ] || run auto "$@"
for m in ${HEADS:-10 12 14 16 18 20 22 24}; do run "$m" -"${head}_${proc}_neig" "$m" "$@"; done
