#!/bin/bash
# Runs every test of tests/tests.list: one line per test, then "N passed, M failed".
# Line format: NAME NP COMMAND [ARGS...]   (NP = MPI ranks, 0 = run without mpirun).
# $BUILD in a command is the build directory; each test runs in a fresh scratch
# directory exported as $TMP. A command succeeds when it exits 0.
cd "$(dirname "$0")/.." || exit 2
export BUILD=${BUILD:-build}
export ROOT=$PWD
list=${1:-tests/tests.list}
filter=${2:-}
pass=0; fail=0; failed=()
logdir=$BUILD/test-logs; mkdir -p "$logdir"
while read -r name np cmd; do
  case "$name" in ''|'#'*) continue;; esac
  [ -n "$filter" ] && [[ "$name" != *$filter* ]] && continue
  export TMP; TMP=$(mktemp -d "${TMPDIR:-/tmp}/sanet-test.XXXXXX")
  start=$(date +%s)
  if [ "$np" = 0 ]; then
    (eval "$cmd") </dev/null >"$logdir/$name.log" 2>&1; rc=$?
  else
    (eval "timeout 600 ./tools/mpirun.sh $np $cmd") </dev/null >"$logdir/$name.log" 2>&1; rc=$?
  fi
  secs=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then
    pass=$((pass+1)); echo "ok   $name (${secs}s)"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL $name (exit $rc, ${secs}s)"
    tail -n 15 "$logdir/$name.log" | sed 's/^/     | /'
  fi
  rm -rf "$TMP"
done < "$list"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
