#!/bin/bash
# bench/run.sh: `make bench`. Ours (build/bench/sanet_bench, linked with libsanet.a)
# against FAISS, pynndescent, SciPy and scikit-learn on the same data, same thread counts and the same
# OpenBLAS core type, in one run; prints one line per comparison
#   bench: NAME ours=SECONDS peer=SECONDS ratio=OURS/PEER
# and informative lines. Environment (defaults in brackets):
#   BUILD [build]  BENCH_DATA [data/mnist-10k.h5]
#   BENCH_KNN_IMAGES [2000]    first images whose layer-1 patches feed knn_exact, knn_approx and eig
#   BENCH_IVF_NLIST [sqrt of the rows] BENCH_IVF_NPROBE [8]   knn_approx settings (both sides)
#   BENCH_SCALE_IMAGES [1000]  first images for the memory scaling runs
#   BENCH_SCALE_RANKS ["1 2 4 8"]
#   BENCH_KMEANS_ITERS [30] BENCH_KMEANS_RESTARTS [3] BENCH_KMEANS_K [10]
#   BENCH_KNN_PROBE ["-knn_tile_refs 4096"], BENCH_EIG_PROBE ["-bv_orthog_refine never"]
#                          extra informative runs of ours at 1 rank with these options ("" skips)
#   BENCH_E2E [1] (0 skips) BENCH_E2E_RANKS [2] BENCH_E2E_OPTIONS [jobs/mnist.yaml]
#                          the whole program on BENCH_DATA: total and per-stage time, ACC
#   BENCH_FEATURES [the e2e run's result.h5]  HDF5 file with /features [N,D]: k-means on it too
#   OPENBLAS_CORETYPE      passed to both sides unchanged (unset: OpenBLAS detects the CPU)
#   BENCH_OUT [BUILD/bench/out]  work files and the full log (bench.log)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$BUILD/bench/sanet_bench
PY=/usr/bin/python3
DATA=${BENCH_DATA:-data/mnist-10k.h5}
NKNN=${BENCH_KNN_IMAGES:-2000}
NSCALE=${BENCH_SCALE_IMAGES:-1000}
SCALE_RANKS=${BENCH_SCALE_RANKS:-1 2 4 8}
KM_ITERS=${BENCH_KMEANS_ITERS:-30}
KM_RESTARTS=${BENCH_KMEANS_RESTARTS:-3}
KM_K=${BENCH_KMEANS_K:-10}
FEATURES=${BENCH_FEATURES:-}
E2E=${BENCH_E2E:-1} E2E_NP=${BENCH_E2E_RANKS:-2} E2E_OPTS=${BENCH_E2E_OPTIONS:-jobs/mnist.yaml}
OUT=${BENCH_OUT:-$BUILD/bench/out}
K=17 NEIG=64 TOL=1e-6
mkdir -p "$OUT"
LOG=$OUT/bench.log
: >"$LOG"

# Bench-only peers (not in tools/deps.sh: the program does not need them).
missing=""
for p in python3-faiss python3-pynndescent python3-scipy python3-sklearn python3-h5py python3-threadpoolctl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "bench: installing$missing"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null || { echo "bench: cannot install$missing" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "bench: $BIN not built (make bench builds it)" >&2; exit 2; }
[ -r "$DATA" ] || { echo "bench: $DATA missing (make data)" >&2; exit 2; }

T0=$(date +%s)
# ours: MPI ranks with one OpenBLAS thread each; peers: THREADS threads in one process
ours() { # NP ARGS...
  local np=$1; shift
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ./tools/mpirun.sh "$np" "$BIN" "$@" </dev/null 2>&1 | tee -a "$LOG" | grep -v '^bench-data:' | sed 's/^/  /'
}
peer() { # THREADS ARGS...
  local t=$1; shift
  OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t NUMBA_NUM_THREADS=$t "$PY" bench/peers.py "$@" </dev/null 2>&1 | tee -a "$LOG" | grep -v '^bench-data:' | sed 's/^/  /'
}
last() { # PATTERN KEY: value of KEY on the last bench-data line matching PATTERN
  grep "^bench-data: $1" "$LOG" | tail -n 1 | sed -nE "s/.* $2=([^ ]+).*/\1/p"
}
line() { # NAME OURS PEER [EXTRA]
  if [ -z "$2" ] || [ -z "$3" ]; then
    echo "bench: $1 FAILED (see $LOG)"
  else
    echo "bench: $1 ours=$2 peer=$3 ratio=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.3f", a / b }')${4:+ $4}"
  fi
}
info() { grep "^bench-data: $1" "$LOG" | tail -n 1 | sed 's/^bench-data: /  /'; }

