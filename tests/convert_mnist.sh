#!/bin/bash
# convert_mnist.sh gz|plain|join: sanet-convert on the bundled MNIST IDX subset (gzip or
# gunzipped plain files); the HDF5 output must open in h5dump and match the IDX bytes
# exactly (read independently with the python standard library), and must equal the
# bundled data/mnist-2000.h5. join: the gzip and the plain files given as one
# comma-separated list must give the 2000 digits twice, in order.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:?run through tests/run.sh}"
: "${TMP:?run through tests/run.sh (TMP is the scratch directory)}"
PY=/usr/bin/python3
img=data/mnist-2000-images-idx3-ubyte.gz
lab=data/mnist-2000-labels-idx1-ubyte.gz
if [ "$1" = plain ]; then
  gunzip -c "$img" >"$TMP/images.idx"; img=$TMP/images.idx
  gunzip -c "$lab" >"$TMP/labels.idx"; lab=$TMP/labels.idx
fi
if [ "$1" = join ]; then
  gunzip -c "$img" >"$TMP/images.idx"
  gunzip -c "$lab" >"$TMP/labels.idx"
  "$BUILD/sanet-convert" -format mnist -images "$img,$TMP/images.idx" -labels "$lab,$TMP/labels.idx" -o "$TMP/out.h5" | grep -q '4000 images of 28x28x1 with labels'
  $PY - "$TMP/out.h5" data/mnist-2000.h5 <<'PYEOF'
import sys, h5py, numpy as np
f, g = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
x, y, x0, y0 = f["images"][...], f["labels"][...], g["images"][...], g["labels"][...]
assert x.shape == (4000, 28, 28, 1) and y.shape == (4000,), (x.shape, y.shape)
assert (x[:2000] == x0).all() and (x[2000:] == x0).all(), "joined pixels differ"
assert (y[:2000] == y0).all() and (y[2000:] == y0).all(), "joined labels differ"
print("join check ok")
PYEOF
  exit 0
fi
"$BUILD/sanet-convert" -format mnist -images "$img" -labels "$lab" -o "$TMP/out.h5"
[ ! -e "$TMP/out.h5.tmp" ]
h5dump -H "$TMP/out.h5" | grep -q 'DATASPACE  SIMPLE { ( 2000, 28, 28, 1 )'
# image 5 through h5dump, against the IDX bytes read with gzip/struct only
h5dump -d /images -s 5,0,0,0 -c 1,28,28,1 -y -w 0 "$TMP/out.h5" >"$TMP/dump.txt"
h5dump -d /labels -y -w 0 "$TMP/out.h5" >"$TMP/labels.txt"
$PY - "$img" "$lab" "$TMP/dump.txt" "$TMP/labels.txt" <<'PYEOF'
import gzip, re, struct, sys
def load(p):
    b = open(p, "rb").read()
    return gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b
img, lab = load(sys.argv[1]), load(sys.argv[2])
magic, n, h, w = struct.unpack(">IIII", img[:16])
assert (magic, n, h, w) == (0x803, 2000, 28, 28), (magic, n, h, w)
def values(p):
    text = open(p).read()
    return [int(v) for v in re.findall(r"-?\d+", text.split("DATA {", 1)[1])]
px = values(sys.argv[3])
assert px == list(img[16 + 5 * 784:16 + 6 * 784]), "h5dump pixels of image 5 differ from the IDX file"
assert values(sys.argv[4]) == list(lab[8:]), "h5dump labels differ from the IDX file"
print("h5dump check ok")
PYEOF
$PY - "$img" "$lab" "$TMP/out.h5" data/mnist-2000.h5 <<'PYEOF'
import gzip, sys, h5py, numpy as np
def load(p):
    b = open(p, "rb").read()
    return gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b
img, lab = load(sys.argv[1]), load(sys.argv[2])
f = h5py.File(sys.argv[3], "r")
x, y = f["images"][...], f["labels"][...]
assert x.dtype == np.uint8 and x.shape == (2000, 28, 28, 1), (x.dtype, x.shape)
assert y.dtype == np.int32 and y.shape == (2000,)
assert (x.reshape(-1) == np.frombuffer(img, np.uint8, offset=16)).all(), "pixels differ"
assert (y == np.frombuffer(lab, np.uint8, offset=8)).all(), "labels differ"
assert f["images"].compression == "gzip", "images are not compressed"
g = h5py.File(sys.argv[4], "r")
assert (g["images"][...] == x).all() and (g["labels"][...] == y).all(), "differs from bundled file"
print("h5py check ok")
PYEOF
