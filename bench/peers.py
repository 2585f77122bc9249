#!/usr/bin/python3
"""Peers of `make bench` (bench/run.sh drives it): FAISS, pynndescent, SciPy ARPACK, scikit-learn.

  peers.py info
  peers.py knn    PREFIX ROWS DIM K THREADS    FAISS IndexFlatL2 on PREFIX.patches.f32,
                                               recall against PREFIX.nbr.i32 / .d2.f64
  peers.py knn_approx PREFIX ROWS DIM K THREADS NLIST NPROBE
                                               FAISS IndexIVFFlat and pynndescent on the same
                                               patches; recall@K of them and of ours
                                               (PREFIX.ivf.nbr.i32) against PREFIX.nbr.i32
  peers.py eig    PREFIX NEIG TOL THREADS      eigsh on PREFIX.S.petsc (largest algebraic)
  peers.py kmeans H5 K ITERS RESTARTS THREADS  FAISS Kmeans and sklearn KMeans
                                               (/features if present, else /images/255)
  peers.py spectral H5 K KNN RESTARTS THREADS  the pipeline users stitch without sanet, on
                                               the pixels: FAISS IndexFlatL2 kNN graph,
                                               SciPy eigsh of L_sym, sklearn KMeans; ACC

Lines meant for run.sh start with "bench-data:".
"""
import ctypes
import sys
import time

import numpy as np


def blas_threads(n):
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=n)


def openblas_corename():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except OSError as e:  # pragma: no cover
        return "unknown (%s)" % e


def info():
    import faiss
    import scipy
    import sklearn
    import os
    print("bench-data: peers python=%s numpy=%s scipy=%s sklearn=%s faiss=%s openblas_corename=%s coretype_env=%s" % (
        sys.version.split()[0], np.__version__, scipy.__version__, sklearn.__version__, faiss.__version__,
        openblas_corename(), os.environ.get("OPENBLAS_CORETYPE", "(unset)")))


def drop_self(I, D, k):
    """k+1 results per row without the row itself (or, when > k+1 exact duplicates hide
    it, without the last entry)."""
    rows = I.shape[0]
    own = I == np.arange(rows)[:, None]
    drop = np.where(own.any(1), own.argmax(1), k)
    keep = np.ones_like(I, dtype=bool)
    keep[np.arange(rows), drop] = False
    return I[keep].reshape(rows, k), D[keep].reshape(rows, k)


def exact_d2(X, I):
    """Squared distances in double from every row of X to its listed neighbours I."""
    Xd = X.astype(np.float64)
    d = np.empty(I.shape)
    for a in range(0, I.shape[0], 4096):
        b = min(I.shape[0], a + 4096)
        d[a:b] = ((Xd[a:b, None, :] - Xd[I[a:b]]) ** 2).sum(-1)
    return d


def recall(X, exact, d2, approx):
    """recall@k two ways: the fraction of the exact neighbour ids found in the approximate
    lists, and the fraction of approximate neighbours no farther than the exact k-th
    (ties: of equally distant rows, e.g. the many zero patches, any is a right answer)."""
    ids = (approx[:, :, None] == exact[:, None, :]).any(2).sum() / exact.size
    tie = (exact_d2(X, approx) <= d2[:, -1:] * (1 + 1e-9) + 1e-12).mean()
    return "recall=%.4f recall_ties=%.4f" % (ids, tie)


def knn(prefix, rows, dim, k, threads):
    import faiss
    faiss.omp_set_num_threads(threads)
    X = np.fromfile(prefix + ".patches.f32", dtype=np.float32).reshape(rows, dim)
    with blas_threads(threads):
        t0 = time.perf_counter()
        index = faiss.IndexFlatL2(dim)
        index.add(X)
        D, I = index.search(X, k + 1)
        sec = time.perf_counter() - t0
    If, Df = drop_self(I, D, k)
    print("bench-data: faiss-knn threads=%d N=%d dim=%d k=%d seconds=%.3f gflops=%.2f" % (
        threads, rows, dim, k, sec, 2.0 * rows * rows * dim / sec / 1e9))
    nbr = np.fromfile(prefix + ".nbr.i32", dtype=np.int32).reshape(rows, k)
    d2 = np.fromfile(prefix + ".d2.f64", dtype=np.float64).reshape(rows, k)
    # set agreement (ties at equal distance make ids legitimately differ) and the
    # tie-aware recall: our neighbours within FAISS's k-th distance (float32 tolerance)
    inter = np.array([len(np.intersect1d(a, b, assume_unique=False)) for a, b in zip(nbr, If)])
    setrec = inter.sum() / (rows * k)
    # exact (double) distances of FAISS's neighbours, so both sides compare exactly
    dfx = exact_d2(X, If)
    kth = dfx.max(1)
    tie = (d2 <= kth[:, None] * (1 + 1e-9) + 1e-12).mean()
    tie_f = (dfx <= d2[:, -1:] * (1 + 1e-9) + 1e-12).mean()
    kdiff = np.abs(d2[:, -1] - kth).max()
    print("bench-data: knn-recall set=%.4f ours_within_faiss_kth=%.4f faiss_within_ours_kth=%.4f max_kth_distance_diff=%.3g" % (
        setrec, tie, tie_f, kdiff))


