#!/bin/bash
# docs_options.sh: every option that sanet registers, as `sanet -help` lists it for the
# default network and for each network of jobs/*.yaml, is documented in docs/usage.md.
# Options of sanet itself are those help shows without a PETSc or SLEPc manual page.
# A layer's options are looked up in their generic form (-sal1_patch as -salX_patch),
# a procedure's under its table (-sal1_knn9_affinity as -affinity).
set -e
exec </dev/null
cd "${ROOT:-$(dirname "$0")/..}"
BUILD=${BUILD:-build}
TMP=${TMP:-$(mktemp -d)}
{
  "$BUILD/sanet" -help
  for f in jobs/*.yaml; do "$BUILD/sanet" -options_file "$f" -help || echo "FAIL: -help with $f"; done
} >"$TMP/help.txt" 2>&1
! grep -q '^FAIL' "$TMP/help.txt" || { grep '^FAIL' "$TMP/help.txt"; exit 1; }
/usr/bin/python3 - "$TMP/help.txt" docs/usage.md <<'PYEOF'
import re, sys
help_text, docs = open(sys.argv[1]).read(), open(sys.argv[2]).read()
names = set()
for line in help_text.splitlines():
    m = re.match(r'\s+-([a-z][a-z0-9_]*)\b.*\((None|Sanet[A-Za-z]*)\)\s*$', line)
    if m: names.add(m.group(1))
assert len(names) > 60, f'only {len(names)} sanet options found in -help: its format changed'
def documented(form):
    return re.search(r'`' + re.escape(form) + r'[` ]', docs) is not None
types = ('deskew', 'pool', 'code', 'bin', 'sal')
missing = []
for n in sorted(names):
    tok = n.split('_')
    t = next((t for t in types if tok[0].startswith(t)), None)
    forms = ['-' + n]
    if t and len(tok) > 1:
        forms.append(f'-{t}X_' + '_'.join(tok[1:]))
        forms.append('-<layer>_' + '_'.join(tok[1:]))
        if len(tok) > 2: forms.append('-' + '_'.join(tok[2:]))
    if not any(documented(f) for f in forms): missing.append(f'-{n} (looked for {", ".join(forms)})')
print(f'{len(names)} sanet options in -help, {len(missing)} not in {sys.argv[2]}')
for m in missing: print('  missing:', m)
sys.exit(1 if missing else 0)
PYEOF
