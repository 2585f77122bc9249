/* Tests of SanetMetricsCompute and SanetHungarianMax.
   Without options: known label vectors against scikit-learn 1.2.1 reference values,
   Hungarian against brute force, pair counts past 32 bits.
   With -truth FILE -pred FILE: prints "ACC NMI ARI FS" for the two label files (one
   integer per line), for tests/metrics_sklearn.sh to compare with scikit-learn live. */
#include "sanet.h"

#define TOL 1e-10

static PetscErrorCode CheckClose(const char *what, const char *name, PetscReal got, PetscReal want)
{
  PetscFunctionBegin;
  PetscCheck(PetscAbsReal(got - want) <= TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s %s = %.17g, expected %.17g", what, name, (double)got, (double)want);
  PetscFunctionReturn(0);
}

typedef struct {
  const char *name;
  PetscInt    n;
  PetscInt    truth[20], pred[20];
  PetscReal   acc, nmi, ari, fs; /* from scikit-learn (ACC via scipy linear_sum_assignment) */
} Case;

static PetscErrorCode KnownCases(void)
{
  /* references: sklearn normalized_mutual_info_score, adjusted_rand_score; FS = 2TP/(2TP+FP+FN) */
  static const Case cases[] = {
    {"perfect", 6, {0, 0, 1, 1, 2, 2}, {0, 0, 1, 1, 2, 2}, 1.0, 1.0, 1.0, 1.0},
    {"permuted", 7, {0, 0, 1, 1, 2, 2, 2}, {2, 2, 0, 0, 1, 1, 1}, 1.0, 1.0, 1.0, 1.0},
    {"random", 20, {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 1, 0, 2, 2, 0, 1, 0}, {1, 1, 0, 0, 2, 2, 1, 0, 2, 2, 1, 0, 0, 1, 1, 2, 0, 0, 2, 1}, 0.45, 0.1605566875911705, 0.022556390977443608, 0.3157894736842105},
    {"onecluster", 8, {0, 1, 2, 0, 1, 2, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0}, 0.375, 0.0, 0.0, 0.4},
    {"moreclusters", 10, {0, 0, 0, 1, 1, 1, 1, 2, 2, 2}, {0, 1, 0, 2, 2, 3, 3, 4, 4, 1}, 0.6, 0.7043376913891889, 0.37209302325581395, 0.47058823529411764},
    {"singletons", 5, {0, 0, 1, 1, 1}, {0, 1, 2, 3, 4}, 0.4, 0.5897275217561565, 0.0, 0.0},
  };

  PetscFunctionBegin;
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    SanetMetrics m;

    PetscCall(SanetMetricsCompute(cases[c].n, cases[c].truth, cases[c].pred, &m));
    PetscCall(CheckClose(cases[c].name, "ACC", m.acc, cases[c].acc));
    PetscCall(CheckClose(cases[c].name, "NMI", m.nmi, cases[c].nmi));
    PetscCall(CheckClose(cases[c].name, "ARI", m.ari, cases[c].ari));
    PetscCall(CheckClose(cases[c].name, "FS", m.fs, cases[c].fs));
    if (!strcmp(cases[c].name, "moreclusters")) {
      /* rows = classes, columns = clusters */
      static const PetscInt want[3 * 5] = {2, 1, 0, 0, 0, 0, 0, 2, 2, 0, 0, 1, 0, 0, 2};
      PetscCheck(m.nclasses == 3 && m.nclusters == 5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "confusion shape %" PetscInt_FMT " x %" PetscInt_FMT ", expected 3 x 5", m.nclasses, m.nclusters);
      for (PetscInt k = 0; k < 15; k++) PetscCheck(m.confusion[k] == want[k], PETSC_COMM_SELF, PETSC_ERR_PLIB, "confusion entry %" PetscInt_FMT " = %" PetscInt_FMT ", expected %" PetscInt_FMT, k, m.confusion[k], want[k]);
    }
    PetscCall(SanetMetricsDestroy(&m));
  }
  PetscFunctionReturn(0);
}

/* Best permutation sum by enumerating all n! permutations (Heap's algorithm). */
static PetscReal BruteMax(PetscInt n, const PetscReal w[])
{
  PetscInt  perm[6], cnt[6] = {0}, i = 1;
  PetscReal best, s = 0;

  for (PetscInt k = 0; k < n; k++) perm[k] = k;
  for (PetscInt k = 0; k < n; k++) s += w[k * n + perm[k]];
  best = s;
  while (i < n) {
    if (cnt[i] < i) {
      PetscInt j = (i % 2) ? cnt[i] : 0, t = perm[j];
      perm[j] = perm[i];
      perm[i] = t;
      s       = 0;
      for (PetscInt k = 0; k < n; k++) s += w[k * n + perm[k]];
      best = PetscMax(best, s);
      cnt[i]++;
      i = 1;
    } else cnt[i++] = 0;
  }
  return best;
}

