#!/bin/bash
# pictures.sh: build/sanet on the first 300 digits of data/mnist-2000.h5 (2 ranks,
# jobs/mnist-small.yaml), then build/sanet-pictures; every PNG must decode (zlib +
# struct: signature, IHDR, CRCs, inflated size). The confusion matrix's clusters follow
# the ACC matching; stage files come from result.h5's list, never a stale file beside
# them. An unlabelled input gives no confusion.png; -stride (no longer an option) and a
# missing result.h5 fail with messages naming the option or file.
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
# Every picture decodes and is not blank; patterns of 11x11 patches zoomed 4 (at least 44
# pixels), 8 per row; the column order of confusion.png is the ACC matching of the classes
# (scipy), and its matched cells hold result.h5's ACC.
"$PY" - "$TMP" $PER $P <<'PYEOF'
import sys, struct, zlib, re, h5py, numpy as np
from scipy.optimize import linear_sum_assignment
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
for name in ('m/clusters.png', 'm/confusion.png', 'm/embedding.png', 'm/spectrum.png', 'm/patterns.png',
             'nolabels/clusters.png', 'nolabels/embedding.png', 'nolabels/spectrum.png', 'nolabels/patterns.png'):
    w, h, raw = png_size(f'{tmp}/{name}')
    assert len(set(raw)) > 2, f'{name}: blank picture'
    print(f'{name}: {w}x{h} ok')
w, h, _ = png_size(f'{tmp}/m/patterns.png')
assert (w, h) == (min(P, 8) * (11 * 4 + 2) + 2, -(-P // 8) * (11 * 4 + 2) + 2), f'patterns.png {w}x{h}'
w, h, _ = png_size(f'{tmp}/m/embedding.png')
w1, _, _ = png_size(f'{tmp}/nolabels/embedding.png')
assert w > 1.8 * w1, 'embedding.png has no panel by class'
log = open(f'{tmp}/m.pic.log').read()
order = [int(v) for v in re.search(r'columns \(clusters\) in class order: ([0-9 ]+)', log).group(1).split()]
r = h5py.File(f'{tmp}/m/result.h5', 'r'); x = h5py.File(f'{tmp}/m.h5', 'r')
pred, truth = r['labels'][:], x['labels'][:]
K = pred.max() + 1; C = np.zeros((truth.max() + 1, K)); np.add.at(C, (truth, pred), 1)
rows, cols = linear_sum_assignment(-C)
want = [c for _, c in sorted(zip(rows, cols)) if C[_, c] > 0]
want += [k for k in range(K) if k not in want]
assert order == want, f'column order {order}, matching {want}'
acc = float(re.search(r'matched cells hold \d+ of \d+ images \(ACC ([0-9.]+)\)', log).group(1))
assert abs(acc - r.attrs['ACC']) < 1e-4, (acc, r.attrs['ACC'])
assert 'MODULARITY BY EIGENVECTOR COUNT' in log and 'sal1 knn9: EIGENVALUES' in log, 'spectrum panels missing'
print('confusion order and ACC ok:', order, acc)
PYEOF
# A stage file left by another network (a lower number, so first by name) is not used:
# the stage list comes from result.h5, and a listed file whose digest differs is named.
cp "$TMP/nolabels/stage-2-sal1.h5" "$TMP/m/stage-1-salold.h5"
cp "$TMP/m/stage-5-salimg.h5" "$TMP/salimg.keep" && cp "$TMP/nolabels/stage-5-salimg.h5" "$TMP/m/stage-5-salimg.h5"
"$BUILD/sanet-pictures" -input "$TMP/m.h5" -output "$TMP/m" -per_cluster 2 -patterns 4 >"$TMP/stale.log" 2>&1 || { cat "$TMP/stale.log"; echo "FAIL: sanet-pictures beside a stale stage file"; exit 1; }
grep -q "patches of $TMP/m/stage-2-sal1.h5" "$TMP/stale.log" || { cat "$TMP/stale.log"; echo "FAIL: patterns not from the run's own layer-1 file"; exit 1; }
grep -q "stage-5-salimg.h5: digest .* (the file is from another run): not used" "$TMP/stale.log" || { cat "$TMP/stale.log"; echo "FAIL: a stage file of another run not named"; exit 1; }
! grep -q salold "$TMP/stale.log" || { echo "FAIL: the unlisted stage file was read"; exit 1; }
cp "$TMP/salimg.keep" "$TMP/m/stage-5-salimg.h5"
# RGB input and a result.h5 made by hand (no stage list, no input labels): clusters.png
# and embedding.png only, each missing picture said.
"$PY" - "$TMP" <<'PYEOF'
import sys, os, h5py, numpy as np
r = np.random.default_rng(1); d = sys.argv[1]
with h5py.File(f'{d}/rgb.h5', 'w') as f:
    f['images'] = r.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
os.makedirs(f'{d}/rgb', exist_ok=True)
with h5py.File(f'{d}/rgb/result.h5', 'w') as f:
    f['labels'] = (np.arange(20) % 4).astype(np.int32)
    f['features'] = r.random((20, 5)) - 0.5
PYEOF
"$BUILD/sanet-pictures" -input "$TMP/rgb.h5" -output "$TMP/rgb" -per_cluster 3 >"$TMP/rgb.log" 2>&1 || { cat "$TMP/rgb.log"; echo "FAIL: sanet-pictures on RGB"; exit 1; }
[ -f "$TMP/rgb/clusters.png" ] && [ -f "$TMP/rgb/embedding.png" ] && [ ! -e "$TMP/rgb/patterns.png" ] && [ ! -e "$TMP/rgb/confusion.png" ] || { ls "$TMP/rgb"; echo "FAIL: pictures of a hand-made result"; exit 1; }
grep -q "lists no stage files" "$TMP/rgb.log" && grep -q "has no /labels: no confusion.png" "$TMP/rgb.log" || { cat "$TMP/rgb.log"; echo "FAIL: missing pictures not said"; exit 1; }
# Errors name the file or option.
out=$("$BUILD/sanet-pictures" -input "$TMP/m.h5" -output "$TMP/m" -stride 4 2>&1) && { echo "FAIL: -stride accepted (it comes from the stage file)"; exit 1; }
echo "$out" | grep -q -- '-stride' || { echo "$out" | tail; echo "FAIL: no message about -stride"; exit 1; }
out=$("$BUILD/sanet-pictures" -input "$TMP/m.h5" -output "$TMP/nowhere" 2>&1) && { echo "FAIL: missing result.h5 accepted"; exit 1; }
echo "$out" | grep -q "$TMP/nowhere/result.h5" || { echo "$out" | tail; echo "FAIL: message does not name result.h5"; exit 1; }
echo PASS