# --------------------------------------------------------------------- settings
ours 1 -mode info
peer 1 info
echo "bench: openblas core=$(last openblas corename) (peers: $(last peers openblas_corename)) OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} cpu=\"$(sed -nE 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n1)\" cores=$(nproc) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
info peers

# subsets of the data: the first N images (same file for both sides)
subset() { # N -> path
  local f=$OUT/mnist-first$1.h5
  [ -r "$f" ] || "$PY" -c "
import h5py, sys
n = int(sys.argv[1])
with h5py.File(sys.argv[2], 'r') as s, h5py.File(sys.argv[3] + '.tmp', 'w') as d:
    d['images'] = s['images'][:n]
    if 'labels' in s: d['labels'] = s['labels'][:n]
" "$1" "$DATA" "$f" && mv "$f.tmp" "$f"
  echo "$f"
}
SUBKNN=$(subset "$NKNN")
SUBSCALE=$(subset "$NSCALE")
ROWS=$((NKNN * 36))

# ------------------------------------------------------------------------- GEMM peak
for np in 1 2; do ours $np -mode gemm; done
PEAK1=$(grep '^bench-data: gemm' "$LOG" | grep ' ranks=1 ' | sed -nE 's/.*gflops_total=([^ ]+).*/\1/p' | sort -g | tail -n1)
PEAK2=$(grep '^bench-data: gemm' "$LOG" | grep ' ranks=2 ' | sed -nE 's/.*gflops_total=([^ ]+).*/\1/p' | sort -g | tail -n1)
grep '^bench-data: gemm' "$LOG" | sed 's/^bench-data: /  /'
echo "bench: sgemm peak GFLOP/s: 1 rank $PEAK1, 2 ranks $PEAK2 (best of the sizes above)"

# ------------------------------------------------------------------------- knn_exact
P=$OUT/knn
echo "# knn_exact: $ROWS layer-1 patches (11x11, stride 5, padding, centred) of the first $NKNN images of $DATA, k=$K"
for np in 1 2; do
  ours $np -mode knn -input "$SUBKNN" -prefix "$P" -k $K
  OS=$(last "knn ranks=$np " seconds) OG=$(last "knn ranks=$np " gflops)
  peer $np knn "$P" "$ROWS" 121 $K $np
  FS=$(last "faiss-knn threads=$np " seconds) FG=$(last "faiss-knn threads=$np " gflops)
  PK=$([ $np = 1 ] && echo "$PEAK1" || echo "$PEAK2")
  line "knn_exact_np$np" "$OS" "$FS" "(ours $OG GFLOP/s = $(awk -v a="$OG" -v b="$PK" 'BEGIN { printf "%.0f", 100 * a / b }')% of sgemm peak $PK; FAISS $FG GFLOP/s)"
  info knn-recall
  TG=$(grep '^bench-data: gemm m=256 n=1024 k=121 ' "$LOG" | grep " ranks=$np " | tail -n1 | sed -nE 's/.*gflops_total=([^ ]+).*/\1/p')
  echo "bench: knn_exact_np$np sgemm at the kNN tile shape (256x1024x121) runs $TG GFLOP/s: GEMM is about $(awk -v a="$OG" -v b="$TG" 'BEGIN { printf "%.0f", 100 * a / b }')% of the kNN time, the rest is the distance scan and heap selection, the mean shift, pass 2 (exact double distances) and the ring"
done
# informative probe: the earlier 4 MB distance tile (the default 1 MB one stays in L2)
if [ -n "${BENCH_KNN_PROBE-"-knn_tile_refs 4096"}" ]; then
  ours 1 -mode knn -input "$SUBKNN" -k $K ${BENCH_KNN_PROBE-"-knn_tile_refs 4096"}
  line "knn_exact_np1_probe(${BENCH_KNN_PROBE-"-knn_tile_refs 4096"})" "$(last "knn ranks=1 " seconds)" "$(last "faiss-knn threads=1 " seconds)" "(informative: ours with that option vs the FAISS time above; $(last "knn ranks=1 " gflops) GFLOP/s)"
