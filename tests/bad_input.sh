#!/bin/bash
# bad_input.sh CASE: one bad input or option for sanet-convert, sanet-occlude or
# SanetImagesLoad. The program must exit non-zero without crashing, name the offending
# file (or option) in its message, and leave no output file (nor its .tmp) behind.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:?run through tests/run.sh}"
: "${TMP:?run through tests/run.sh (TMP is the scratch directory)}"
PY=/usr/bin/python3
FX="$PY tests/io_fixtures.py"
CONVERT=$BUILD/sanet-convert
OCCLUDE=$BUILD/sanet-occlude
out=$TMP/out.h5

# expect_fail WORD... -- CMD...
expect_fail() {
  local words=() rc
  while [ "$1" != -- ]; do words+=("$1"); shift; done
  shift
  set +e
  timeout 120 "$@" >"$TMP/log" 2>&1
  rc=$?
  set -e
  grep -v 'Configure options' "$TMP/log" | head -n 20
  [ $rc -ne 0 ] || { echo "FAIL: exit status 0"; exit 1; }
  [ $rc -ne 124 ] || { echo "FAIL: timed out"; exit 1; }
  if grep -q 'Caught signal' "$TMP/log"; then echo "FAIL: crashed"; exit 1; fi
  for w in "${words[@]}"; do
    grep -qF -- "$w" "$TMP/log" || { echo "FAIL: message does not mention '$w'"; exit 1; }
  done
  if ls "$TMP" | grep -q '^out\.h5'; then echo "FAIL: output left behind"; exit 1; fi
  echo "ok: failed as expected"
}

idx() { $FX idx "$@"; }
mnist() { expect_fail "$@" -- "$CONVERT" -format mnist -images "$img" -labels "$lab" -o "$out"; }
occlude() { expect_fail "$1" "$2" -- "$OCCLUDE" -input "$1" -o "$out"; }
h5case() { $FX h5 "$TMP/in.h5" "$1"; occlude "$TMP/in.h5" "$2"; }