def knn_approx(prefix, rows, dim, k, threads, nlist, nprobe):
    """Ours (PREFIX.ivf.nbr.i32), FAISS IndexIVFFlat with the same nlist, nprobe, training
    sample per list and k-means iterations, and pynndescent, each against the exact
    lists PREFIX.nbr.i32. Peer times include training and building the index."""
    import faiss
    X = np.fromfile(prefix + ".patches.f32", dtype=np.float32).reshape(rows, dim)
    exact = np.fromfile(prefix + ".nbr.i32", dtype=np.int32).reshape(rows, k)
    d2 = np.fromfile(prefix + ".d2.f64", dtype=np.float64).reshape(rows, k)
    ours = np.fromfile(prefix + ".ivf.nbr.i32", dtype=np.int32).reshape(rows, k)
    print("bench-data: ours-ivf N=%d nlist=%d nprobe=%d %s" % (rows, nlist, nprobe, recall(X, exact, d2, ours)))
    faiss.omp_set_num_threads(threads)
    with blas_threads(threads):
        t0 = time.perf_counter()
        quantizer = faiss.IndexFlatL2(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist)
        index.cp.max_points_per_centroid = 64  # ours trains on 64 rows per list
        index.cp.niter = 25
        index.cp.seed = 1234
        index.train(X)
        index.add(X)
        index.nprobe = nprobe
        t1 = time.perf_counter()
        D, I = index.search(X, k + 1)
        sec = time.perf_counter() - t0
    I, D = drop_self(I, D, k)
    print("bench-data: faiss-ivf threads=%d N=%d nlist=%d nprobe=%d seconds=%.3f train_add_seconds=%.3f %s" % (
        threads, rows, nlist, nprobe, sec, t1 - t0, recall(X, exact, d2, I)))
    from pynndescent import NNDescent
    NNDescent(X[:2000], n_neighbors=k + 1, n_jobs=threads, random_state=0)  # numba compiles here, untimed
    t0 = time.perf_counter()
    I, D = NNDescent(X, n_neighbors=k + 1, n_jobs=threads, random_state=0).neighbor_graph
    sec = time.perf_counter() - t0
    I, D = drop_self(I, D, k)
    print("bench-data: pynndescent threads=%d N=%d seconds=%.3f %s" % (threads, rows, sec, recall(X, exact, d2, I)))


def read_petsc_aij(path):
    """PETSc binary AIJ: classid, M, N, nz, row lengths, column indices, values (big-endian)."""
    import scipy.sparse as sp
    with open(path, "rb") as f:
        hdr = np.fromfile(f, dtype=">i4", count=4)
        assert hdr[0] == 1211216, "not a PETSc Mat file"
        M, N, nz = int(hdr[1]), int(hdr[2]), int(hdr[3])
        rl = np.fromfile(f, dtype=">i4", count=M).astype(np.int64)
        cols = np.fromfile(f, dtype=">i4", count=nz).astype(np.int32)
        vals = np.fromfile(f, dtype=">f8", count=nz).astype(np.float64)
    ptr = np.zeros(M + 1, dtype=np.int64)
    np.cumsum(rl, out=ptr[1:])
    return sp.csr_matrix((vals, cols, ptr), shape=(M, N))


def eig(prefix, neig, tol, threads):
    from scipy.sparse.linalg import eigsh
    S = read_petsc_aij(prefix + ".S.petsc")
    n = S.shape[0]
    v0 = np.random.default_rng(0).random(n) - 0.5
    with blas_threads(threads):
        t0 = time.perf_counter()
        w, V = eigsh(S, k=neig, which="LA", tol=tol, v0=v0)
        sec = time.perf_counter() - t0
    R = S @ V - V * w
    res = np.linalg.norm(R, axis=0) / np.abs(w) / np.linalg.norm(V, axis=0)
    ncv = min(n, max(2 * neig + 1, 20))
    print("bench-data: scipy-eig threads=%d N=%d nnz=%d neig=%d tol=%g ncv=%d seconds=%.3f maxres=%.3e lambda_min=%.8f" % (
        threads, n, S.nnz, neig, tol, ncv, sec, res.max(), w.min()))


