#!/usr/bin/python3
"""subset.py SRC DST N: the first N images (and labels) of SRC written to DST."""
import sys
import h5py

src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(src, "r") as f, h5py.File(dst, "w") as g:
    g["images"] = f["images"][:n]
    if "labels" in f:
        g["labels"] = f["labels"][:n]
