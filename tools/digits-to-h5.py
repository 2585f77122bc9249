#!/usr/bin/python3
"""digits-to-h5.py [OUT.h5]: scikit-learn's 8x8 digits (1,797 images) in sanet's layout.

/images [N,8,8,1] uint8: pixels 0..16 scaled to 0..255 (round(v*255/16));
/labels [N] int32. Default output: data/digits.h5.
"""
import sys
import numpy as np
import h5py
from sklearn.datasets import load_digits

out = sys.argv[1] if len(sys.argv) > 1 else "data/digits.h5"
d = load_digits()
img = np.rint(d.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[..., None]
lab = d.target.astype(np.int32)
tmp = out + ".tmp"
with h5py.File(tmp, "w") as f:
    f.create_dataset("images", data=img)
    f.create_dataset("labels", data=lab)
import os
os.replace(tmp, out)
print(f"{out}: {img.shape[0]} images of {img.shape[1]}x{img.shape[2]}x{img.shape[3]}, {len(np.unique(lab))} classes")
