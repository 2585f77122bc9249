#include "sanet.h"

/* External clustering metrics, matching scikit-learn 1.2 definitions:
   ACC (Hungarian-matched accuracy), NMI (arithmetic normalisation), ARI, and the
   pairwise F1 score. Pair counts are kept in 64-bit integers: N^2 overflows 32 bits
   long before N reaches the sizes we cluster. */

/* Minimising Hungarian algorithm with potentials (Kuhn-Munkres, O(n^3)) on the cost
   matrix c (n x n, row-major); rowmatch[i] = column assigned to row i. */
static PetscErrorCode HungarianMin(PetscInt n, const PetscReal c[], PetscInt rowmatch[])
{
  PetscReal *u, *v, *minv;
  PetscInt  *p, *way;
  PetscBool *used;

  PetscFunctionBegin;
  /* 1-based arrays with a virtual column 0, as in the classic formulation */
  PetscCall(PetscMalloc3(n + 1, &u, n + 1, &v, n + 1, &minv));
  PetscCall(PetscMalloc3(n + 1, &p, n + 1, &way, n + 1, &used));
  for (PetscInt j = 0; j <= n; j++) {
    u[j] = 0;
    v[j] = 0;
    p[j] = 0;
    way[j] = 0;
  }
  for (PetscInt i = 1; i <= n; i++) {
    PetscInt j0 = 0;

    p[0] = i;
    for (PetscInt j = 0; j <= n; j++) {
      minv[j] = PETSC_MAX_REAL;
      used[j] = PETSC_FALSE;
    }
    do {
      PetscInt  i0 = p[j0], j1 = 0;
      PetscReal delta = PETSC_MAX_REAL;

      used[j0] = PETSC_TRUE;
      for (PetscInt j = 1; j <= n; j++) {
        if (used[j]) continue;
        PetscReal cur = c[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j]  = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1    = j;
        }
      }
      PetscCheck(j1 > 0, PETSC_COMM_SELF, PETSC_ERR_FP, "Hungarian algorithm: non-finite weights in the %" PetscInt_FMT " x %" PetscInt_FMT " matrix", n, n);
      for (PetscInt j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] != 0);
    /* unwind the augmenting path */
    do {
      PetscInt j1 = way[j0];
      p[j0]       = p[j1];
      j0          = j1;
    } while (j0);
  }
  for (PetscInt j = 1; j <= n; j++) rowmatch[p[j] - 1] = j - 1;
  PetscCall(PetscFree3(u, v, minv));
  PetscCall(PetscFree3(p, way, used));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetHungarianMax(PetscInt n, const PetscReal w[], PetscInt assign[])
{
  PetscReal *c, wmax = PETSC_MIN_REAL;

  PetscFunctionBegin;
  PetscCheck(n >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Hungarian matrix size %" PetscInt_FMT " must be >= 0", n);
  if (!n) PetscFunctionReturn(0);
  for (PetscInt k = 0; k < n * n; k++) {
    PetscCheck(!PetscIsInfOrNanReal(w[k]), PETSC_COMM_SELF, PETSC_ERR_FP, "Hungarian matrix entry %" PetscInt_FMT " is not finite", k);
    wmax = PetscMax(wmax, w[k]);
  }
  /* maximising w = minimising wmax - w, which keeps costs non-negative */
  PetscCall(PetscMalloc1(n * n, &c));
  for (PetscInt k = 0; k < n * n; k++) c[k] = wmax - w[k];
  PetscCall(HungarianMin(n, c, assign));
  PetscCall(PetscFree(c));
  PetscFunctionReturn(0);
}

/* n choose 2 as a 64-bit integer */
static inline int64_t Pairs(int64_t n)
{
  return n * (n - 1) / 2;
}

PetscErrorCode SanetMetricsCompute(PetscInt N, const PetscInt truth[], const PetscInt pred[], SanetMetrics *m)
{
  PetscInt   nc = 0, nk = 0, n, *assign, *rows, *cols, nzrows = 0, nzcols = 0;
  PetscReal *w, hrow = 0, hcol = 0, mi = 0;
  int64_t    sumij = 0, sumi = 0, sumj = 0, tot, matched = 0;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(m, sizeof(*m)));
  PetscCheck(N > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Metrics need at least one sample, got N = %" PetscInt_FMT, N);
  for (PetscInt i = 0; i < N; i++) {
    PetscCheck(truth[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Ground-truth label %" PetscInt_FMT " of sample %" PetscInt_FMT " is negative", truth[i], i);
    PetscCheck(pred[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Cluster label %" PetscInt_FMT " of sample %" PetscInt_FMT " is negative", pred[i], i);
    nc = PetscMax(nc, truth[i] + 1);
    nk = PetscMax(nk, pred[i] + 1);
  }
  /* labels index the table directly: absurd label values must not overflow its size */
  PetscCheck((PetscInt64)nc * nk <= PETSC_MAX_INT && (PetscInt64)PetscMax(nc, nk) * PetscMax(nc, nk) <= PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Labels up to %" PetscInt_FMT " (classes) and %" PetscInt_FMT " (clusters) make a contingency table too large", nc - 1, nk - 1);
  m->nclasses  = nc;
  m->nclusters = nk;
  PetscCall(PetscCalloc1(nc * nk, &m->confusion));
  for (PetscInt i = 0; i < N; i++) m->confusion[truth[i] * nk + pred[i]]++;
  PetscCall(PetscCalloc2(nc, &rows, nk, &cols));
  for (PetscInt a = 0; a < nc; a++)
    for (PetscInt b = 0; b < nk; b++) {
      rows[a] += m->confusion[a * nk + b];
      cols[b] += m->confusion[a * nk + b];
    }

  /* ACC: best one-to-one matching; padding to a square matrix with zeros lets surplus
     clusters (or classes) stay unmatched */
  n = PetscMax(nc, nk);
  PetscCall(PetscCalloc2(n * n, &w, n, &assign));
  for (PetscInt a = 0; a < nc; a++)
    for (PetscInt b = 0; b < nk; b++) w[a * n + b] = (PetscReal)m->confusion[a * nk + b];
  PetscCall(SanetHungarianMax(n, w, assign));
  for (PetscInt a = 0; a < nc; a++)
    if (assign[a] < nk) matched += m->confusion[a * nk + assign[a]];
  m->acc = (PetscReal)matched / (PetscReal)N;

  /* NMI: labels absent from 0..max do not count as classes/clusters, as in sklearn's
     np.unique-based special cases */
  for (PetscInt a = 0; a < nc; a++)
    if (rows[a]) {
      PetscReal p = (PetscReal)rows[a] / N;
      hrow -= p * PetscLogReal(p);
      nzrows++;
    }
  for (PetscInt b = 0; b < nk; b++)
    if (cols[b]) {
      PetscReal p = (PetscReal)cols[b] / N;
      hcol -= p * PetscLogReal(p);
      nzcols++;
    }
  if (nzrows == 1 && nzcols == 1) m->nmi = 1.0; /* neither labelling splits the data */
  else {
    if (nzrows > 1 && nzcols > 1) {
      for (PetscInt a = 0; a < nc; a++)
        for (PetscInt b = 0; b < nk; b++) {
          PetscInt nab = m->confusion[a * nk + b];
          if (!nab) continue;
          PetscReal t = ((PetscReal)nab / N) * PetscLogReal((PetscReal)nab * N / ((PetscReal)rows[a] * (PetscReal)cols[b]));
          if (PetscAbsReal(t) >= PETSC_MACHINE_EPSILON) mi += t; /* sklearn drops |term| < eps */
        }
      mi = PetscMax(mi, 0.0);
    }
    m->nmi = mi == 0 ? 0.0 : mi / (0.5 * (hrow + hcol));
  }

  /* Pair counts: sumij = same class and same cluster (TP), sumi = same class (TP+FN),
     sumj = same cluster (TP+FP) */
  for (PetscInt a = 0; a < nc; a++) {
    sumi += Pairs(rows[a]);
    for (PetscInt b = 0; b < nk; b++) sumij += Pairs(m->confusion[a * nk + b]);
  }
  for (PetscInt b = 0; b < nk; b++) sumj += Pairs(cols[b]);
  tot = Pairs(N);
  {
    int64_t tp = sumij, fp = sumj - sumij, fn = sumi - sumij, tn = tot - sumi - sumj + sumij;

    /* ARI in sklearn's pair-confusion form; identical labellings give exactly 1 */
    if (fn == 0 && fp == 0) m->ari = 1.0;
    else {
      PetscReal num = 2.0 * ((PetscReal)tp * (PetscReal)tn - (PetscReal)fn * (PetscReal)fp);
      PetscReal den = (PetscReal)(tp + fn) * (PetscReal)(fn + tn) + (PetscReal)(tp + fp) * (PetscReal)(fp + tn);
      m->ari        = num / den;
    }
    /* F1 = 2PR/(P+R) = 2TP/(2TP+FP+FN); no true pairs means no agreement at all */
    m->fs = tp == 0 ? 0.0 : 2.0 * (PetscReal)tp / (2.0 * (PetscReal)tp + (PetscReal)fp + (PetscReal)fn);
  }
  PetscCall(PetscFree2(w, assign));
  PetscCall(PetscFree2(rows, cols));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetMetricsDestroy(SanetMetrics *m)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(m->confusion));
  m->nclasses = m->nclusters = 0;
  PetscFunctionReturn(0);
}
