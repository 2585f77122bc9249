#!/bin/bash
# tests/fuzz/run.sh BIN...: runs each libFuzzer harness (build-fuzz/fuzz_NAME) for
# FUZZ_SECONDS (default 60) on its committed seed corpus tests/fuzz/corpus/fuzz_NAME,
# one after the other, and prints the executions per harness. New corpus entries go to
# build-fuzz/corpus/ (the committed seeds are only read); a crash, leak, timeout or
# out-of-memory leaves its input in build-fuzz/crashes/ and fails the run.
cd "$(dirname "$0")/../.." || exit 2
secs=${FUZZ_SECONDS:-60}
[ $# -gt 0 ] || set -- build-fuzz/fuzz_*
mkdir -p build-fuzz/corpus build-fuzz/crashes build-fuzz/logs
# Open MPI singleton start-up as root inside containers, no OpenBLAS threads
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
# Leaks are checked after every input that allocates more than it frees (libFuzzer),
# not at exit: MPI_Init's allocations in dlopen'ed Open MPI components have one-frame
# stacks that no suppression can name, and the harnesses never call MPI_Finalize.
export ASAN_OPTIONS=leak_check_at_exit=0:${ASAN_OPTIONS:-}
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
fail=0
for bin in "$@"; do
  name=$(basename "$bin")
  seeds=tests/fuzz/corpus/$name
  work=build-fuzz/corpus/$name
  log=build-fuzz/logs/$name.log
  mkdir -p "$work"
  extra=()
  # Open MPI's MPI-IO (ompio/fcoll, or romio) leaks small allocations with unnamed
  # one-frame stacks on every HDF5 file read through the mpio driver, so leak checks
  # are off for the HDF5 harness only; memory errors are still caught by ASan.
  [ "$name" = fuzz_hdf5 ] && extra=(-detect_leaks=0)
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    "${extra[@]}" -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$name-" \
    "$work" "$seeds" >"$log" 2>&1 </dev/null
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
  if [ $rc -eq 0 ]; then
    printf 'ok   %-12s %8s executions in %ss (%s, corpus %s files)\n' "$name" "${execs:-?}" "$secs" "${cov:-cov: ?}" "$(ls "$work" | wc -l)"
  else
    fail=1
    printf 'FAIL %-12s exit %d after %s executions; input: %s\n' "$name" $rc "${execs:-?}" "$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)"
    grep -E 'ERROR|SUMMARY|#[0-9]+ .* in ' "$log" | head -n 15 | sed 's/^/     | /'
  fi
done
exit $fail
