#!/bin/bash
# Compares build/tests/test_metrics -truth/-pred against scikit-learn on random label
# vectors (sizes, class and cluster counts vary; some labels skipped). Tolerance 1e-10.
set -e
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
for trial in 0 1 2 3 4 5 6 7; do
  "$PY" - "$TMP" "$trial" <<'PYEOF'
import sys, numpy as np
d, trial = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1000 + trial)
n = [1, 7, 50, 300, 2000, 20000, 70000, 5][trial]
kt, kp = [(1, 1), (3, 5), (4, 2), (10, 10), (10, 15), (10, 10), (10, 12), (5, 5)][trial]
t = rng.integers(0, kt, n)
# predictions correlated with the truth, with noise
p = np.where(rng.random(n) < 0.6, t % kp, rng.integers(0, kp, n))
if trial == 7: p = t.copy()
if trial == 3: t, p = 2 * t, 3 * p  # gaps in the label ranges
np.savetxt(f"{d}/truth.txt", t, fmt="%d"); np.savetxt(f"{d}/pred.txt", p, fmt="%d")
PYEOF
  ours=$("$BUILD/tests/test_metrics" -truth "$TMP/truth.txt" -pred "$TMP/pred.txt")
  "$PY" - "$TMP" "$ours" <<'PYEOF'
import sys, numpy as np
from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari
from sklearn.metrics.cluster import contingency_matrix
from scipy.optimize import linear_sum_assignment
d, ours = sys.argv[1], [float(x) for x in sys.argv[2].split()]
t = np.loadtxt(f"{d}/truth.txt", dtype=np.int64, ndmin=1); p = np.loadtxt(f"{d}/pred.txt", dtype=np.int64, ndmin=1)
C = contingency_matrix(t, p).astype(np.int64)
r, c = linear_sum_assignment(-C)
tp = (C * (C - 1) // 2).sum(); a = C.sum(1); b = C.sum(0)
fs = 0.0 if tp == 0 else 2 * tp / ((a * (a - 1) // 2).sum() + (b * (b - 1) // 2).sum())
ref = [C[r, c].sum() / len(t), nmi(t, p), ari(t, p), fs]
names = ["ACC", "NMI", "ARI", "FS"]
bad = [f"{n}: ours {o!r} sklearn {s!r}" for n, o, s in zip(names, ours, ref) if abs(o - s) > 1e-10]
print(f"n={len(t)}", " ".join(f"{n}={o:.6f}" for n, o in zip(names, ours)), "MISMATCH " + "; ".join(bad) if bad else "ok")
sys.exit(1 if bad else 0)
PYEOF
done