def kmeans(h5, K, iters, restarts, threads):
    import faiss
    import h5py
    from sklearn.cluster import KMeans
    with h5py.File(h5, "r") as f:
        if "features" in f:
            X = f["features"][...].astype(np.float64)
        else:
            X = f["images"][...].reshape(f["images"].shape[0], -1).astype(np.float64) / 255.0
    n, d = X.shape
    faiss.omp_set_num_threads(threads)

    def inertia(C):
        idx = faiss.IndexFlatL2(d)
        idx.add(C.astype(np.float32))
        _, lab = idx.search(X.astype(np.float32), 1)
        return ((X - C[lab[:, 0]].astype(np.float64)) ** 2).sum()

    with blas_threads(threads):
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        t0 = time.perf_counter()
        km = faiss.Kmeans(d, K, niter=iters, nredo=restarts, seed=1234, max_points_per_centroid=n, verbose=False)
        km.train(X32)
        sec = time.perf_counter() - t0
        print("bench-data: faiss-kmeans threads=%d N=%d dim=%d K=%d iters=%d restarts=%d seconds=%.3f inertia=%.10g" % (
            threads, n, d, K, iters, restarts, sec, inertia(km.centroids)))
        t0 = time.perf_counter()
        sk = KMeans(n_clusters=K, n_init=restarts, max_iter=iters, tol=0.0, algorithm="lloyd", random_state=0).fit(X)
        sec = time.perf_counter() - t0
        print("bench-data: sklearn-kmeans threads=%d N=%d dim=%d K=%d iters=%d restarts=%d seconds=%.3f inertia=%.10g n_iter=%d" % (
            threads, n, d, K, iters, restarts, sec, sk.inertia_, sk.n_iter_))


def clustering_acc(labels, clusters):
    """Accuracy under the best one-to-one map of clusters to classes (Hungarian)."""
    from scipy.optimize import linear_sum_assignment
    C = np.zeros((clusters.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(C, (clusters, labels), 1)
    r, c = linear_sum_assignment(-C)
    return C[r, c].sum() / labels.size


def spectral(h5, K, knn_k, restarts, threads):
    """Spectral clustering of the raw pixels as a user would stitch it from FAISS, SciPy
    and scikit-learn: binary symmetrized kNN graph, the K eigenvectors of the smallest
    eigenvalues of L_sym (largest of D^-1/2 W D^-1/2), rows normalized, k-means."""
    import faiss
    import h5py
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh
    from sklearn.cluster import KMeans
    with h5py.File(h5, "r") as f:
        X = f["images"][...].reshape(f["images"].shape[0], -1).astype(np.float32) / 255.0
        labels = f["labels"][...].astype(np.int64)
    n, d = X.shape
    faiss.omp_set_num_threads(threads)
    with blas_threads(threads):
        t0 = time.perf_counter()
        idx = faiss.IndexFlatL2(d)
        idx.add(X)
        D, I = idx.search(X, knn_k + 1)
        I, _ = drop_self(I, D, knn_k)
        t1 = time.perf_counter()
        W = sp.csr_matrix((np.ones(I.size), (np.repeat(np.arange(n), knn_k), I.ravel())), shape=(n, n))
        W = ((W + W.T) > 0).astype(np.float64)
        dinv = 1.0 / np.sqrt(np.asarray(W.sum(1)).ravel())
        S = sp.diags(dinv) @ W @ sp.diags(dinv)
        _, V = eigsh(S, K, which="LA", tol=1e-6)
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        t2 = time.perf_counter()
        lab = KMeans(n_clusters=K, n_init=restarts, random_state=0).fit_predict(V)
        t3 = time.perf_counter()
    print("bench-data: peer-spectral threads=%d N=%d dim=%d K=%d knn=%d seconds=%.3f knn_s=%.3f eig_s=%.3f kmeans_s=%.3f acc=%.4f" % (
        threads, n, d, K, knn_k, t3 - t0, t1 - t0, t2 - t1, t3 - t2, clustering_acc(labels, lab)))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "info":
        info()
    elif cmd == "knn":
        knn(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]))
    elif cmd == "knn_approx":
        knn_approx(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]), int(argv[7]), int(argv[8]))
    elif cmd == "eig":
        eig(argv[2], int(argv[3]), float(argv[4]), int(argv[5]))
    elif cmd == "kmeans":
        kmeans(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]))
    elif cmd == "spectral":
        spectral(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
