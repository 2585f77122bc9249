#!/bin/bash
# e2e_errors.sh CASE: build/sanet at 2 ranks with one bad input or option. It must exit
# non-zero without crashing, name the offending option or file, and leave no result.h5
# (nor a temporary of it) in the output directory.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
"$PY" -c "
import h5py
s = h5py.File('data/mnist-2000.h5', 'r')
with h5py.File('$TMP/m100.h5', 'w') as g:
    g['images'] = s['images'][:100]; g['labels'] = s['labels'][:100]"
IN=$TMP/m100.h5
OUT=$TMP/out
BASE=(-options_file jobs/mnist-small.yaml)
# expect_fail WORD CODE -- ARGS...: fails with exit status CODE (docs/robustness.md: 2
# options, 3 input, 4 output, 5 numerical) and one message naming WORD, without PETSc's
# traceback noise (option tables, configure line, "Option left" lists).
expect_fail() {
  local word=$1 code=$2 rc; shift 3
  set +e
  timeout 300 ./tools/mpirun.sh 2 "$BUILD/sanet" "$@" >"$TMP/log" 2>&1
  rc=$?
  set -e
  grep -v -e '^-----' -e 'Primary job' -e 'non-zero exit code' -e 'mpirun detected' -e 'the job to be terminated' -e '^ *Process name' -e '^ *Exit code' -e '^$' "$TMP/log" >"$TMP/msg" || true
  tail -n 25 "$TMP/msg"
  [ $rc -ne 0 ] || { echo "FAIL: exit status 0 for: $*"; exit 1; }
  [ $rc -ne 124 ] || { echo "FAIL: timed out"; exit 1; }
  if grep -qE 'Caught signal|Segmentation|SEGV' "$TMP/log"; then echo "FAIL: crashed"; exit 1; fi
  grep -qF -- "$word" "$TMP/msg" || { echo "FAIL: message does not mention '$word'"; exit 1; }
  [ "$rc" = "$code" ] || { echo "FAIL: exit status $rc, expected $code"; exit 1; }
  if grep -qE 'Option left|Configure options|PETSC ERROR' "$TMP/log"; then echo "FAIL: PETSc traceback noise in the message"; exit 1; fi
  [ "$(grep -c '^sanet[a-z-]*: error' "$TMP/msg")" -le "${ERROR_LINES:-1}" ] || { echo "FAIL: more than ${ERROR_LINES:-1} error line(s)"; exit 1; }
  if ls "$OUT" 2>/dev/null | grep -qE 'result|\.tmp$'; then echo "FAIL: left $(ls "$OUT" | grep -E 'result|tmp') behind"; exit 1; fi
  echo "ok: exit $rc, message names '$word'"
}
# run_ok LOG ARGS...: a run that must succeed
run_ok() {
  local log=$1; shift
  timeout 300 ./tools/mpirun.sh 2 "$BUILD/sanet" "$@" >"$log" 2>&1 || { tail -n 20 "$log"; echo "FAIL: run failed: $*"; exit 1; }
}
case "$1" in
missing_input) expect_fail "-input" 2 -- -output "$OUT" "${BASE[@]}" ;;
no_such_file)  expect_fail "$TMP/no-such.h5" 3 -- -input "$TMP/no-such.h5" -output "$OUT" "${BASE[@]}" ;;
clusters_zero) expect_fail "-clusters" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -clusters 0 ;;
clusters_big)  expect_fail "-clusters" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -clusters 101 ;;
clusters_word) expect_fail "-clusters abc must be auto or an integer" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -clusters abc ;;
patch_zero)    expect_fail "-sal1_patch" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -sal1_patch 0 ;;
pool_big)      expect_fail "-pool_size" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -pool_size 100 ;;
unknown_layer) expect_fail "foo1" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -network sal1,foo1 ;;
deskew_late)   expect_fail "deskew" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -network sal1,deskew ;;
bad_output)    OUT=/proc/sanet-out; expect_fail "/proc/sanet-out" 4 -- -input "$IN" -output /proc/sanet-out "${BASE[@]}" ;;
seed_negative) expect_fail "-seed" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -seed -1 ;;
# misspelt options stop the run before any work, each with the closest valid name
unused_run)
  expect_fail "-kmeans_restart 5: did you mean -kmeans_restarts?" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -kmeans_restart 5 -sal1_typo 3
  grep -qF -- "-sal1_typo 3: no option of this name" "$TMP/msg" || { echo "FAIL: -sal1_typo not named"; exit 1; }
  [ ! -e "$OUT/stage-1-deskew.h5" ] || { echo "FAIL: work was done before the check"; exit 1; } ;;
