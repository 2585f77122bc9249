#!/bin/bash
# fuzz_replay.sh: every committed fuzz seed (tests/fuzz/corpus/) and crash regression
# (tests/fuzz/regressions/<harness>-*) through the normal programs of $BUILD:
# sanet-convert for IDX, CIFAR-10/100 and PNG, test_images_load for HDF5, sanet -dry_run
# for options files. Each must
# either succeed or fail cleanly: an error message (exit 2-6 from sanet-convert and sanet;
# PETSc's message from the test program), no signal, no sanitizer report,
# no timeout, and no output file left behind after a failure.
set -e
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
n=0; bad=0
check() { # FILE CMD...
  local f=$1 rc; shift
  rm -f "$TMP/out.h5"
  set +e; timeout 60 "$@" >"$TMP/log" 2>&1; rc=$?; set -e
  n=$((n+1))
  if [ $rc -eq 0 ]; then return; fi
  if [ $rc -ge 124 ] || grep -qE 'Caught signal|AddressSanitizer|runtime error|Segmentation' "$TMP/log" \
     || ! { grep -q 'PETSC ERROR' "$TMP/log" || { [ $rc -ge 2 ] && [ $rc -le 6 ] && grep -q ': error: ' "$TMP/log"; }; } || ls "$TMP" | grep -q '^out\.h5'; then
    bad=$((bad+1)); echo "FAIL: $f (exit $rc)"; grep -v 'Configure options' "$TMP/log" | head -n 12 | sed 's/^/  | /'
  fi
}
files() { ls -d tests/fuzz/corpus/"$1"/* tests/fuzz/regressions/"$1"-* 2>/dev/null || true; }
for f in $(files fuzz_idx); do
  check "$f" "$BUILD/sanet-convert" -format mnist -images "$f" -o "$TMP/out.h5"
  check "$f" "$BUILD/sanet-convert" -format mnist -images tests/fuzz/corpus/fuzz_idx/images-1x2x2 -labels "$f" -o "$TMP/out.h5"
done
for f in $(files fuzz_cifar); do
  check "$f" "$BUILD/sanet-convert" -format cifar10 -images "$f" -o "$TMP/out.h5"
  check "$f" "$BUILD/sanet-convert" -format cifar100 -images "$f,$f" -o "$TMP/out.h5"
done
for f in $(files fuzz_png); do
  rm -rf "$TMP/png"; mkdir -p "$TMP/png/a"; cp "$f" "$TMP/png/a/x.png"
  check "$f" "$BUILD/sanet-convert" -format png -images "$TMP/png" -o "$TMP/out.h5"
done
for f in $(files fuzz_hdf5); do
  check "$f" "$BUILD/tests/test_images_load" -input "$f"
done
for f in $(files fuzz_options_file); do
  cp "$f" "$TMP/options.yaml"
  check "$f" "$BUILD/sanet" -input data/digits.h5 -options_file "$TMP/options.yaml" -dry_run
done
echo "$n runs, $bad unclean"
[ $bad -eq 0 ] && [ $n -gt 0 ]
