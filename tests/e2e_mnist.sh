#!/bin/bash
# e2e_mnist.sh CASE: end-to-end runs of build/sanet on the first 500 digits of
# data/mnist-2000.h5 (50 per class) with jobs/mnist-small.yaml.
#   metrics : last stdout line format, ACC floor, result.h5 contents vs printed line
#   repeat  : same seed, same rank count twice -> identical /labels
#   ranks   : 1, 2 and 4 ranks -> ARI >= 0.99 between label vectors
# ACC measured at 2 ranks, seed 1: 0.696 with jobs/mnist-small.yaml (chance: 0.10); the
# floor 0.40 stays well below it so that rounding across machines cannot trip it.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
ACC_FLOOR=0.40
N=500
"$PY" tests/subset.py data/mnist-2000.h5 "$TMP/m500.h5" "$N"
run() { # out np [extra args]
  local out=$1 np=$2; shift 2
  local t0=$(date +%s)
  timeout 300 ./tools/mpirun.sh "$np" "$BUILD/sanet" -input "$TMP/m500.h5" -output "$TMP/$out" \
    -options_file jobs/mnist-small.yaml -seed 1 "$@" >"$TMP/$out.log" 2>&1 || { tail -n 30 "$TMP/$out.log"; echo "FAIL: sanet exited non-zero (np=$np)"; exit 1; }
  echo "np=$np $out: $(tail -n 1 "$TMP/$out.log") ($(( $(date +%s) - t0 )) s)"
}
case "$1" in
metrics)
  run a 2
  last=$(tail -n 1 "$TMP/a.log")
  echo "$last" | grep -qE '^metrics: ACC=[0-9]\.[0-9]{4} NMI=[0-9]\.[0-9]{4} ARI=[0-9]\.[0-9]{4} FS=[0-9]\.[0-9]{4}$' || { echo "FAIL: last stdout line is not the metrics line: '$last'"; exit 1; }
  "$PY" - "$TMP/a/result.h5" "$last" "$N" "$ACC_FLOOR" "$TMP/m500.h5" <<'PYEOF'
import sys, re, h5py, numpy as np
from sklearn import metrics as skm
path, line, N, floor, inp = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
vals = dict((k, float(v)) for k, v in re.findall(r'(ACC|NMI|ARI|FS)=([0-9.]+)', line))
assert vals['ACC'] >= floor, f"ACC {vals['ACC']} below the floor {floor}"
f = h5py.File(path, 'r')
lab = f['labels']
assert lab.shape == (N,), f"/labels shape {lab.shape}, want ({N},)"
assert lab.dtype == np.int32, f"/labels dtype {lab.dtype}, want int32"
lab = lab[()]
K = 10
assert lab.min() >= 0 and lab.max() <= K - 1, f"/labels outside 0..{K-1}: {lab.min()}..{lab.max()}"
feat = f['features']
assert feat.ndim == 2 and feat.shape[0] == N and feat.shape[1] >= 1, f"/features shape {feat.shape}"
assert feat.dtype == np.float64, f"/features dtype {feat.dtype}"
assert np.all(np.isfinite(feat[()])), "/features has non-finite values"
for k in ('ACC', 'NMI', 'ARI', 'FS'):
    assert k in f.attrs, f"attribute {k} missing on the root group"
    a = float(np.asarray(f.attrs[k]).ravel()[0])
    assert round(a, 4) == vals[k] or abs(a - vals[k]) <= 5e-5 + 1e-12, f"attribute {k}={a} but printed {vals[k]}"
# the printed metrics are the metrics of /labels against the ground truth
truth = h5py.File(inp, 'r')['labels'][()]
from scipy.optimize import linear_sum_assignment
C = np.zeros((K, K)); np.add.at(C, (truth, lab), 1)
r, c = linear_sum_assignment(-C)
ref = {'ACC': C[r, c].sum() / N, 'NMI': skm.normalized_mutual_info_score(truth, lab), 'ARI': skm.adjusted_rand_score(truth, lab)}
for k, v in ref.items():
    assert abs(v - vals[k]) <= 5e-5 + 1e-9, f"printed {k}={vals[k]} but sklearn on /labels gives {v:.6f}"
print("result.h5 ok:", lab.shape, feat.shape, vals)
PYEOF
  ;;
repeat)
  run a 2; run b 2
  "$PY" -c "
import h5py, numpy as np, sys
a = h5py.File('$TMP/a/result.h5','r')['labels'][()]; b = h5py.File('$TMP/b/result.h5','r')['labels'][()]
d = int((a != b).sum())
assert d == 0, f'same seed and rank count: {d} of {a.size} labels differ'
print('identical labels')"
  ;;
ranks)
  run r1 1; run r2 2; run r4 4
  "$PY" -c "
import h5py
from sklearn.metrics import adjusted_rand_score as ari
L = {p: h5py.File('$TMP/r%d/result.h5' % p,'r')['labels'][()] for p in (1, 2, 4)}
bad = []
for p, q in ((1, 2), (1, 4), (2, 4)):
    s = ari(L[p], L[q]); print(f'ARI np={p} vs np={q}: {s:.4f}')
    if s < 0.99: bad.append((p, q, s))
assert not bad, f'clusterings differ across rank counts: {bad}'"
  ;;
*) echo "usage: $0 metrics|repeat|ranks"; exit 2;;
esac
echo PASS
