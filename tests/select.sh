#!/bin/bash
# select.sh CASE: the label-free choice of K (-clusters auto) and of the head's
# eigenvector count (-neig auto), and the stability of the final clustering.
#   blobs K : 8x8 images drawn around K random prototypes (noise 0.08, well separated);
#             one image-level spectral layer with neig auto and clusters auto must find
#             K and the blobs (ARI >= 0.99 against the generating labels)
#   small K : K blobs of 4 images, fewer images than the default K range: the range
#             shrinks to the images, a -clusters_range past them is refused before work
#   nolabels: data/mnist-2000.h5 with and without /labels: the same eigenvector count,
#             the same K estimate, the same clusters (the choice never reads labels)
#   ranks S : data/mnist-shuffled-2000.h5 with jobs/mnist-small.yaml at seed S on 1, 2
#             and 3 ranks: ARI >= 0.99 between every pair, and 2 ranks twice identical
set -e
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
run() { # out np args...
  local out=$1 np=$2; shift 2
  timeout 300 ./tools/mpirun.sh "$np" "$BUILD/sanet" -output "$TMP/$out" "$@" >"$TMP/$out.log" 2>&1 || { tail -n 30 "$TMP/$out.log"; echo "FAIL: sanet exited non-zero (np=$np, $out)"; exit 1; }
  grep -E '^(quality|estimated K|k-means):' "$TMP/$out.log" | sed "s/^/$out np=$np: /"
}
case "$1" in
blobs|small)
  K=$2; n=60; [ "$1" = small ] && n=4
  "$PY" - "$TMP/blobs.h5" "$K" "$n" <<'PY'
import sys, h5py, numpy as np
path, K, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(K)
protos = rng.random((K, 8, 8))
y = np.repeat(np.arange(K), n)
x = np.clip(protos[y] + 0.08 * rng.standard_normal((K * n, 8, 8)), 0, 1)
perm = rng.permutation(K * n)
with h5py.File(path, "w") as f:
    f["images"] = (x[perm, :, :, None] * 255).round().astype(np.uint8)
    f["truth"] = y[perm]
PY
  if [ "$1" = small ]; then # fewer images than the default K range: it shrinks; a given range must fit
    out=$(./tools/mpirun.sh 2 "$BUILD/sanet" -input "$TMP/blobs.h5" -output "$TMP/x" -network salimg -salimg_patch 8 -salimg_pad false -salimg_center false \
      -salimg_procedures a -salimg_a_k 3 -salimg_a_neig auto -salimg_a_neig_range 2,6 -clusters_range 2,50 2>&1) && { echo "FAIL: -clusters_range 2,50 accepted for $((K * n)) images"; exit 1; }
    echo "$out" | grep -q -- "-clusters_range 2,50 goes past the $((K * n)) images" || { echo "$out" | tail -5; echo "FAIL: no clear error for a K range past the images"; exit 1; }
    [ -e "$TMP/x/result.h5" ] && { echo "FAIL: a refused run left a result"; exit 1; }
    run b 2 -input "$TMP/blobs.h5" -network salimg -salimg_patch 8 -salimg_pad false -salimg_center false \
      -salimg_procedures a -salimg_a_k 3 -salimg_a_neig auto -salimg_a_neig_range 2,6 -salimg_a_row_normalize
  else
  run b 2 -input "$TMP/blobs.h5" -network salimg -salimg_patch 8 -salimg_pad false -salimg_center false \
    -salimg_procedures a -salimg_a_k 10 -salimg_a_neig auto -salimg_a_neig_range 2,20 -salimg_a_row_normalize -clusters auto
  fi
  "$PY" - "$TMP/blobs.h5" "$TMP/b/result.h5" "$K" <<'PY'
import sys, h5py
from sklearn.metrics import adjusted_rand_score
y = h5py.File(sys.argv[1], "r")["truth"][...]
r = h5py.File(sys.argv[2], "r"); K = int(sys.argv[3])
assert int(r.attrs["K"]) == K, f"clusters auto chose {int(r.attrs['K'])}, the data have {K}"
ari = adjusted_rand_score(y, r["labels"][...])
assert ari >= 0.99, f"ARI {ari:.4f} against the blobs"
sel = r["selection"][...]
assert sel.shape[1] == 5 and len(sel) > 1, sel.shape
print(f"K={K}: chose K={int(r.attrs['K'])} neig={int(r.attrs['neig'])}, ARI {ari:.4f}, {len(sel)} candidates")
PY
  ;;