unused_dry_run) expect_fail "-sal2_patch 3: did you mean -sal1_patch?" 2 -- -input "$IN" "${BASE[@]}" -dry_run -sal2_patch 3 ;;
unused_eps)    expect_fail "-salimg_a_eps_tols 1e-3: did you mean -salimg_a_eps_tol?" 2 -- -input "$IN" "${BASE[@]}" -dry_run -salimg_a_eps_tols 1e-3 ;;
unused_yaml)
  sed 's/^    neig: 32/    neigg: 32/' jobs/mnist-small.yaml >"$TMP/typo.yaml"
  expect_fail "-sal1_knn9_neigg 32: did you mean -sal1_knn9_neig?" 2 -- -input "$IN" -options_file "$TMP/typo.yaml" -dry_run ;;
eps_type_bogus) expect_fail "bogus" 2 -- -input "$IN" "${BASE[@]}" -dry_run -sal1_knn9_eps_type bogus ;;
eps_nev)       expect_fail "-sal1_knn9_eps_nev is not read: the eigenvector count is -sal1_knn9_neig" 2 -- -input "$IN" "${BASE[@]}" -dry_run -sal1_knn9_eps_nev 3 ;;
# integers past the 32-bit range are refused, never wrapped; lists are never cut
seed_wrap)     expect_fail "-seed 99999999999: 99999999999 is beyond the integer range" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -seed 99999999999 ;;
patch_wrap)    expect_fail "-sal1_patch 4294967303: 4294967303 is beyond the integer range" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -sal1_patch 4294967303 ;;
network_long)  expect_fail "-network has 40 entries; at most 32 are allowed" 2 -- -input "$IN" -output "$OUT" "${BASE[@]}" -network "$(seq -s, -f pool%g 1 40)" ;;
range_long)    expect_fail "-clusters_range has 3 entries; at most 2" 2 -- -input "$IN" "${BASE[@]}" -dry_run -clusters_range 2,3,4 ;;
# -dry_run finds what would fail later
layer_untyped) expect_fail "layer name 'frob' must start with a layer type (sal, pool, bin, code, deskew), or give -frob_type" 2 -- -input "$IN" "${BASE[@]}" -dry_run -network sal1,frob ;;
layer_type)    expect_fail "Layer sal1: unknown type 'bogus' (-sal1_type); the types are sal, pool, bin, code, deskew" 2 -- -input "$IN" "${BASE[@]}" -dry_run -sal1_type bogus ;;
deskew_late)   expect_fail "-network: deskew (type deskew) works on images, so it must come before the first layer of any other type" 2 -- -input "$IN" "${BASE[@]}" -dry_run -network sal1,deskew,pool,bin,salimg ;;
dup_layer)     expect_fail "-network: layer pool appears twice" 2 -- -input "$IN" "${BASE[@]}" -dry_run -network deskew,sal1,pool,pool ;;
long_layer)    expect_fail "has 80 characters; names have 1 to 48" 2 -- -input "$IN" "${BASE[@]}" -dry_run -network "sal1,$(printf 'pool%.0s' $(seq 20))" ;;
k_big)         expect_fail "-sal1_knn9_k 5000 needs more than 5000 patches; layer sal1 has 3600" 2 -- -input "$IN" "${BASE[@]}" -dry_run -sal1_knn9_k 5000 ;;
nlist_big)     expect_fail "-sal1_knn_nlist 99999 is more than the 3600 patches of layer sal1" 2 -- -input "$IN" "${BASE[@]}" -dry_run -sal1_knn ivf -sal1_knn_nlist 99999 ;;
budget_small)  expect_fail "past the budget of 0.001 MB" 6 -- -input "$IN" "${BASE[@]}" -dry_run -sal1_graph_budget_mb 0.001 ;;
output_file)   : >"$TMP/afile"; expect_fail "-output $TMP/afile: cannot create or write the directory: Not a directory" 4 -- -input "$IN" -output "$TMP/afile" "${BASE[@]}" -dry_run ;;
log_view_bad)  expect_fail "-log_view :/nonexistent/x: cannot write /nonexistent/x" 4 -- -input "$IN" -output "$OUT" "${BASE[@]}" -log_view :/nonexistent/x ;;
fifo_input)    mkfifo "$TMP/fifo.h5"; expect_fail "is not a regular file" 3 -- -input "$TMP/fifo.h5" -output "$OUT" "${BASE[@]}" ;;
# a missing -output folder is made with its parents
output_parents)
  run_ok "$TMP/log" -input "$IN" -output "$TMP/a/b/c" "${BASE[@]}"
  [ -f "$TMP/a/b/c/result.h5" ] || { echo "FAIL: no $TMP/a/b/c/result.h5"; exit 1; }
  [ ! -e "$TMP/a/b/c/.sanet.lock" ] || { echo "FAIL: the lock outlived the run"; exit 1; }
  echo "ok: created $TMP/a/b/c" ;;
