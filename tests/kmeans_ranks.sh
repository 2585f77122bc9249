#!/bin/bash
# Runs test_kmeans at 1, 2 and 4 ranks on overlapping blobs and on scikit-learn's 8x8
# digits (real data) and compares the clusterings across rank counts: identical labels
# expected; required ARI >= 0.99 and inertia equal to 1e-9 relative.
set -e
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
"$PY" -c "
from sklearn.datasets import load_digits
X = load_digits().data / 16.0
with open('$TMP/digits.txt', 'w') as f:
    f.write('%d %d\n' % X.shape)
    for r in X: f.write(' '.join(repr(float(v)) for v in r) + '\n')
"
run() { # name np args...
  local name=$1 np=$2; shift 2
  ./tools/mpirun.sh "$np" "$BUILD/tests/test_kmeans" -labels_out "$TMP/$name.$np.txt" "$@" > "$TMP/$name.$np.log" </dev/null
  grep '^kmeans: N=' "$TMP/$name.$np.log" | sed "s/^/np=$np /"
}
for set in blobs digits; do
  if [ $set = blobs ]; then args=(-n 20000 -dim 20 -k 10 -spread 6 -serial_check 0)
  else args=(-data "$TMP/digits.txt" -k 10 -serial_check 0); fi
  for np in 1 2 4; do run $set $np "${args[@]}"; done
  "$PY" - "$TMP" "$set" <<'PYEOF'
import sys, re, numpy as np
from sklearn.metrics import adjusted_rand_score as ari
d, s = sys.argv[1], sys.argv[2]
lab = {np_: np.loadtxt(f"{d}/{s}.{np_}.txt", dtype=int) for np_ in (1, 2, 4)}
ine = {np_: float(re.search(r"inertia=(\S+)", open(f"{d}/{s}.{np_}.log").read()).group(1)) for np_ in (1, 2, 4)}
ok = True
for np_ in (2, 4):
    a = ari(lab[1], lab[np_]); same = (lab[1] == lab[np_]).all(); rel = abs(ine[np_] - ine[1]) / ine[1]
    print(f"{s}: np=1 vs np={np_}: identical={same} ARI={a:.6f} inertia rel diff={rel:.2e}")
    ok &= a >= 0.99 and rel <= 1e-9
sys.exit(0 if ok else 1)
PYEOF
done