static PetscErrorCode HungarianBrute(void)
{
  PetscReal w[36];
  PetscInt  assign[6];
  unsigned long idx = 0;

  PetscFunctionBegin;
  for (PetscInt n = 1; n <= 6; n++)
    for (PetscInt trial = 0; trial < 50; trial++) {
      PetscBool seen[6] = {PETSC_FALSE};
      PetscReal s = 0, best;

      /* half the trials use small integers, so ties between permutations occur */
      for (PetscInt k = 0; k < n * n; k++) {
        PetscReal u = SanetRandUniform(7, 1, idx++);
        w[k]        = (trial % 2) ? PetscFloorReal(4 * u) : 10 * u - 3;
      }
      PetscCall(SanetHungarianMax(n, w, assign));
      for (PetscInt k = 0; k < n; k++) {
        PetscCheck(assign[k] >= 0 && assign[k] < n && !seen[assign[k]], PETSC_COMM_SELF, PETSC_ERR_PLIB, "Hungarian n=%" PetscInt_FMT " trial %" PetscInt_FMT ": assignment is not a permutation", n, trial);
        seen[assign[k]] = PETSC_TRUE;
        s += w[k * n + assign[k]];
      }
      best = BruteMax(n, w);
      PetscCheck(PetscAbsReal(s - best) <= 1e-12 * (1 + PetscAbsReal(best)), PETSC_COMM_SELF, PETSC_ERR_PLIB, "Hungarian n=%" PetscInt_FMT " trial %" PetscInt_FMT ": sum %.17g, brute force %.17g", n, trial, (double)s, (double)best);
    }
  PetscFunctionReturn(0);
}

/* N = 100,000: N(N-1)/2 pairs overflow 32-bit integers. */
static PetscErrorCode LargeN(void)
{
  const PetscInt N = 100000;
  PetscInt      *t, *p;
  SanetMetrics   m;
  PetscReal      half = N / 2, tp, all, fs;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(N, &t, N, &p));
  for (PetscInt i = 0; i < N; i++) {
    t[i] = i % 2;
    p[i] = 0;
  }
  /* two equal classes in one cluster: ARI 0, FS = 2TP/(2TP+FP) with TP = 2 C(N/2,2) */
  PetscCall(SanetMetricsCompute(N, t, p, &m));
  tp  = half * (half - 1);
  all = 0.5 * N * (N - 1.0);
  fs  = 2 * tp / (tp + all);
  PetscCall(CheckClose("largeN", "ARI", m.ari, 0.0));
  PetscCall(CheckClose("largeN", "FS", m.fs, fs));
  PetscCall(CheckClose("largeN", "ACC", m.acc, 0.5));
  PetscCall(CheckClose("largeN", "NMI", m.nmi, 0.0));
  PetscCall(SanetMetricsDestroy(&m));
  for (PetscInt i = 0; i < N; i++) p[i] = (t[i] + 1) % 2;
  PetscCall(SanetMetricsCompute(N, t, p, &m));
  PetscCall(CheckClose("largeN-swapped", "ARI", m.ari, 1.0));
  PetscCall(CheckClose("largeN-swapped", "FS", m.fs, 1.0));
  PetscCall(CheckClose("largeN-swapped", "ACC", m.acc, 1.0));
  PetscCall(CheckClose("largeN-swapped", "NMI", m.nmi, 1.0));
  PetscCall(SanetMetricsDestroy(&m));
  PetscCall(PetscFree2(t, p));
  PetscFunctionReturn(0);
}

static PetscErrorCode ReadLabels(const char path[], PetscInt *n, PetscInt **lab)
{
  FILE    *fp;
  PetscInt cap = 1024, cnt = 0, v;

  PetscFunctionBegin;
  PetscCall(PetscFOpen(PETSC_COMM_SELF, path, "r", &fp));
  PetscCall(PetscMalloc1(cap, lab));
  while (fscanf(fp, "%" PetscInt_FMT, &v) == 1) {
    if (cnt == cap) {
      PetscCall(PetscRealloc(sizeof(PetscInt) * 2 * cap, lab));
      cap *= 2;
    }
    (*lab)[cnt++] = v;
  }
  PetscCheck(feof(fp), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "Label file %s: item %" PetscInt_FMT " is not an integer", path, cnt + 1);
  PetscCall(PetscFClose(PETSC_COMM_SELF, fp));
  *n = cnt;
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  char      ftruth[PETSC_MAX_PATH_LEN], fpred[PETSC_MAX_PATH_LEN];
  PetscBool ht, hp;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "clustering metrics test"));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "metrics test", NULL);
  PetscCall(PetscOptionsString("-truth", "File of ground-truth labels", NULL, "", ftruth, sizeof(ftruth), &ht));
  PetscCall(PetscOptionsString("-pred", "File of predicted labels", NULL, "", fpred, sizeof(fpred), &hp));
  PetscOptionsEnd();
  PetscCheck(ht == hp, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-truth and -pred go together");
  if (ht) {
    PetscInt    *t, *p, nt, np;
    SanetMetrics m;

    PetscCall(ReadLabels(ftruth, &nt, &t));
    PetscCall(ReadLabels(fpred, &np, &p));
    PetscCheck(nt == np, PETSC_COMM_WORLD, PETSC_ERR_ARG_SIZ, "-truth %s has %" PetscInt_FMT " labels but -pred %s has %" PetscInt_FMT, ftruth, nt, fpred, np);
    PetscCall(SanetMetricsCompute(nt, t, p, &m));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%.17g %.17g %.17g %.17g\n", (double)m.acc, (double)m.nmi, (double)m.ari, (double)m.fs));
    PetscCall(SanetMetricsDestroy(&m));
    PetscCall(PetscFree(t));
    PetscCall(PetscFree(p));
  } else {
    PetscCall(KnownCases());
    PetscCall(HungarianBrute());
    PetscCall(LargeN());
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "metrics: all checks passed\n"));
  }
  PetscCall(PetscFinalize());
  return 0;
}
