#!/bin/bash
# The default network's plan on 2,000 digits gives a rough time for every stage and in
# total; layer 1 with the exact all-pairs kNN (and a small eigensolve) is estimated far
# costlier than with the IVF search that scans 8 of its ~270 lists (about 16 times less
# work); the total is at least layer 1's time.
set -e
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
fail() { echo "FAIL: $*"; exit 1; }
plan() { ./tools/mpirun.sh 2 "$BUILD/sanet" -input data/mnist-2000.h5 -dry_run "$@"; }
# "under 1 s", "14 s", "3 min", "1.2 h" -> seconds
secs() { awk '{ if ($1 == "under") print 0.5; else if ($2 == "s") print $1; else if ($2 == "min") print $1 * 60; else if ($2 == "h") print $1 * 3600; else print "bad" }'; }
stage1() { awk '/^  sal1:/ { on = 1 } on && /^    output/ { print; exit }' | sed 's/.* ranks*, //' | secs; }

# one procedure of 2 eigenvectors in layer 1: its time is then mostly the neighbour search
exact=$(plan -sal1_procedures knn9 -sal1_knn9_neig 2)
ivf=$(plan -sal1_procedures knn9 -sal1_knn9_neig 2 -sal1_knn ivf)
[ "$(grep -c '^    output .* per image, about [0-9]* MB per rank on 2 ranks, \(under 1 s\|[0-9.]* \(s\|min\|h\)\)$' <<<"$exact")" = "$(grep -c '^    output' <<<"$exact")" ] || fail "not every stage has a time: $(grep '^    output' <<<"$exact")"
grep -q '^  clustering and scoring: \(under 1 s\|[0-9.]* \(s\|min\|h\)\)$' <<<"$exact" || fail "no time for the clustering"
grep -q '^estimated time: .* (rough: counted flops at the measured [0-9.]* Gflop/s per rank in products and [0-9.]* in memory-bound work)$' <<<"$exact" || fail "no total time line"
a=$(stage1 <<<"$exact"); b=$(stage1 <<<"$ivf")
echo "layer 1: exact kNN $a s, IVF $b s"
awk -v a="$a" -v b="$b" 'BEGIN { exit !(a >= 3 * b) }' || fail "exact kNN ($a s) not estimated far above IVF ($b s)"
total=$(sed -n 's/^estimated time: \(.*\) (rough.*/\1/p' <<<"$exact" | secs)
awk -v t="$total" -v a="$a" 'BEGIN { exit !(t >= a) }' || fail "total $total s below layer 1's $a s"
echo "ok"
