"""Options fuzzer of build/sanet: random option names (valid ones, misspelt ones, other
prefixes) with random values (huge, negative, non-numeric, lists) on a small input, for
FUZZ_SECONDS. Every run must either pass (-dry_run: "input and options are valid") or
stop with one "sanet: error:" message and the exit status of its class (2-6); exit 1
(internal error), a signal, a timeout, PETSc's traceback or an accepted integer past the
32-bit range is a finding, written to build-fuzz/crashes/options-N.txt.
Usage: /usr/bin/python3 tests/fuzz/options.py BUILD/sanet INPUT.h5 OPTIONS.yaml"""
import os, random, subprocess, sys, time

sanet, inp, job = sys.argv[1:4]
secs = float(os.environ.get("FUZZ_SECONDS", "60"))
rng = random.Random(int(os.environ.get("FUZZ_SEED", "1")))

def job_names(path):
    """-prefix_key names of a two- or three-level YAML options file (as PETSc flattens it)."""
    names, stack = [], []
    for line in open(path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        depth = (len(line) - len(line.lstrip())) // 2
        key, _, rest = line.strip().partition(":")
        stack = stack[:depth] + [key]
        if rest.strip().startswith("{"):
            names += ["-" + "_".join(stack + [kv.split(":")[0].strip()]) for kv in rest.strip(" {}\n").split(",")]
        elif rest.strip():
            names.append("-" + "_".join(stack))
    return names

names = job_names(job) + ["-clusters", "-clusters_range", "-seed", "-network", "-kmeans_restarts",
                          "-kmeans_max_it", "-kmeans_tol", "-memory_per_rank_mb", "-sal1_knn",
                          "-sal1_knn_nlist", "-sal1_knn_nprobe", "-sal1_knn_extra", "-salimg_a_eps_tol",
                          "-salimg_a_eps_max_it", "-salimg_a_eps_ncv", "-salimg_a_eps_type", "-sal1_graph_budget_mb"]
values = ["0", "1", "2", "3", "7", "-1", "-5", "100000", "2147483647", "2147483648", "4294967299",
          "99999999999", "-2147483649", "1e-300", "1e300", "0.5", "nan", "inf", "abc", "auto", "",
          "2,3", "3,2", "1,2,3", ",", "true", "false", "exact", "ivf", "krylovschur", "lanczos", "bogus",
          "sal1,sal1", "deskew,sal1,pool,bin,salimg", "1" * 40]

def mutate(name):
    r = rng.random()
    if r < 0.5:
        return name
    i = rng.randrange(1, len(name))
    if r < 0.65:
        return name[:i] + name[i + 1:]                  # drop a letter
    if r < 0.8:
        return name[:i] + rng.choice("abcdexyz_") + name[i:]  # add one
    if r < 0.9:
        return name.replace("sal1", rng.choice(["sal2", "salimg", "pool"]), 1)
    return "-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(rng.randint(1, 30)))

def wraps(v):
    return any(t.lstrip("+-").isdigit() and not -2**31 <= int(t) < 2**31 for t in v.split(","))

os.makedirs("build-fuzz/crashes", exist_ok=True)
start, runs, findings = time.time(), 0, 0
while time.time() - start < secs:
    opts = []
    for _ in range(rng.randint(1, 3)):
        opts += [mutate(rng.choice(names)), rng.choice(values)]
    cmd = [sanet, "-input", inp, "-options_file", job, "-dry_run"] + opts
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        rc, out, err = "timeout", "", ""
    runs += 1
    errors = [l for l in err.splitlines() if l.startswith("sanet: error")]
    wrapped = any(wraps(v) for v in opts[1::2])
    ok = (rc == 0 and "dry run: input and options are valid" in out and not wrapped) or \
         (rc in (2, 3, 4, 5, 6) and len(errors) == 1 and "PETSC ERROR" not in err)
    if not ok:
        findings += 1
        with open("build-fuzz/crashes/options-%d.txt" % findings, "w") as f:
            f.write("%s\nexit %s\n--- stdout\n%s\n--- stderr\n%s\n" % (" ".join(cmd), rc, out[-3000:], err[-3000:]))
        print("finding: exit %s: %s" % (rc, " ".join(opts)))
print("options fuzzer: %d runs in %.0f s, %d findings" % (runs, time.time() - start, findings))
sys.exit(1 if findings else 0)