fi

# ------------------------------------------------------------------------ knn_approx
NLIST=${BENCH_IVF_NLIST:-$(awk -v n="$ROWS" 'BEGIN { printf "%d", sqrt(n) + 0.5 }')}
NPROBE=${BENCH_IVF_NPROBE:-8}
echo "# knn_approx: the same patches; ours SanetKNNIVF and FAISS IndexIVFFlat with nlist $NLIST, nprobe $NPROBE, 64 training rows per list, 25 k-means iterations; pynndescent with its defaults; recall@$K against the exact lists above (recall_ties: neighbours no farther than the exact k-th)"
for np in 1 2; do
  ours $np -mode knn_approx -input "$SUBKNN" -prefix "$P" -k $K -exact 0 -knn_nlist "$NLIST" -knn_nprobe "$NPROBE"
  peer $np knn_approx "$P" "$ROWS" 121 $K $np "$NLIST" "$NPROBE"
  OS=$(last "knn-approx ranks=$np " seconds) OR="ours recall $(last ours-ivf recall) ties $(last ours-ivf recall_ties)"
  line "knn_approx_faiss_np$np" "$OS" "$(last "faiss-ivf threads=$np " seconds)" "($OR; faiss recall $(last "faiss-ivf threads=$np " recall) ties $(last "faiss-ivf threads=$np " recall_ties); exact search $(last "knn ranks=$np " seconds) s)"
  line "knn_approx_pynndescent_np$np" "$OS" "$(last "pynndescent threads=$np " seconds)" "($OR; pynndescent recall $(last "pynndescent threads=$np " recall) ties $(last "pynndescent threads=$np " recall_ties))"
done

# ------------------------------------------------------------------------------- eig
echo "# eig: $NEIG largest eigenpairs of S = D^-1/2 W D^-1/2 (smallest of L_sym), binary symmetrized k=$K graph of the same patches, tol $TOL"
for np in 1 2; do
  ours $np -mode eig -prefix "$P" -rows "$ROWS" -k $K -neig $NEIG -tol $TOL
  peer $np eig "$P" $NEIG $TOL $np
  line "eig_np$np" "$(last "eig ranks=$np " seconds)" "$(last "scipy-eig threads=$np " seconds)" \
    "(residual ours $(last "eig ranks=$np " maxres) its $(last "eig ranks=$np " its) ncv $(last "eig ranks=$np " ncv); scipy $(last "scipy-eig threads=$np " maxres) ncv $(last "scipy-eig threads=$np " ncv))"
  if [ $np = 1 ] && [ -n "${BENCH_EIG_PROBE-"-bv_orthog_refine never"}" ]; then
    ours 1 -mode eig -prefix "$P" -rows "$ROWS" -k $K -neig $NEIG -tol $TOL -hw 0 ${BENCH_EIG_PROBE-"-bv_orthog_refine never"}
    line "eig_np1_probe(${BENCH_EIG_PROBE-"-bv_orthog_refine never"})" "$(last "eig ranks=1 " seconds)" "$(last "scipy-eig threads=1 " seconds)" "(informative: residual $(last "eig ranks=1 " maxres), its $(last "eig ranks=1 " its))"
  fi
  echo "bench: spmv np$np $(last "spmv" gbytes_per_s) GB/s vs triad $(last "triad ranks=$np " gbytes_per_s) GB/s ($(awk -v a="$(last spmv gbytes_per_s)" -v b="$(last "triad ranks=$np " gbytes_per_s)" 'BEGIN { printf "%.0f", 100 * a / b }')% of triad; $(last spmv seconds_per_mult) s per MatMult)"
done