# one run per output folder: a second run refuses it and names the first
lock_busy)
  "$PY" -c "
import h5py
s = h5py.File('data/mnist-2000.h5', 'r')
with h5py.File('$TMP/m1000.h5', 'w') as g:
    g['images'] = s['images'][:1000]; g['labels'] = s['labels'][:1000]"
  ./tools/mpirun.sh 2 "$BUILD/sanet" -input "$TMP/m1000.h5" -output "$OUT" "${BASE[@]}" >"$TMP/first.log" 2>&1 &
  first=$!
  for _ in $(seq 600); do [ -e "$OUT/.sanet.lock" ] && break; sleep 0.1; done
  [ -e "$OUT/.sanet.lock" ] || { echo "FAIL: the first run took no lock"; exit 1; }
  dir=$OUT; OUT=$TMP/none # the first run writes its result into dir meanwhile
  expect_fail "another sanet run (pid" 4 -- -input "$IN" -output "$dir/" "${BASE[@]}" -seed 1
  OUT=$dir
  wait $first || { tail "$TMP/first.log"; echo "FAIL: the first run failed"; exit 1; }
  [ -f "$OUT/result.h5" ] || { echo "FAIL: the first run's result is missing"; exit 1; }
  echo "ok: the first run finished, the second was refused" ;;
lock_stale)
  mkdir -p "$OUT"; echo "$(hostname) 999999999" >"$OUT/.sanet.lock"
  run_ok "$TMP/log" -input "$IN" -output "$OUT" "${BASE[@]}"
  grep -q "removed the lock of an earlier run (pid 999999999" "$TMP/log" || { echo "FAIL: stale lock not reported"; exit 1; }
  echo "ok: stale lock taken over" ;;
lock_foreign)
  mkdir -p "$OUT"; echo "some-other-host 1234" >"$OUT/.sanet.lock"
  expect_fail "another sanet run (pid 1234 on host some-other-host)" 4 -- -input "$IN" -output "$OUT" "${BASE[@]}" ;;
