#!/usr/bin/python3
"""purity.py LABELS.h5 FILE.h5 [K]: kNN label purity of a feature set, the fraction of
each image's K (default 10) Euclidean nearest neighbours, itself excluded, that share its
label. FILE.h5 is a sanet input (/images) or stage file (/maps); its rows are images in
input order, so LABELS.h5 (the input) gives /labels. Measures how well a layer's output
separates the classes before any clustering (docs/accuracy.md)."""
import sys
import h5py
import numpy as np
from sklearn.neighbors import NearestNeighbors

labels_path, path = sys.argv[1], sys.argv[2]
k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
y = h5py.File(labels_path, 'r')['labels'][()].astype(np.int64)
f = h5py.File(path, 'r')
name = 'maps' if 'maps' in f else 'images'
X = f[name][()].reshape(len(y), -1).astype(np.float32)
if name == 'images' and f[name].dtype == np.uint8:
    X /= 255
_, idx = NearestNeighbors(n_neighbors=k + 1, algorithm='brute').fit(X).kneighbors(X)
print(f'purity@{k} {path}:/{name} ({X.shape[1]} dims) {(y[idx[:, 1:]] == y[:, None]).mean():.4f}')
