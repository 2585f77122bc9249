#!/bin/bash
# robustness.sh CASE: faults and bad options of build/sanet not covered by e2e_errors.sh.
# Option cases run 2 ranks on 100 digits and must exit non-zero without crashing, name
# the option (or path) and leave no result. kill_rank kills one rank of a 2-rank run
# with SIGKILL: the job must end within 30 s and -resume must then finish the run.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
n=100; [ "$1" = kill_rank ] && n=500
"$PY" -c "
import h5py
s = h5py.File('data/mnist-2000.h5', 'r')
with h5py.File('$TMP/in.h5', 'w') as g:
    g['images'] = s['images'][:$n]; g['labels'] = s['labels'][:$n]"
IN=$TMP/in.h5
OUT=$TMP/out
BASE=(-options_file tests/robustness.yaml)
fail() { echo "FAIL: $*"; exit 1; }
# expect_fail WORD -- ARGS...
expect_fail() {
  local word=$1 rc; shift 2
  set +e
  timeout 300 ./tools/mpirun.sh 2 "$BUILD/sanet" "$@" >"$TMP/log" 2>&1
  rc=$?
  set -e
  sed '/Option Table entries/,$d' "$TMP/log" | grep -v 'Configure options' >"$TMP/msg"
  tail -n 25 "$TMP/msg"
  [ $rc -ne 0 ] || fail "exit status 0 for: $*"
  [ $rc -ne 124 ] || fail "timed out"
  if grep -qE 'Caught signal|Segmentation|SEGV|AddressSanitizer|runtime error' "$TMP/log"; then fail "crashed"; fi
  grep -qF -- "$word" "$TMP/msg" || fail "message does not mention '$word'"
  if ls "$OUT" 2>/dev/null | grep -q 'result'; then fail "left $(ls "$OUT" | grep result) behind"; fi
  echo "ok: exit $rc, message names '$word'"
}
case "$1" in
patch_big)    expect_fail "larger than its 28x28 input" -- -input "$IN" -output "$OUT" "${BASE[@]}" -sal1_patch 40 -sal1_pad false ;;
stride_zero)  expect_fail "-sal1_stride 0" -- -input "$IN" -output "$OUT" "${BASE[@]}" -sal1_stride 0 ;;
pool_zero)    expect_fail "-pool_size 0" -- -input "$IN" -output "$OUT" "${BASE[@]}" -pool_size 0 ;;
neig_big)     expect_fail "-sal1_knn9_neig 100000" -- -input "$IN" -output "$OUT" "${BASE[@]}" -sal1_knn9_neig 100000 ;;
output_file)  OUT=$TMP/afile; : >"$OUT"; expect_fail "$OUT" -- -input "$IN" -output "$OUT" "${BASE[@]}" ;;
output_under_file) : >"$TMP/afile"; OUT=$TMP/afile/sub; expect_fail "$OUT" -- -input "$IN" -output "$OUT" "${BASE[@]}" ;;
kill_rank)
  ./tools/mpirun.sh 2 "$BUILD/sanet" -input "$IN" -output "$OUT" "${BASE[@]}" -seed 3 >"$TMP/killed.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do grep -q '^sal2: ' "$TMP/killed.log" && break; sleep 0.1; done
  grep -q '^sal2: ' "$TMP/killed.log" || { kill -9 "$pid" 2>/dev/null; fail "layer 2 never started: $(tail -5 "$TMP/killed.log")"; }
  ranks=$(pgrep -P "$pid" || true)
  victim=$(echo "$ranks" | tail -n 1)
  [ -n "$victim" ] || { kill -9 "$pid" 2>/dev/null; fail "no rank process under mpirun $pid"; }
  t0=$(date +%s)
  kill -9 "$victim"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    for r in $ranks; do kill -9 "$r" 2>/dev/null || true; done
    kill -9 "$pid" 2>/dev/null || true
    fail "job still running 30 s after rank $victim was killed"
  fi
  set +e; wait "$pid"; rc=$?; set -e
  secs=$(( $(date +%s) - t0 ))
  echo "job ended ${secs}s after the kill of rank process $victim, exit $rc"
  alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
  for r in $ranks; do
    for _ in $(seq 1 50); do alive "$r" || break; sleep 0.1; done
    if alive "$r"; then kill -9 "$r"; fail "rank process $r survived the job by 5 s"; fi
  done
  [ $rc -ne 0 ] || fail "killed job exited 0"
  [ -f "$OUT/stage-1-sal1.h5" ] || fail "no layer-1 stage file after the kill"
  [ ! -f "$OUT/result.h5" ] || fail "killed run left a result"
  timeout 300 ./tools/mpirun.sh 2 "$BUILD/sanet" -input "$IN" -output "$OUT" "${BASE[@]}" -seed 3 -resume >"$TMP/r.log" 2>&1 || fail "resume: $(tail -5 "$TMP/r.log")"
  grep -q '^sal1: reused' "$TMP/r.log" || fail "layer 1 not reused"
  [ -f "$OUT/result.h5" ] || fail "resume left no result"
  echo "ok: resumed" ;;
*) echo "usage: $0 CASE"; exit 2 ;;
esac