# a full disk: the file and the reason named, no partial file left
disk_full)
  mkdir -p "$TMP/full"
  mount -t tmpfs -o size=256k tmpfs "$TMP/full" || { echo "FAIL: cannot mount a small tmpfs (needs root)"; exit 1; }
  trap 'umount "$TMP/full"' EXIT
  OUT=$TMP/full/out ERROR_LINES=2 # a collective write fails on every rank: each says so
  expect_fail "No space left on device" 4 -- -input "$IN" -output "$OUT" "${BASE[@]}"
  grep -qF "Cannot write $OUT/stage-" "$TMP/msg" || { echo "FAIL: the stage file is not named"; exit 1; }
  [ -z "$(ls "$OUT")" ] || { echo "FAIL: left $(ls "$OUT")"; exit 1; } ;;
# every effective option value is in the stage digest: a changed kNN setting is not reused
digest_knn_extra)
  run_ok "$TMP/log" -input "$IN" -output "$OUT" "${BASE[@]}"
  run_ok "$TMP/log2" -input "$IN" -output "$OUT" "${BASE[@]}" -resume -sal1_knn_extra 3
  grep -q "reused $OUT/stage-1-deskew.h5" "$TMP/log2" || { echo "FAIL: deskew stage not reused"; exit 1; }
  grep -q "resume: refusing $OUT/stage-2-sal1.h5: made from other options" "$TMP/log2" || { cat "$TMP/log2"; echo "FAIL: sal1 stage reused with another -sal1_knn_extra"; exit 1; }
  echo "ok: sal1 recomputed" ;;
# equal pixels give equal results: float32 k/255 and a virtual dataset read as the uint8 file
float_as_uint8|virtual_input)
  "$PY" -c "
import h5py, numpy as np
s = h5py.File('$IN', 'r'); im = s['images'][...]; lab = s['labels'][...]
with h5py.File('$TMP/f32.h5', 'w') as g:
    g['images'] = (im / 255.0).astype(np.float32); g['labels'] = lab
with h5py.File('$TMP/src.h5', 'w') as g:
    g['data'] = im
lay = h5py.VirtualLayout(shape=im.shape, dtype=im.dtype)
lay[:] = h5py.VirtualSource('src.h5', 'data', shape=im.shape)
with h5py.File('$TMP/vds.h5', 'w') as g:
    g.create_virtual_dataset('images', lay); g['labels'] = lab"
  other=$TMP/f32.h5; [ "$1" = virtual_input ] && other=$TMP/vds.h5
  run_ok "$TMP/log" -input "$IN" -output "$OUT" "${BASE[@]}"
  run_ok "$TMP/log2" -input "$other" -output "$TMP/other" "${BASE[@]}"
  "$PY" -c "
import h5py, numpy as np, sys
a = h5py.File('$OUT/result.h5', 'r')['labels'][...]; b = h5py.File('$TMP/other/result.h5', 'r')['labels'][...]
f = h5py.File('$OUT/result.h5', 'r')['features'][...]; g = h5py.File('$TMP/other/result.h5', 'r')['features'][...]
print('labels equal:', (a == b).all(), ' features equal:', (f == g).all())
sys.exit(0 if (a == b).all() and (f == g).all() else 1)" || { echo "FAIL: $other gives other results than the uint8 file"; exit 1; } ;;
virtual_missing)
  "$PY" -c "
import h5py
lay = h5py.VirtualLayout(shape=(100, 28, 28, 1), dtype='u1')
lay[:] = h5py.VirtualSource('gone.h5', 'data', shape=(100, 28, 28, 1))
with h5py.File('$TMP/vds.h5', 'w') as g:
    g.create_virtual_dataset('images', lay)"
  expect_fail "source file $TMP/gone.h5 of the virtual /images does not exist" 3 -- -input "$TMP/vds.h5" -output "$OUT" "${BASE[@]}" ;;
bad_yaml)
  printf 'network: deskew,sal1\nsal1:\n  patch: [11\n  stride: 5\n' >"$TMP/broken.yaml"
  expect_fail "options file $TMP/broken.yaml: line 4, column" 2 -- -input "$IN" -output "$OUT" -options_file "$TMP/broken.yaml" ;;
