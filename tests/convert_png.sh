#!/bin/bash
# convert_png.sh gray|rgb16a|palette: a folder of class subfolders with PNGs written by the
# python standard library (8-bit gray, 16-bit RGBA reduced to 8-bit RGB, or 8-bit palette
# expanded to RGB); labels follow the sorted folder names, pixels must match exactly.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:?run through tests/run.sh}"
: "${TMP:?run through tests/run.sh (TMP is the scratch directory)}"
PY=/usr/bin/python3
$PY tests/io_fixtures.py pngdir "$TMP/set" "$1"
"$BUILD/sanet-convert" -format png -images "$TMP/set" -o "$TMP/out.h5" | tee "$TMP/log"
# the class map is printed and kept; dropped transparency is said
grep -q "label ids (attribute classes of /labels): 0 = " "$TMP/log" || { echo "FAIL: no class map"; exit 1; }
if [ "$1" = rgb16a ]; then grep -q "have transparency (an alpha channel or tRNS); it was dropped" "$TMP/log" || { echo "FAIL: alpha dropped silently"; exit 1; }; fi
$PY - "$TMP/out.h5" "$TMP/set.expect" "$TMP/set" <<'PYEOF'
import sys, os, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
names = sorted(d for d in os.listdir(sys.argv[3]) if os.path.isdir(os.path.join(sys.argv[3], d)))
classes = f["labels"].attrs["classes"]
classes = classes.decode() if isinstance(classes, bytes) else classes
assert classes == "".join(n + "\n" for n in names), ("class map", classes, names)
x, y = f["images"][...], f["labels"][...]
rows = [list(map(int, l.split())) for l in open(sys.argv[2])]
assert x.shape[0] == len(rows) == 9, x.shape
assert (y == [r[0] for r in rows]).all(), ("labels differ", y)
assert (x.reshape(len(rows), -1) == np.array([r[1:] for r in rows])).all(), "pixels differ"
print("png check ok", x.shape)
PYEOF
