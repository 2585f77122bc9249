#!/bin/bash
# Inertia of our k-means against scikit-learn's KMeans (n_init=10) on the same data:
# well separated blobs (must agree to 1e-6 relative) and the 8x8 digits (reported;
# ours must not be worse by more than 1%, k-means having local minima).
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
"$BUILD/tests/test_kmeans" -n 6000 -dim 10 -k 8 -spread 1 -check_ari -write "$TMP/blobs.txt" > "$TMP/blobs.log"
"$BUILD/tests/test_kmeans" -data "$TMP/digits.txt" -k 10 -serial_check 0 > "$TMP/digits.log"
"$PY" - "$TMP" <<'PYEOF'
import sys, re, numpy as np
from sklearn.cluster import KMeans
d = sys.argv[1]; ok = True
for name, K, tol in (("blobs", 8, 1e-6), ("digits", 10, 1e-2)):
    X = np.loadtxt(f"{d}/{name}.txt", skiprows=1)
    ours = float(re.search(r"inertia=(\S+)", open(f"{d}/{name}.log").read()).group(1))
    sk = KMeans(n_clusters=K, n_init=10, random_state=0).fit(X).inertia_
    rel = (ours - sk) / sk
    print(f"{name}: ours={ours:.10e} sklearn={sk:.10e} rel={rel:+.2e}")
    ok &= (abs(rel) <= tol) if name == "blobs" else (rel <= tol)
sys.exit(0 if ok else 1)
PYEOF