# ------------------------------------------------------------------------------- e2e
# The whole program on the 10,000 digits against the spectral clustering a user stitches
# from FAISS, SciPy and scikit-learn on the pixels; its /features feed kmeans below.
if [ "$E2E" != 0 ]; then
  echo "# e2e: sanet $E2E_OPTS (network $(sed -n 's/^network: *//p' "$E2E_OPTS"), then k-means) on $DATA at $E2E_NP ranks, seed 0; peer: FAISS IndexFlatL2 10-NN graph + SciPy eigsh (10 eigenvectors of L_sym) + sklearn KMeans (10 inits) on the pixels, $E2E_NP threads"
  rm -rf "$OUT/e2e"
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ./tools/mpirun.sh "$E2E_NP" "$BUILD/sanet" -input "$DATA" -output "$OUT/e2e" -options_file "$E2E_OPTS" -seed 0 -memory_view </dev/null >"$OUT/e2e.log" 2>&1
  cat "$OUT/e2e.log" >>"$LOG"
  STAGES=$(sed -nE 's/^([A-Za-z0-9_]+) done: .*, ([0-9.]+) s, wrote .*/\1 \2 s/p; s/^k-means: .*, ([0-9.]+) s$/kmeans \1 s/p' "$OUT/e2e.log" | paste -sd, - | sed 's/,/, /g')
  ETOTAL=$(sed -nE 's/^wrote .*; total ([0-9.]+) s$/\1/p' "$OUT/e2e.log" | tail -n1)
  EACC=$(sed -nE 's/^metrics: ACC=([0-9.]+).*/\1/p' "$OUT/e2e.log" | tail -n1)
  EMEM=$(grep -E 'Maximum \(over computational time\) process memory' "$OUT/e2e.log" | sed -nE 's/.*total ([0-9.e+]+) max ([0-9.e+]+).*/\2/p' | tail -n1)
  peer "$E2E_NP" spectral "$DATA" 10 10 10 "$E2E_NP"
  line "e2e_np$E2E_NP" "$ETOTAL" "$(last "peer-spectral threads=$E2E_NP " seconds)" "(ACC ours $EACC, peer $(last "peer-spectral threads=$E2E_NP " acc); peak memory per rank $(awk -v b="$EMEM" 'BEGIN { printf "%.0f", b / 1048576 }') MB)"
  echo "bench: e2e_np$E2E_NP stages: $STAGES (log $OUT/e2e.log)"
  [ -n "$FEATURES" ] || FEATURES=$OUT/e2e/result.h5
fi

# ---------------------------------------------------------------------------- kmeans
kmeans_cmp() { # TAG FILE [-features FILE]
  local tag=$1 file=$2; shift 2
  for np in 1 2; do
    ours $np -mode kmeans "$@" -clusters "$KM_K" -km_restarts "$KM_RESTARTS" -km_max_it "$KM_ITERS" -km_tol 0 -km_seed 0
    peer $np kmeans "$file" "$KM_K" "$KM_ITERS" "$KM_RESTARTS" $np
    local os oi
    os=$(last "kmeans ranks=$np " seconds) oi=$(last "kmeans ranks=$np " inertia)
    line "kmeans_${tag}_faiss_np$np" "$os" "$(last "faiss-kmeans threads=$np " seconds)" "(inertia ours $oi, faiss $(last "faiss-kmeans threads=$np " inertia))"
    line "kmeans_${tag}_sklearn_np$np" "$os" "$(last "sklearn-kmeans threads=$np " seconds)" "(inertia ours $oi, sklearn $(last "sklearn-kmeans threads=$np " inertia))"
  done
}
echo "# kmeans: K=$KM_K, $KM_ITERS Lloyd iterations at most (tol 0), $KM_RESTARTS initializations; ours and sklearn k-means++, FAISS random init (its default)"
kmeans_cmp pixels "$DATA" -input "$DATA"
if [ -n "$FEATURES" ] && [ -r "$FEATURES" ]; then
  kmeans_cmp features "$FEATURES" -features "$FEATURES"
fi

# --------------------------------------------------------------------------- scaling
echo "# scale: knn + graph + $NEIG eigenvectors of the $((NSCALE * 36)) patches of the first $NSCALE images at P = $SCALE_RANKS ranks (2 cores: P > 2 oversubscribed)"
for np in $SCALE_RANKS; do
  ours "$np" -mode scale -input "$SUBSCALE" -k $K -neig $NEIG -tol $TOL
done
grep '^bench-data: \(mem\|scale\)' "$LOG" | sed 's/^bench-data: /  /'
"$PY" bench/scale_fit.py "$LOG" | sed 's/^/bench: /'

echo "bench: done in $(($(date +%s) - T0)) s; full log $LOG"
