#!/bin/bash
# jobs.sh: every options file in jobs/*.yaml passes `build/sanet -dry_run` on a small
# synthetic input of the image size and channel count its experiment uses, and every
# SLURM script in jobs/slurm/*.sbatch parses (`bash -n`) and names an existing options file.
set -e
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
/usr/bin/python3 - "$TMP" <<'PYEOF'
import sys, h5py, numpy as np
r = np.random.default_rng(0)
# name: (H, W, C, N, classes); N is small but above every k and eigenvector count of a dry run
for name, (h, w, c, n, k) in {'rgb32': (32, 32, 3, 40, 10), 'gray16': (16, 16, 1, 40, 10),
                              'gray28': (28, 28, 1, 40, 10), 'gray8': (8, 8, 1, 40, 10), 'gray64': (64, 64, 1, 40, 10),
                              'rgb600x400': (600, 400, 3, 5, 5)}.items():
    with h5py.File(f'{sys.argv[1]}/{name}.h5', 'w') as f:
        f['images'] = r.integers(0, 256, (n, h, w, c), dtype=np.uint8)
        f['labels'] = (np.arange(n) % k).astype(np.int32)
PYEOF
fail=0; n=0
for f in jobs/*.yaml; do
  b=$(basename "$f" .yaml)
  case "$b" in
    cifar*|stl10*) in=rgb32;;
    hipsterwars*)  in=rgb600x400;;
    usps*)         in=gray16;;
    digits*)       in=gray8;;    # scikit-learn's 8x8 digits
    ar*|yaleb*|cmupie*) in=gray64;;
    *)             in=gray28;;   # MNIST and anything else
  esac
  n=$((n+1))
  if ! "$BUILD/sanet" -input "$TMP/$in.h5" -options_file "$f" -dry_run >"$TMP/$b.log" 2>&1; then
    echo "FAIL: $f on a ${in} input:"; tail -n 20 "$TMP/$b.log"; fail=1; continue
  fi
  grep -q '^dry run: input and options are valid' "$TMP/$b.log" || { echo "FAIL: $f: no dry-run line"; fail=1; continue; }
  echo "ok $f ($in): $(grep -c 'output ' "$TMP/$b.log") stages, final $(grep 'output ' "$TMP/$b.log" | tail -n 1 | sed 's/^ *//')"
done
for s in jobs/slurm/*.sbatch; do
  n=$((n+1))
  bash -n "$s" || { echo "FAIL: $s does not parse"; fail=1; continue; }
  for y in $(grep -o 'jobs/[A-Za-z0-9_.-]*\.yaml' "$s" | sort -u); do
    [ -f "$y" ] || { echo "FAIL: $s names $y, which does not exist"; fail=1; }
  done
  grep -q 'srun build/sanet -input' "$s" || { echo "FAIL: $s does not run build/sanet under srun"; fail=1; }
  grep -q -- '-resume' "$s" || { echo "FAIL: $s does not pass -resume"; fail=1; }
  echo "ok $s"
done
[ $fail -eq 0 ] || exit 1
echo "PASS ($n files)"