# degenerate spectra are never used silently
zeros_keep)
  "$PY" -c "
import h5py, numpy as np
with h5py.File('$TMP/zeros.h5', 'w') as g:
    g['images'] = np.zeros((100, 28, 28, 1), np.uint8); g['labels'] = np.arange(100) % 10"
  expect_fail "over 100 times the tolerance" 5 -- -input "$TMP/zeros.h5" -output "$OUT" "${BASE[@]}" -sal1_zero_patches keep ;;
sigma_tiny)    expect_fail "every edge weight of its graph is 0" 5 -- -input "$IN" -output "$OUT" "${BASE[@]}" -sal1_knn9_weight gaussian -sal1_knn9_sigma 1e-300 ;;
few_images)    expect_fail "of a graph of only 100 vertices; lower -salimg_a_neig" 5 -- -input "$IN" -output "$OUT" "${BASE[@]}" -salimg_a_neig 60 ;;
# more components than eigenvectors (no regularization): the components' own vectors, the
# same at 1 and 2 ranks (a Krylov basis of the repeated eigenvalue would not be)
components)
  net=(-network deskew,sal1 -sal1_patch 11 -sal1_stride 5 -sal1_zero_patches drop -sal1_procedures knn9 -sal1_knn9_k 1 -sal1_knn9_neig 4)
  timeout 300 ./tools/mpirun.sh 1 "$BUILD/sanet" -input "$IN" -output "$TMP/np1" "${net[@]}" >"$TMP/log1" 2>&1 || { tail "$TMP/log1"; exit 1; }
  run_ok "$TMP/log" -input "$IN" -output "$OUT" "${net[@]}"
  grep -q "procedure sal1_knn9_: the graph has [0-9]* components with edges; the eigenvalue 1 repeats" "$TMP/log" || { grep components "$TMP/log"; echo "FAIL: not said"; exit 1; }
  "$PY" -c "
import h5py, sys
a = h5py.File('$TMP/np1/stage-2-sal1.h5', 'r')['maps'][...]; b = h5py.File('$OUT/stage-2-sal1.h5', 'r')['maps'][...]
d = abs(a - b).max(); print('largest difference between 1 and 2 ranks:', d)
sys.exit(0 if d < 1e-12 else 1)" || { echo "FAIL: layer-1 features depend on the rank count"; exit 1; } ;;
# digits in names are not numbers: a time-stamped output folder is fine
output_digits)
  run_ok "$TMP/log" -input "$IN" -output "$TMP/20261203123456" "${BASE[@]}" -dry_run
  grep -q "dry run: input and options are valid" "$TMP/log" || { echo "FAIL: no dry-run line"; exit 1; }
  echo "ok" ;;
# long eigensolves say how far they are
progress)
  run_ok "$TMP/log" -input "$IN" -output "$OUT" "${BASE[@]}" -sal1_knn9_progress 0.000001
  grep -q "sal1_knn9_: eigensolver restart [0-9]* (at most 1000), [0-9a-z]* .*eigenpairs converged" "$TMP/log" || { echo "FAIL: no progress line"; exit 1; }
  echo "ok: $(grep -c 'eigensolver restart' "$TMP/log") progress lines" ;;
# options that only report (progress lines) do not make a stage stale
digest_progress)
  run_ok "$TMP/log" -input "$IN" -output "$OUT" "${BASE[@]}"
  run_ok "$TMP/log2" -input "$IN" -output "$OUT" "${BASE[@]}" -resume -sal1_knn9_progress 5
  grep -q "sal1: reused $OUT/stage-2-sal1.h5" "$TMP/log2" || { grep -E "reused|refusing" "$TMP/log2"; echo "FAIL: sal1 recomputed for a progress option"; exit 1; }
  echo "ok: sal1 reused" ;;
*) echo "usage: $0 CASE"; exit 2 ;;
esac