img=$TMP/img.idx
lab=$TMP/lab.idx
$FX labels "$lab" 10
case "$1" in
  mnist_empty) : >"$img"; mnist "$img" "empty" ;;
  mnist_truncated) idx "$img" 10 28 28 plain; truncate -s -100 "$img"; mnist "$img" "truncated" ;;
  mnist_truncated_gz) idx "$img.gz" 10 28 28; head -c 2000 "$img.gz" >"$img"; mnist "$img" ;;
  mnist_wrong_magic) idx "$img" 10 28 28 magic=0x801; mnist "$img" "magic" ;;
  mnist_oversized_header) idx "$img" 10 28 28 dims=1000000,28,28; mnist "$img" "truncated" ;;
  mnist_overflow) idx "$img" 10 28 28 dims=4294967295,65535,65535; mnist "$img" "overflow" ;;
  mnist_zero_dim) idx "$img" 0 28 28 dims=0,28,28; mnist "$img" "zero" ;;
  mnist_trailing) idx "$img" 10 28 28 extra=7; mnist "$img" "longer" ;;
  mnist_count_mismatch) idx "$img" 10 28 28; $FX labels "$lab" 9; mnist "$img" "$lab" ;;
  mnist_labels_magic) idx "$img" 10 28 28; $FX labels "$lab" 10 magic=0x803; mnist "$lab" "magic" ;;
  mnist_missing) img=$TMP/nothere.idx; mnist "$img" ;;
  mnist_join_size) idx "$img" 10 28 28; idx "$TMP/small.idx" 10 16 16; $FX labels "$TMP/lab2.idx" 10
    expect_fail "$TMP/small.idx" "image size" -- "$CONVERT" -format mnist -images "$img,$TMP/small.idx" -labels "$lab,$TMP/lab2.idx" -o "$out" ;;
  mnist_join_labels) idx "$img" 10 28 28
    expect_fail "-labels" "one labels file per images file" -- "$CONVERT" -format mnist -images "$img,$img" -labels "$lab" -o "$out" ;;
  cifar_size) $FX cifar "$TMP/b.bin" 3 1 10; truncate -s -1 "$TMP/b.bin"
    expect_fail "$TMP/b.bin" "multiple" -- "$CONVERT" -format cifar10 -images "$TMP/b.bin" -o "$out" ;;
  cifar_empty) : >"$TMP/b.bin"
    expect_fail "$TMP/b.bin" "empty" -- "$CONVERT" -format cifar100 -images "$TMP/b.bin" -o "$out" ;;
  cifar_label) $FX cifar "$TMP/b.bin" 3 1 10 badlabel
    expect_fail "$TMP/b.bin" "label" -- "$CONVERT" -format cifar10 -images "$TMP/b.bin" -o "$out" ;;
  cifar_missing) $FX cifar "$TMP/b.bin" 3 2 100
    expect_fail "$TMP/gone.bin" -- "$CONVERT" -format cifar100 -images "$TMP/b.bin,$TMP/gone.bin" -o "$out" ;;
  png_size|png_channels|png_not_png|png_damaged)
    $FX pngdir "$TMP/set" gray
    bad=$TMP/set/b_cls/img01.png
    case "$1" in
      png_size) $FX png "$bad" 4 6 0 8 ;;
      png_channels) $FX png "$bad" 4 5 2 8 ;;
      png_not_png) echo "not a png" >"$bad" ;;
      png_damaged) truncate -s 60 "$bad" ;;
    esac
    expect_fail "$bad" -- "$CONVERT" -format png -images "$TMP/set" -o "$out" ;;
  png_no_classes) mkdir "$TMP/set"
    expect_fail "$TMP/set" -- "$CONVERT" -format png -images "$TMP/set" -o "$out" ;;
  h5_not_hdf5) echo "plain text" >"$TMP/in.h5"; occlude "$TMP/in.h5" "not an HDF5 file" ;;
  h5_missing) occlude "$TMP/none.h5" "does not exist" ;;
  h5_no_images) h5case noimages "no dataset /images" ;;
  h5_rank3) h5case rank3 "rank 3" ;;
  h5_zero_dim) h5case zerodim "zero" ;;
  h5_string) h5case string "uint8" ;;
  h5_int16) h5case int16 "uint8" ;;
  h5_overflow) h5case overflow "overflow" ;;
  h5_unwritten) h5case unwritten "no data" ;;
  h5_nan) h5case nan "NaN" ;;
  h5_inf) h5case inf "Inf" ;;
  h5_range) h5case range "[0,1]" ;;
  h5_label_length) h5case labellen "/labels has 3 entries" ;;
  h5_label_negative) h5case labelneg "negative" ;;
  h5_label_float) h5case labelfloat "integer" ;;
  h5_nan_np2|h5_label_length_np4)
    kind=nan; [ "$1" = h5_label_length_np4 ] && kind=labellen
    $FX h5 "$TMP/in.h5" $kind
    expect_fail "$TMP/in.h5" -- ./tools/mpirun.sh "${1##*_np}" "$BUILD/tests/test_images_load" -input "$TMP/in.h5" ;;
  occlude_one_image) h5case one "at least 2" ;;
  opt_fraction_high) expect_fail "-fraction 1.5" -- "$OCCLUDE" -input data/mnist-2000.h5 -o "$out" -fraction 1.5 ;;
  opt_fraction_zero) expect_fail "-fraction 0" -- "$OCCLUDE" -input data/mnist-2000.h5 -o "$out" -fraction 0 ;;
  opt_seed_negative) expect_fail "-seed -3" -- "$OCCLUDE" -input data/mnist-2000.h5 -o "$out" -seed -3 ;;
  opt_occlude_no_input) expect_fail "-input" -- "$OCCLUDE" -o "$out" ;;
  opt_occlude_no_output) expect_fail "-o" -- "$OCCLUDE" -input data/mnist-2000.h5 ;;
  opt_convert_no_format) expect_fail "-format" -- "$CONVERT" -images data/mnist-2000-images-idx3-ubyte.gz -o "$out" ;;
  opt_convert_bad_format) expect_fail "-format jpeg" -- "$CONVERT" -format jpeg -images x -o "$out" ;;
  opt_convert_no_images) expect_fail "-images" -- "$CONVERT" -format mnist -o "$out" ;;
  opt_convert_no_output) expect_fail "-o" -- "$CONVERT" -format mnist -images data/mnist-2000-images-idx3-ubyte.gz ;;
  opt_convert_labels_cifar) expect_fail "-labels" -- "$CONVERT" -format cifar10 -images x -labels y -o "$out" ;;
  opt_convert_parallel) expect_fail "1 MPI rank" -- ./tools/mpirun.sh 2 "$CONVERT" -format mnist -images data/mnist-2000-images-idx3-ubyte.gz -o "$out" ;;
  keep_existing_output) # a failed run must not touch an earlier result
    echo "earlier result" >"$TMP/keep.h5"
    idx "$img" 10 28 28 magic=0x801
    expect_fail "$img" -- "$CONVERT" -format mnist -images "$img" -o "$TMP/keep.h5"
    [ "$(cat "$TMP/keep.h5")" = "earlier result" ] || { echo "FAIL: existing output changed"; exit 1; }
    [ ! -e "$TMP/keep.h5.tmp" ] || { echo "FAIL: temporary output left behind"; exit 1; } ;;
  output_dir_missing) idx "$img" 10 28 28
    expect_fail "$TMP/nodir/out.h5" -- "$CONVERT" -format mnist -images "$img" -o "$TMP/nodir/out.h5" ;;
  *) echo "bad_input.sh: unknown case $1"; exit 2 ;;
esac
