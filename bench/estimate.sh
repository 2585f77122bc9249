#!/bin/bash
# estimate.sh INPUT NP [OPTIONS...]: runs sanet and prints, per stage, the plan's rough
# time beside the measured one (the stage's "done" line; the clustering's "k-means" line).
#   ./bench/estimate.sh data/mnist-2000.h5 2 -options_file jobs/mnist-small.yaml
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
in=$1 np=$2; shift 2
out=$(mktemp -d)
./tools/mpirun.sh "$np" "$BUILD/sanet" -input "$in" -output "$out/run" "$@" </dev/null >"$out/log" 2>&1 || { tail -5 "$out/log"; exit 1; }
/usr/bin/python3 - "$out/log" <<'PYEOF'
import re, sys
log = open(sys.argv[1]).read().splitlines()
def secs(t):
    t = t.strip()
    if t.startswith('under'): return 0.5
    v, u = t.split()
    return float(v) * {'s': 1, 'min': 60, 'h': 3600}[u]
est, layer = {}, None
for line in log:
    m = re.match(r'^  (\S+): ', line)
    if m and not line.startswith('   '): layer = m.group(1)
    m = re.match(r'^    output .* ranks?, (.*)$', line)
    if m and layer: est[layer] = secs(m.group(1))
    m = re.match(r'^  clustering and scoring: (.*)$', line)
    if m: est['k-means'] = secs(m.group(1))
meas = {}
for line in log:
    m = re.match(r'^(\S+) done: .*, ([0-9.]+) s, wrote', line)
    if m: meas[m.group(1)] = float(m.group(2))
    m = re.match(r'^k-means: .* in ([0-9.]+) s$', line)
    if m: meas['k-means'] = float(m.group(1))
tot = [l for l in log if l.startswith('estimated time:')]
print('stage        estimated  measured  ratio')
for k in est:
    if k in meas: print(f'{k:12s} {est[k]:9.1f} {meas[k]:9.1f}  ' + (f'{est[k] / meas[k]:5.2f}' if meas[k] >= 1 else '    -'))
print(tot[0] if tot else 'no estimate line')
print([l for l in log if l.startswith('wrote ')][-1])
print('\n'.join(l for l in log if l.startswith('metrics:')))
PYEOF
rm -rf "$out"
