#!/bin/bash
# convert_cifar.sh 10|100: two small synthetic CIFAR batches (written with the python
# standard library) converted together; pixels must come out HWC (from the planar
# records) and labels must be the (fine) labels, in file order.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:?run through tests/run.sh}"
: "${TMP:?run through tests/run.sh (TMP is the scratch directory)}"
PY=/usr/bin/python3
k=$1
lb=1; [ "$k" = 100 ] && lb=2
$PY tests/io_fixtures.py cifar "$TMP/b1.bin" 5 $lb $k seed=1
$PY tests/io_fixtures.py cifar "$TMP/b2.bin" 3 $lb $k seed=2
"$BUILD/sanet-convert" -format cifar$k -images "$TMP/b1.bin,$TMP/b2.bin" -o "$TMP/out.h5"
h5dump -H "$TMP/out.h5" | grep -q 'DATASPACE  SIMPLE { ( 8, 32, 32, 3 )'
$PY - "$TMP/out.h5" $lb "$TMP/b1.bin" "$TMP/b2.bin" <<'PYEOF'
import sys, h5py, numpy as np
out, lb, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
recs = np.concatenate([np.fromfile(p, np.uint8).reshape(-1, lb + 3072) for p in files])
want_y = recs[:, lb - 1]
want_x = recs[:, lb:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
f = h5py.File(out, "r")
assert (f["images"][...] == want_x).all(), "pixels differ"
assert (f["labels"][...] == want_y).all(), "labels differ"
print("cifar check ok")
PYEOF
