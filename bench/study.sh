#!/bin/bash
# study.sh DATA.h5 SEEDS [VARIANTS] [REGEX]
#   Runs each named variant (a list of sanet options) once per seed on DATA.h5, one
#   sanet at a time, and prints one line per variant: mean and (min..max) of ACC, NMI,
#   ARI and FS over the seeds, and the mean wall time.
#   SEEDS    a count n (seeds 0..n-1) or a comma list (0,3,7; one seed s: "s,")
#   VARIANTS file of lines "NAME OPTION..." (default bench/variants.txt); '#' starts a
#            comment; a line "@include FILE" is not supported, use -options_file FILE
#   REGEX    only variants whose name matches (grep -E)
# Environment: NP (ranks, default 2), SANET (default build/sanet), OUT (run directory,
# default a new temporary one; every run's log stays there as NAME.sSEED.log),
# RAW (file that also gets one line per run: data name seed ACC NMI ARI FS seconds).
set -u
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
data=$1 seeds=$2 vfile=${3:-bench/variants.txt} regex=${4:-.}
NP=${NP:-2} SANET=${SANET:-build/sanet} OUT=${OUT:-$(mktemp -d /tmp/study.XXXXXX)}
[ -r "$data" ] || { echo "study.sh: cannot read $data" >&2; exit 2; }
[ -r "$vfile" ] || { echo "study.sh: cannot read $vfile" >&2; exit 2; }
[ -x "$SANET" ] || { echo "study.sh: $SANET not built (make build/sanet)" >&2; exit 2; }
if [[ $seeds =~ ^[0-9]+$ ]]; then seedlist=$(seq 0 $((seeds - 1))); else seedlist=${seeds//,/ }; fi
[ -n "$seedlist" ] || { echo "study.sh: SEEDS '$seeds' names no seed (one seed s: \"s,\")" >&2; exit 2; }
mkdir -p "$OUT"
raw=$OUT/raw.txt
: >>"$raw"
echo "# data $data, seeds $(echo $seedlist), $NP ranks, variants $vfile, logs in $OUT"
printf '%-28s %3s  %-20s %-20s %-20s %-20s %6s\n' variant n ACC NMI ARI FS sec
grep -vE '^[[:space:]]*(#|$)' "$vfile" | while read -r name opts; do
  echo "$name" | grep -qE -- "$regex" || continue
  for s in $seedlist; do
    log="$OUT/$name.s$s.log"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086 # options are word-split on purpose
    timeout 1800 ./tools/mpirun.sh "$NP" "$SANET" -input "$data" -output "$OUT/$name.s$s" -seed "$s" $opts </dev/null >"$log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    line=$(tail -n 1 "$log")
    if [ $rc -eq 0 ] && [[ $line == metrics:* ]]; then
      echo "$name $s $(echo "$line" | sed -E 's/.*ACC=([0-9.]+) NMI=([0-9.]+) ARI=([0-9.]+) FS=([0-9.]+).*/\1 \2 \3 \4/') $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" >>"$raw"
    else
      echo "$name $s FAIL rc=$rc: $(grep -m1 -E 'ERROR|error' "$log" | cut -c1-150)" >>"$raw"
    fi
    [ -n "${RAW:-}" ] && tail -n 1 "$raw" | sed "s|^|$(basename "$data") |" >>"$RAW"
  done
  awk -v n="$name" '$1 == n && $3 != "FAIL" {
      c++; for (i = 0; i < 4; i++) { v = $(3 + i); s[i] += v; if (c == 1 || v < lo[i]) lo[i] = v; if (c == 1 || v > hi[i]) hi[i] = v }
      t += $7 }
    $1 == n && $3 == "FAIL" { f++ }
    END {
      if (!c) { printf "%-28s %3d  all runs failed (see logs)\n", n, 0; exit }
      printf "%-28s %3d ", n, c
      for (i = 0; i < 4; i++) printf " %.3f (%.3f..%.3f)", s[i] / c, lo[i], hi[i]
      printf " %6.0f%s\n", t / c, f ? sprintf("  (%d failed)", f) : ""
    }' "$raw"
done
