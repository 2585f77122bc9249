#!/bin/bash
# valgrind.sh: memcheck of an end-to-end build/sanet run on 1 rank without mpirun
# (MPI singleton): 40 digits, the network of tests/robustness.yaml with few eigenvectors. Any
# invalid read/write, use of uninitialised values in a branch or bad free fails the
# test (--error-exitcode); library internals are suppressed by Open MPI's suppression
# file and tests/valgrind.supp. Leaks are not checked (MPI and PETSc keep
# process-lifetime allocations).
set -e
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
N=${VALGRIND_IMAGES:-40}
# AddressSanitizer binaries cannot run under valgrind: the ASan suite skips this test
if nm "$BUILD/sanet" 2>/dev/null | grep -q __asan_init; then echo "skipped: $BUILD/sanet is built with ASan"; exit 0; fi
/usr/bin/python3 -c "
import h5py
s = h5py.File('data/mnist-2000.h5', 'r')
with h5py.File('$TMP/in.h5', 'w') as g:
    g['images'] = s['images'][:$N]; g['labels'] = s['labels'][:$N]"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
supp=(--suppressions=tests/valgrind.supp)
[ -f /usr/share/openmpi/openmpi-valgrind.supp ] && supp+=(--suppressions=/usr/share/openmpi/openmpi-valgrind.supp)
set +e
timeout 600 valgrind --error-exitcode=99 --leak-check=no --num-callers=30 --track-origins=no "${supp[@]}" \
  "$BUILD/sanet" -input "$TMP/in.h5" -output "$TMP/out" -options_file tests/robustness.yaml \
  -sal1_knn9_neig 6 -sal1_knn17_neig 6 -sal2_knn9_neig 3 -sal2_knn17_neig 3 -kmeans_restarts 2 -clusters 5 >"$TMP/log" 2>&1
rc=$?
set -e
grep -E '^==[0-9]+== (ERROR SUMMARY|Invalid|Conditional|Use of|Syscall|Mismatched|Source and)' "$TMP/log" | sort | uniq -c
tail -n 5 "$TMP/log"
[ $rc -eq 0 ] || { echo "FAIL: exit $rc"; grep -A25 -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched)' "$TMP/log" | head -n 80; exit 1; }
[ -f "$TMP/out/result.h5" ] || { echo "FAIL: no result"; exit 1; }
echo "ok: valgrind clean"
