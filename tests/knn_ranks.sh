#!/bin/sh
# SanetKNNExact must give identical neighbour lists and distances (to the last bit) at
# 1, 2 and 4 ranks and with other tile sizes: the data depend only on global row indices.
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
out=${TMP:-$(mktemp -d)}
run() { # NP NAME ARGS...: writes the -view listing (timing line dropped) to $out/NAME
  np=$1; name=$2; shift 2
  ./tools/mpirun.sh "$np" "$BUILD/tests/test_knn" -check 0 -view "$@" >"$out/$name.raw" || exit 1
  grep -v '^kNN time' "$out/$name.raw" >"$out/$name"
}
status=0
for case in "random -n 1500 -dim 21 -k 17" "pool -n 900 -k 9" "random -n 700 -k 5 -offset 50"; do
  # shellcheck disable=SC2086 # split the case into words on purpose
  set -- $case
  data=$1; shift
  run 1 ref -data "$data" "$@"
  [ "$(wc -l <"$out/ref")" -gt 100 ] || { echo "no neighbour listing for -data $data $*"; exit 1; }
  for np in 2 4; do
    run "$np" np$np -data "$data" "$@"
    if cmp -s "$out/ref" "$out/np$np"; then echo "same at $np ranks: -data $data $*"
    else echo "DIFFERENT at $np ranks: -data $data $*"; diff "$out/ref" "$out/np$np" | head -5; status=1; fi
  done
  run 3 tiles -data "$data" "$@" -knn_tile_queries 5 -knn_tile_refs 37
  if cmp -s "$out/ref" "$out/tiles"; then echo "same at 3 ranks, small tiles: -data $data $*"
  else echo "DIFFERENT at 3 ranks with small tiles: -data $data $*"; diff "$out/ref" "$out/tiles" | head -5; status=1; fi
done
exit $status
