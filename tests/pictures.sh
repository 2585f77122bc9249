#!/bin/bash
# pictures.sh: build/sanet on the first 300 digits of data/mnist-2000.h5 (2 ranks,
# jobs/mnist-small.yaml), then build/sanet-pictures; every PNG must decode (zlib +
# struct: signature, IHDR, CRCs, inflated size) and have the expected width and height.
# Also: an unlabelled input gives no confusion.png, a wrong -stride and a missing
# result.h5 fail with messages naming the file or option.
set -e
exec </dev/null # mpirun must not eat the test list that run.sh reads on stdin
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
PY=/usr/bin/python3
N=300 PER=6 P=12
"$PY" - "$TMP" "$N" <<'PYEOF'
import sys, h5py
src = h5py.File('data/mnist-2000.h5', 'r'); n = int(sys.argv[2])
with h5py.File(sys.argv[1] + '/m.h5', 'w') as g:
    g['images'] = src['images'][:n]; g['labels'] = src['labels'][:n]
with h5py.File(sys.argv[1] + '/nolabels.h5', 'w') as g:
    g['images'] = src['images'][:n]
PYEOF
for x in m nolabels; do
  extra=; [ $x = nolabels ] && extra="-clusters 10"
  timeout 300 ./tools/mpirun.sh 2 "$BUILD/sanet" -input "$TMP/$x.h5" -output "$TMP/$x" -options_file jobs/mnist-small.yaml -seed 1 $extra >"$TMP/$x.log" 2>&1 \
    || { tail -n 30 "$TMP/$x.log"; echo "FAIL: sanet on $x.h5"; exit 1; }
  echo "sanet $x: $(tail -n 1 "$TMP/$x.log")"
  timeout 120 "$BUILD/sanet-pictures" -input "$TMP/$x.h5" -output "$TMP/$x" -per_cluster $PER -patterns $P >"$TMP/$x.pic.log" 2>&1 \
    || { tail -n 30 "$TMP/$x.pic.log"; echo "FAIL: sanet-pictures on $x"; exit 1; }
  grep '^wrote' "$TMP/$x.pic.log"
done
[ ! -e "$TMP/nolabels/confusion.png" ] || { echo "FAIL: confusion.png written for an input without labels"; exit 1; }
# 28x28 digits: zoom 2 (automatic: at least 48 pixels high), 2-pixel gaps; 10 clusters,
# 10 classes, 16-pixel confusion cells with 1-pixel lines; 12 patterns of 11x11 in rows of 8.
"$PY" - "$TMP" $PER $P <<'PYEOF'
import sys, struct, zlib
tmp, per, P = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def png_size(path):
    b = open(path, 'rb').read()
    assert b[:8] == b'\x89PNG\r\n\x1a\n', f'{path}: not a PNG signature'
    pos, idat, w = 8, b'', None
    while pos < len(b):
        n, t = struct.unpack('>I4s', b[pos:pos + 8]); data = b[pos + 8:pos + 8 + n]
        crc, = struct.unpack('>I', b[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(t + data) & 0xffffffff == crc, f'{path}: bad CRC in {t}'
        if t == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', data[:10])
        if t == b'IDAT': idat += data
        pos += 12 + n
        if t == b'IEND': break
    assert w is not None and t == b'IEND', f'{path}: no IHDR or IEND'
    chans = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    assert len(raw) == h * (1 + w * chans * depth // 8), f'{path}: {len(raw)} bytes of pixels for {w}x{h}'
    return w, h, raw
z, cell = 2, 28 * 2
want = {'m/clusters.png': (per * (cell + 2) + 2, 10 * (cell + 2) + 2),
        'm/confusion.png': (10 * 17 + 1, 10 * 17 + 1),
        'm/patterns.png': (min(P, 8) * (11 * z + 2) + 2, -(-P // 8) * (11 * z + 2) + 2),
        'nolabels/clusters.png': (per * (cell + 2) + 2, 10 * (cell + 2) + 2),
        'nolabels/patterns.png': (min(P, 8) * (11 * z + 2) + 2, -(-P // 8) * (11 * z + 2) + 2)}
for name, (ww, hh) in want.items():
    w, h, raw = png_size(f'{tmp}/{name}')
    assert (w, h) == (ww, hh), f'{name}: {w}x{h}, want {ww}x{hh}'
    assert len(set(raw)) > 2, f'{name}: blank picture'
    print(f'{name}: {w}x{h} ok')
PYEOF
# RGB input and a result.h5 made by hand, no stage file: clusters.png and confusion.png only.
"$PY" - "$TMP" <<'PYEOF'
import sys, os, h5py, numpy as np
r = np.random.default_rng(1); d = sys.argv[1]
with h5py.File(f'{d}/rgb.h5', 'w') as f:
    f['images'] = r.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
os.makedirs(f'{d}/rgb', exist_ok=True)
with h5py.File(f'{d}/rgb/result.h5', 'w') as f:
    f['labels'] = (np.arange(20) % 4).astype(np.int32)
    f['features'] = r.random((20, 5))
    f['confusion'] = r.integers(0, 9, (3, 4)).astype(np.int32)
PYEOF
"$BUILD/sanet-pictures" -input "$TMP/rgb.h5" -output "$TMP/rgb" -per_cluster 3 >"$TMP/rgb.log" 2>&1 || { cat "$TMP/rgb.log"; echo "FAIL: sanet-pictures on RGB"; exit 1; }
[ ! -e "$TMP/rgb/patterns.png" ] || { echo "FAIL: patterns.png without a stage file"; exit 1; }
"$PY" - "$TMP" <<'PYEOF'
import sys, struct
d = sys.argv[1]
for name, want in (('clusters.png', (3 * 66 + 2, 4 * 66 + 2)), ('confusion.png', (4 * 17 + 1, 3 * 17 + 1))):
    b = open(f'{d}/rgb/{name}', 'rb').read()
    w, h = struct.unpack('>II', b[16:24])
    assert b[:8] == b'\x89PNG\r\n\x1a\n' and (w, h) == want, f'rgb/{name}: {w}x{h}, want {want}'
    print(f'rgb/{name}: {w}x{h} ok')
PYEOF
# Errors name the file or option.
out=$("$BUILD/sanet-pictures" -input "$TMP/m.h5" -output "$TMP/m" -stride 4 2>&1) && { echo "FAIL: -stride 4 accepted for a stride-5 layer"; exit 1; }
echo "$out" | grep -qE 'stage-[0-9]+-sal1.h5 has a 6x6 patch grid but -patch 11 -stride 4' || { echo "$out" | tail; echo "FAIL: no message about -stride"; exit 1; }
out=$("$BUILD/sanet-pictures" -input "$TMP/m.h5" -output "$TMP/nowhere" 2>&1) && { echo "FAIL: missing result.h5 accepted"; exit 1; }
echo "$out" | grep -q "$TMP/nowhere/result.h5" || { echo "$out" | tail; echo "FAIL: message does not name result.h5"; exit 1; }
echo PASS
