#!/bin/bash
# SanetKNNIVF on real rows: the 3,600 layer-1 patches (11x11, stride 5, padded, centred;
# 121 dims, a third of them exactly zero) of the first 100 digits of data/mnist-2000.h5.
#   knn_ivf.sh recall NP   recall@17 against SanetKNNExact at nprobe 1, 2, 4, 8, 16 of the
#                          default 60 lists: never falls, >= 0.95 at nprobe 8
#   knn_ivf.sh exact NP    nprobe = nlist gives the exact result, every id and distance
#   knn_ivf.sh small NP    1,800 lists of ~2 rows, nprobe 1: probes extend until the lists
#                          hold the candidates (or cover every list); the output stays valid
#   knn_ivf.sh ranks       the same lists (digest of ids and distance bits) at 1, 2 and 4
#                          ranks for the same seed, at two settings
#   knn_ivf.sh too_many    more lists than rows: a clear error naming the option
#   knn_ivf.sh layer       a network with -sal1_knn ivf: the plan shows it, the layer runs it
set -u
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}" || exit 2
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
/usr/bin/python3 tests/subset.py data/mnist-2000.h5 "$TMP/m100.h5" 100 || exit 1
run() { # NP ARGS...
  local np=$1; shift
  OPENBLAS_NUM_THREADS=1 ./tools/mpirun.sh "$np" "$BUILD/tests/test_knn_ivf" -input "$TMP/m100.h5" "$@"
}
case $1 in
  recall) run "$2" -sweep 1,2,4,8 -recall_min 0.95 && run "$2" -sweep 8,16 -recall_min 0.99 ;;
  exact) run "$2" -knn_nprobe 60 -expect_exact && run "$2" -knn_nlist 7 -knn_nprobe 7 -expect_exact ;;
  small) run "$2" -knn_nlist 1800 -knn_nprobe 1 -recall_min 0.9 ;;
  ranks)
    status=0
    for args in "-knn_nprobe 4" "-knn_nlist 150 -knn_nprobe 2"; do
      for np in 1 2 4; do
        # shellcheck disable=SC2086 # the settings split into words on purpose
        run "$np" $args | grep '^digest' >"$TMP/np$np" || exit 1
      done
      for np in 2 4; do
        if cmp -s "$TMP/np1" "$TMP/np$np"; then echo "same lists at $np ranks: $args ($(cat "$TMP/np1"))"
        else echo "DIFFERENT lists at $np ranks: $args: $(cat "$TMP/np1") vs $(cat "$TMP/np$np")"; status=1; fi
      done
    done
    exit $status ;;
  too_many) run 2 -knn_nlist 5000 -expect_error "-knn_nlist 5000 must be in [1, 3600]" ;;
  layer)
    ./tools/mpirun.sh 2 "$BUILD/sanet" -input "$TMP/m100.h5" -output "$TMP/out" -network sal1 -sal1_patch 11 -sal1_stride 5 \
      -sal1_procedures a -sal1_a_k 9 -sal1_a_neig 8 -sal1_knn ivf -sal1_knn_nprobe 4 >"$TMP/log" 2>&1
    rc=$?
    cat "$TMP/log"
    [ $rc -eq 0 ] && grep -q '^  sal1: spectral analysis.*, IVF kNN (nlist about sqrt of the rows, nprobe 4)$' "$TMP/log" &&
      grep -q '^  kNN ivf: 60 lists (.*), 4 probed per row' "$TMP/log" && grep -q '^metrics: ' "$TMP/log" ;;
  *) echo "usage: $0 recall|exact|small NP, or ranks, too_many, layer" >&2; exit 2 ;;
esac
