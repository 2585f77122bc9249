#!/bin/bash
# images_load.sh NP: SanetImagesLoad at NP ranks on the bundled subset and on small
# synthetic files (uint8 with int16/uint64 labels, fewer images than ranks, float32,
# float64); each rank's block must equal a serial load, and the global sums must
# equal those computed by h5py.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
np=$1
PY=/usr/bin/python3
cd "${ROOT:?run through tests/run.sh}"
: "${TMP:?run through tests/run.sh (TMP is the scratch directory)}"
expect() {
  $PY - "$1" <<'PYEOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
x = f["images"][...]
n, h, w, c = x.shape
s = int(np.rint(x.astype(np.float64) * 255).sum()) if x.dtype.kind == "f" else int(x.astype(np.int64).sum())
lab = f["labels"][...].astype(np.int64) if "labels" in f else None
print("images: N=%d H=%d W=%d C=%d nclasses=%d pixelsum255=%d labelsum=%d" % (n, h, w, c, 0 if lab is None else lab.max() + 1, s, 0 if lab is None else lab.sum()))
PYEOF
}
files=(data/mnist-2000.h5)
for kind in u8 u8small f32 f64; do
  $PY tests/io_fixtures.py h5 "$TMP/$kind.h5" $kind
  files+=("$TMP/$kind.h5")
done
for f in "${files[@]}"; do
  want=$(expect "$f")
  got=$(./tools/mpirun.sh "$np" "$BUILD/tests/test_images_load" -input "$f" | grep '^images:')
  echo "$f: $got"
  if [ "$got" != "$want" ]; then
    echo "MISMATCH for $f at $np ranks: expected '$want'"
    exit 1
  fi
done
