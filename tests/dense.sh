#!/bin/bash
# Dense (fully connected) procedures inside a network: Nystrom and mini-batch beside a
# kNN procedure on 300 digits (10,800 layer-1 patches, whose dense affinity would take
# 0.9 GB). The run must finish under a 64 MB graph budget with a small peak memory,
# print a progress line per dense procedure, and reach an accuracy above chance.
set -e
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
"$PY" tests/subset.py data/mnist-2000.h5 "$TMP/m300.h5" 300
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
/usr/bin/time -v "$BUILD/sanet" -input "$TMP/m300.h5" -output "$TMP/out" -network sal1,pool,bin,code \
  -sal1_patch 11 -sal1_stride 5 -sal1_graph_budget_mb 64 -sal1_procedures knn,ny,mb \
  -sal1_knn_k 9 -sal1_knn_neig 16 -sal1_knn_row_normalize \
  -sal1_ny_affinity full -sal1_ny_weight selftune -sal1_ny_method nystrom -sal1_ny_neig 16 -sal1_ny_row_normalize \
  -sal1_mb_affinity full -sal1_mb_weight gaussian -sal1_mb_sigma 0.5 -sal1_mb_method minibatch -sal1_mb_neig 16 -sal1_mb_mb_steps 20 \
  -kmeans_restarts 3 > "$TMP/log" 2> "$TMP/time" || { tail -20 "$TMP/log"; grep -v "^	" "$TMP/time" | tail -20; echo "FAIL: run failed"; exit 1; }
cat "$TMP/log"
grep -q '^sal1 ny: ' "$TMP/log" || { echo "FAIL: no Nystrom progress line"; exit 1; }
grep -q '^sal1 mb: ' "$TMP/log" || { echo "FAIL: no mini-batch progress line"; exit 1; }
grep -q 'affinity full (never formed; 64 SMGA columns' "$TMP/log" || { echo "FAIL: plan does not show the dense procedure"; exit 1; }
rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$TMP/time")
echo "peak memory ${rss} kB"
[ "$rss" -lt 400000 ] || { echo "FAIL: peak memory ${rss} kB"; exit 1; }
acc=$(tail -n 1 "$TMP/log" | sed -n 's/^metrics: ACC=\([0-9.]*\).*/\1/p')
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.25 else 1)" "$acc" || { echo "FAIL: ACC $acc"; exit 1; }
