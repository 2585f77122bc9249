#!/bin/bash
# occlude.sh: sanet-occlude on the bundled subset and on a small 2-channel file. Checks
# against an independent model of the specification (same counter-based generator):
# a rows x cols block of ~fraction*H*W pixels, taken from another image with another
# label at the same place, pasted at a seeded random location; labels unchanged; the
# same seed gives the same file, another seed another one.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:?run through tests/run.sh}"
: "${TMP:?run through tests/run.sh (TMP is the scratch directory)}"
PY=/usr/bin/python3
$PY tests/io_fixtures.py h5 "$TMP/small.h5" u8
check() { # INPUT FRACTION SEED
  "$BUILD/sanet-occlude" -input "$1" -o "$TMP/occ.h5" -fraction "$2" -seed "$3"
  $PY - "$1" "$TMP/occ.h5" "$2" "$3" <<'PYEOF'
import math, sys, h5py, numpy as np
M = (1 << 64) - 1
def mix(z):
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)
def uniform(seed, stream, index):
    h = mix(mix(mix((seed + 0x9e3779b97f4a7c15) & M) ^ stream) ^ index)
    return (h >> 11) * (1.0 / 9007199254740992.0)
def rint(v): return int(math.floor(v + 0.5))
def rand_index(seed, stream, index, n): return min(int(uniform(seed, stream, index) * n), n - 1)
src, occ, frac, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
f, g = h5py.File(src, "r"), h5py.File(occ, "r")
x, y = f["images"][...], f["labels"][...].astype(np.int64)
o = g["images"][...]
assert o.dtype == np.uint8 and o.shape == x.shape
assert (g["labels"][...] == y).all(), "labels changed"
N, H, W, C = x.shape
area = max(1.0, rint(frac * H * W))
rows = min(H, max(1, rint(math.sqrt(area))))
cols = min(W, max(1, rint(area / rows)))
rows = min(H, max(1, rint(area / cols)))
assert abs(rows * cols - frac * H * W) <= max(rows, cols), (rows, cols)
want = x.copy()
for i in range(N):
    for a in range(64):
        j = rand_index(seed, 1, i * 64 + a, N - 1)
        j += j >= i
        if y[j] != y[i]: break
    assert j != i and y[j] != y[i]
    r0 = rand_index(seed, 2, i, H - rows + 1)
    c0 = rand_index(seed, 3, i, W - cols + 1)
    want[i, r0:r0 + rows, c0:c0 + cols] = x[j, r0:r0 + rows, c0:c0 + cols]
assert (o == want).all(), "occluded images differ from the model"
changed = (o != x).reshape(N, -1).any(axis=1).mean()
print("occlusion ok: block %dx%d, %.0f%% of images changed" % (rows, cols, 100 * changed))
assert changed > 0.5
PYEOF
}
check data/mnist-2000.h5 0.2 5
cp "$TMP/occ.h5" "$TMP/first.h5"
check data/mnist-2000.h5 0.2 5
$PY -c "import sys,h5py; a,b=(h5py.File(p,'r')['images'][...] for p in sys.argv[1:]); assert (a==b).all(), 'same seed, different output'" "$TMP/first.h5" "$TMP/occ.h5"
check data/mnist-2000.h5 0.2 6
$PY -c "import sys,h5py; a,b=(h5py.File(p,'r')['images'][...] for p in sys.argv[1:]); assert (a!=b).any(), 'another seed, same output'" "$TMP/first.h5" "$TMP/occ.h5"
check data/mnist-2000.h5 0.5 1
check "$TMP/small.h5" 0.3 2
[ ! -e "$TMP/occ.h5.tmp" ]
