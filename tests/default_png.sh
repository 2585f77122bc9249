#!/bin/bash
# default_png.sh gray|rgb: the first run of a new user. 100 real digits each of 0, 1 and
# 7 as a PNG folder (28x28 grey, or 32x32 colour with random colours), sanet-convert,
# then `sanet -input x.h5 -output out` with no other option at 2 ranks: the plan says the
# network came from the image size, ACC >= 0.85 (chance 0.33), and sanet-pictures draws
# every picture from the run's own files.
set -e
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
kind=$1
"$PY" tests/io_fixtures.py digitpng "$TMP/set" "$kind" 100
"$BUILD/sanet-convert" -format png -images "$TMP/set" -o "$TMP/x.h5" >"$TMP/convert.log" 2>&1 || { cat "$TMP/convert.log"; echo "FAIL: sanet-convert"; exit 1; }
grep -q "0 = one, 1 = seven, 2 = zero" "$TMP/convert.log" || { cat "$TMP/convert.log"; echo "FAIL: class map"; exit 1; }
timeout 300 ./tools/mpirun.sh 2 "$BUILD/sanet" -input "$TMP/x.h5" -output "$TMP/out" >"$TMP/run.log" 2>&1 || { tail -20 "$TMP/run.log"; echo "FAIL: default run"; exit 1; }
shape=28x28x1; [ "$kind" = rgb ] && shape=32x32x3
grep -q "^defaults: no -network given: .* derived from the $shape images" "$TMP/run.log" || { grep -m3 . "$TMP/run.log"; echo "FAIL: the plan does not say the defaults came from the image size"; exit 1; }
tail -n 1 "$TMP/run.log" | "$PY" -c "import sys, re; a = float(re.search(r'ACC=([0-9.]+)', sys.stdin.read()).group(1)); print('default run ACC', a); sys.exit(0 if a >= 0.85 else 1)" || { tail -5 "$TMP/run.log"; echo "FAIL: ACC of the default run"; exit 1; }
"$BUILD/sanet-pictures" -input "$TMP/x.h5" -output "$TMP/out" >"$TMP/pic.log" 2>&1 || { cat "$TMP/pic.log"; echo "FAIL: sanet-pictures"; exit 1; }
for p in clusters confusion embedding spectrum patterns; do [ -s "$TMP/out/$p.png" ] || { cat "$TMP/pic.log"; echo "FAIL: no $p.png"; exit 1; }; done
grep '^wrote' "$TMP/pic.log"
echo PASS