nolabels)
  "$PY" -c "
import h5py, sys
with h5py.File('data/mnist-2000.h5','r') as a, h5py.File('$TMP/nolab.h5','w') as b: b['images'] = a['images'][...]"
  # K from the labels (estimate printed) against the same K given; K auto both ways
  run with 2 -input data/mnist-2000.h5 -options_file jobs/mnist-small.yaml -seed 3
  run without 2 -input "$TMP/nolab.h5" -options_file jobs/mnist-small.yaml -seed 3 -clusters 10
  run withauto 2 -input data/mnist-2000.h5 -options_file jobs/mnist-small.yaml -seed 3 -clusters auto
  run auto 2 -input "$TMP/nolab.h5" -options_file jobs/mnist-small.yaml -seed 3
  "$PY" - "$TMP" <<'PY'
import sys, h5py, numpy as np
t = sys.argv[1]
a, b, c, d = (h5py.File(f"{t}/{x}/result.h5", "r") for x in ("with", "without", "withauto", "auto"))
for k in ("neig", "K", "modularity"):
    assert a.attrs[k] == b.attrs[k], f"{k}: {a.attrs[k]} with labels, {b.attrs[k]} without"
assert np.array_equal(a["labels"][...], b["labels"][...]), "labels differ with and without /labels"
sa, sb = a["selection"][...], b["selection"][...]
assert np.array_equal(sa[:len(sb)], sb), "the eigenvector-count candidates score differently"
for k in ("neig", "K", "K_estimate", "modularity"):
    assert c.attrs[k] == d.attrs[k], f"clusters auto, {k}: {c.attrs[k]} with labels, {d.attrs[k]} without"
assert np.array_equal(c["labels"][...], d["labels"][...]), "clusters auto: labels differ with and without /labels"
assert np.array_equal(c["selection"][...], d["selection"][...]), "clusters auto: candidate scores differ"
print("same choice with and without /labels: neig", a.attrs["neig"], "at K=10; auto: K", d.attrs["K"], "neig", d.attrs["neig"])
PY
  ;;
ranks)
  S=$2
  for np in 1 2 3; do run r$np $np -input data/mnist-shuffled-2000.h5 -options_file jobs/mnist-small.yaml -seed "$S"; done
  run r2again 2 -input data/mnist-shuffled-2000.h5 -options_file jobs/mnist-small.yaml -seed "$S"
  "$PY" - "$TMP" <<'PY'
import sys, h5py, numpy as np, itertools
from sklearn.metrics import adjusted_rand_score
t = sys.argv[1]
F = {d: h5py.File(f"{t}/{d}/result.h5", "r") for d in ("r1", "r2", "r3", "r2again")}
L = {d: f["labels"][...] for d, f in F.items()}
for d in ("r2", "r3"):
    for k in ("K", "neig", "K_estimate"):
        assert F[d].attrs[k] == F["r1"].attrs[k], f"{k}: {F[d].attrs[k]} at {d}, {F['r1'].attrs[k]} at 1 rank"
    q, q1 = F[d].attrs["modularity"], F["r1"].attrs["modularity"]
    # the head graphs differ by rounding (a few edges), so a few boundary images may move
    assert abs(q - q1) <= 1e-3, f"modularity {q} at {d}, {q1} at 1 rank"
assert np.array_equal(L["r2"], L["r2again"]), "same seed and rank count, different labels"
for a, b in itertools.combinations(("r1", "r2", "r3"), 2):
    ari = adjusted_rand_score(L[a], L[b])
    print(f"ARI {a} {b}: {ari:.4f}")
    assert ari >= 0.99, f"ARI {ari:.4f} between {a} and {b}"
PY
  ;;
*) echo "usage: $0 blobs K | small K | nolabels | ranks SEED"; exit 2;;
esac
