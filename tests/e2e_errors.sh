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
# expect_fail WORD -- ARGS...
expect_fail() {
  local word=$1 rc; shift 2
  set +e
  timeout 300 ./tools/mpirun.sh 2 "$BUILD/sanet" "$@" >"$TMP/log" 2>&1
  rc=$?
  set -e
  # the message proper: the log up to PETSc's option table (which repeats every option)
  sed '/Option Table entries/,$d' "$TMP/log" | grep -v 'Configure options' >"$TMP/msg"
  tail -n 25 "$TMP/msg"
  [ $rc -ne 0 ] || { echo "FAIL: exit status 0 for: $*"; exit 1; }
  [ $rc -ne 124 ] || { echo "FAIL: timed out"; exit 1; }
  if grep -qE 'Caught signal|Segmentation|SEGV' "$TMP/log"; then echo "FAIL: crashed"; exit 1; fi
  grep -qF -- "$word" "$TMP/msg" || { echo "FAIL: message does not mention '$word'"; exit 1; }
  if ls "$OUT" 2>/dev/null | grep -q 'result'; then echo "FAIL: left $(ls "$OUT" | grep result) behind"; exit 1; fi
  echo "ok: exit $rc, message names '$word'"
}
case "$1" in
missing_input) expect_fail "-input" -- -output "$OUT" "${BASE[@]}" ;;
no_such_file)  expect_fail "$TMP/no-such.h5" -- -input "$TMP/no-such.h5" -output "$OUT" "${BASE[@]}" ;;
clusters_zero) expect_fail "-clusters" -- -input "$IN" -output "$OUT" "${BASE[@]}" -clusters 0 ;;
clusters_big)  expect_fail "-clusters" -- -input "$IN" -output "$OUT" "${BASE[@]}" -clusters 101 ;;
patch_zero)    expect_fail "-sal1_patch" -- -input "$IN" -output "$OUT" "${BASE[@]}" -sal1_patch 0 ;;
pool_big)      expect_fail "-pool_size" -- -input "$IN" -output "$OUT" "${BASE[@]}" -pool_size 100 ;;
unknown_layer) expect_fail "foo1" -- -input "$IN" -output "$OUT" "${BASE[@]}" -network sal1,foo1 ;;
deskew_late)   expect_fail "deskew" -- -input "$IN" -output "$OUT" "${BASE[@]}" -network sal1,deskew ;;
bad_output)    OUT=/proc/sanet-out; expect_fail "/proc/sanet-out" -- -input "$IN" -output /proc/sanet-out "${BASE[@]}" ;;
seed_negative) expect_fail "-seed" -- -input "$IN" -output "$OUT" "${BASE[@]}" -seed -1 ;;
*) echo "usage: $0 CASE"; exit 2 ;;
esac
