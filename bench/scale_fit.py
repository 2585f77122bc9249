#!/usr/bin/python3
"""scale_fit.py LOG: fits the per-rank peak memory of the `scale` runs to a + b/P and
extrapolates memory and time to CIFAR-10 layer 1 (60,000 images, 15.4 million patches of
363 dimensions). LOG holds the bench-data lines of run.sh (scale runs, knn_exact and eig
runs at one rank)."""
import re
import sys

import numpy as np


def kv(line):
    return dict(re.findall(r"(\w+)=([^\s]+)", line))


lines = open(sys.argv[1]).read().splitlines()
mem, knn, eig = {}, {}, {}
rows = dim = None
for l in lines:
    if not l.startswith("bench-data:"):
        continue
    d = kv(l)
    if " mem end " in l:
        mem[int(d["P"])] = (float(d["max_mb"]), float(d["mean_mb"]), float(d["start_mb"]) if "start_mb" in d else None)
    if " mem after-knn " in l:
        mem[("knn", int(d["P"]))] = float(d["max_mb"])
    if " mem start " in l:
        mem.setdefault(("start", int(d["P"])), float(d["max_mb"]))
    if " scale-knn " in l:
        knn[int(d["ranks"])] = float(d["seconds"])
        rows, dim = int(d["N"]), int(d["dim"])
    if " scale-eig " in l:
        eig[int(d["ranks"])] = (float(d["seconds"]), int(d["its"]), float(d["nnz"]))

Ps = sorted(p for p in mem if isinstance(p, int))
if len(Ps) < 2 or rows is None:
    sys.exit("scale_fit: need scale runs at two or more rank counts")
P = np.array(Ps, dtype=float)
M = np.array([mem[p][0] for p in Ps])
A = np.vstack([np.ones_like(P), 1 / P]).T
(a, b), *_ = np.linalg.lstsq(A, M, rcond=None)
fit = a + b / P
print("scale: N=%d patches of %d dims; per-rank peak memory (max over ranks, ru_maxrss) vs fit a + b/P, a=%.1f MB b=%.1f MB" % (rows, dim, a, b))
for p, m, f in zip(Ps, M, fit):
    s = mem.get(("start", p))
    print("scale: P=%d peak_mb=%.1f fit_mb=%.1f dev=%+.1f%% start_mb=%s knn_s=%.2f eig_s=%.2f its=%d" % (
        p, m, f, 100 * (m - f) / f, "%.1f" % s if s else "?", knn.get(p, float("nan")), eig.get(p, (float("nan"),))[0], eig.get(p, (0, 0))[1]))
dev = np.abs(M - fit) / fit
ok = dev.max() < 0.10 and b > 0
print("scale: 1/P + constant %s (max deviation %.1f%%); variable part %.0f bytes per patch row at %d dims" % (
    "holds" if ok else "DOES NOT hold", 100 * dev.max(), b * 1e6 / rows, dim))

# Extrapolation, per phase. kNN phase (peak up to the end of SanetKNNExact): the measured
# per-row bytes plus 16 bytes per extra dimension (a row lives as float patch + float
# shifted copy + two float ring buffers = 16 d bytes; the double patch matrix, 8 d + 4 d
# for the float copy while converting, is freed before kNN starts). Graph + eigen phase:
# independent of d (edges, AIJ matrix, ncv+1 Krylov vectors of 8 bytes per row).
Nc, dc = 15.4e6, 363
Mk = np.array([mem[("knn", p)] for p in Ps])
(ak, bk), *_ = np.linalg.lstsq(A, Mk, rcond=None)
beta_k = bk * 1e6 / rows + 16 * (dc - dim)
beta_e = b * 1e6 / rows
print("scale: kNN phase alone fits %.1f MB + %.1f MB/P (%.0f bytes per row); whole run %.1f MB + %.1f MB/P (%.0f bytes per row)" % (
    ak, bk, bk * 1e6 / rows, a, b, beta_e))
r1 = None
for l in lines:
    if r1 is None and l.startswith("bench-data: knn ranks=1 "):  # the main run, not the probe
        r1 = float(kv(l)["gflops"])
t_eig1 = eig.get(1, (None,))[0]
print("cifar: formula mem_per_rank(P) = max(a_knn + N*(beta_knn + 16*(363-%d))/P, a + N*beta/P) = max(%.0f MB + 15.4e6 * %.0f B / P, %.0f MB + 15.4e6 * %.0f B / P)" % (
    dim, ak, beta_k, a, beta_e))
print("cifar: formula t_knn(P) = 2*N^2*d / (P * r1), r1 = %s GFLOP/s per rank (knn_exact at 1 rank); t_eig(P) = t_eig_bench(1) * (N/N_bench) / P (same iteration count assumed: a lower bound)" % (
    "%.1f" % r1 if r1 else "?"))
for p in (1, 2, 8, 32, 128, 512):
    m = max(ak + Nc * beta_k / p / 1e6, a + Nc * beta_e / p / 1e6)
    tk = 2 * Nc * Nc * dc / (p * r1 * 1e9) if r1 else float("nan")
    te = t_eig1 * (Nc / rows) / p if t_eig1 else float("nan")
    print("cifar: P=%4d mem_per_rank=%9.1f GB t_knn=%10.1f h t_eig>=%8.2f h" % (p, m / 1024, tk / 3600, te / 3600))
