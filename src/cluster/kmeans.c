#include "sanet.h"
#include <petscblaslapack.h>

/* Distributed k-means: greedy k-means++ seeding (as scikit-learn) and Lloyd iterations
   over rows block-distributed across ranks. Every random draw is addressed by
   (seed, restart, draw number) and every pick by global row index, so the choices do
   not depend on the rank count; the cumulative D^2 weights used to pick candidates are
   summed in global row order (passed rank to rank), so they are bitwise those of a
   serial run. */

#if defined(PETSC_USE_COMPLEX)
  #error "sanet k-means needs real scalars (dgemm on PetscReal data)"
#endif

struct _p_SanetKMeans {
  MPI_Comm      comm;
  char         *prefix;
  PetscInt      K;        /* clusters */
  PetscInt      restarts; /* independent seedings; the lowest inertia wins */
  PetscInt      max_it;   /* Lloyd iterations per restart */
  PetscInt      trials;   /* k-means++ candidates per centre; 0 = 2 + floor(log K) */
  PetscReal     tol;      /* relative to the mean per-feature variance */
  unsigned long seed;
  PetscBool     view;
  /* statistics of the last Apply, for View */
  PetscBool applied;
  PetscInt  best_restart, best_its, Nglobal;
  PetscReal best_inertia;
};

/* Per-Apply working state shared by the helpers below. */
typedef struct {
  MPI_Comm         comm;
  PetscMPIInt      rank, size;
  PetscInt         nlocal, dim, N, rstart;
  PetscInt        *starts; /* size+1 global row ranges, to find the owner of a row */
  const PetscReal *X;
  PetscReal       *xnorm; /* ||x_i||^2 */
  PetscReal       *G;     /* block x ncols scratch for GEMM */
  PetscReal       *cnorm;
} KMWork;

/* -log_view events, registered on first Create */
static PetscClassId  SANET_KMEANS_CLASSID;
static PetscLogEvent KM_Seed, KM_Lloyd;
static PetscBool     km_registered = PETSC_FALSE;

#define KM_BLOCK 256 /* rows per GEMM block: scratch stays small and the block stays in cache */

PetscErrorCode SanetKMeansCreate(MPI_Comm comm, SanetKMeans *km)
{
  SanetKMeans k;

  PetscFunctionBegin;
  PetscCheck(km, comm, PETSC_ERR_ARG_NULL, "SanetKMeansCreate needs an output pointer");
  if (!km_registered) {
    PetscCall(PetscClassIdRegister("SanetKMeans", &SANET_KMEANS_CLASSID));
    PetscCall(PetscLogEventRegister("KMeansSeed", SANET_KMEANS_CLASSID, &KM_Seed));
    PetscCall(PetscLogEventRegister("KMeansLloyd", SANET_KMEANS_CLASSID, &KM_Lloyd));
    km_registered = PETSC_TRUE;
  }
  PetscCall(PetscNew(&k));
  k->comm     = comm;
  k->K        = 8;
  k->restarts = 10;
  k->max_it   = 300;
  k->trials   = 0;
  k->tol      = 1e-4;
  k->seed     = 0;
  *km         = k;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansSetOptionsPrefix(SanetKMeans km, const char prefix[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(km->prefix));
  PetscCall(PetscStrallocpy(prefix, &km->prefix));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansSetClusters(SanetKMeans km, PetscInt K)
{
  PetscFunctionBegin;
  PetscCheck(K >= 1, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "Number of clusters %" PetscInt_FMT " must be >= 1", K);
  km->K = K;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansSetSeed(SanetKMeans km, unsigned long seed)
{
  PetscFunctionBegin;
  km->seed = seed;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansSetFromOptions(SanetKMeans km)
{
  const char *p = km->prefix ? km->prefix : "";
  PetscInt    seed;
  PetscBool   flg;

  PetscFunctionBegin;
  /* PetscInt is 32-bit here: expose the seed modulo its range, set it only when given */
  seed = (PetscInt)(km->seed % (unsigned long)PETSC_MAX_INT);
  PetscOptionsBegin(km->comm, km->prefix, "k-means clustering", "SanetKMeans");
  PetscCall(PetscOptionsInt("-clusters", "Number of clusters K", "SanetKMeansSetClusters", km->K, &km->K, NULL));
  PetscCall(PetscOptionsInt("-restarts", "Independent k-means++ seedings; the lowest inertia is kept", "SanetKMeansSetFromOptions", km->restarts, &km->restarts, NULL));
  PetscCall(PetscOptionsInt("-max_it", "Maximum Lloyd iterations per restart", "SanetKMeansSetFromOptions", km->max_it, &km->max_it, NULL));
  PetscCall(PetscOptionsReal("-tol", "Stop when the squared centre shift is below tol times the mean feature variance", "SanetKMeansSetFromOptions", km->tol, &km->tol, NULL));
  PetscCall(PetscOptionsInt("-init_trials", "k-means++ candidates per centre (0: 2+log K, 1: plain k-means++)", "SanetKMeansSetFromOptions", km->trials, &km->trials, NULL));
  PetscCall(PetscOptionsInt("-seed", "Seed of the k-means++ draws", "SanetKMeansSetSeed", seed, &seed, &flg));
  PetscCall(PetscOptionsBool("-view", "View the settings and result after Apply", "SanetKMeansView", km->view, &km->view, NULL));
  PetscOptionsEnd();
  PetscCheck(km->K >= 1, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sclusters %" PetscInt_FMT " must be >= 1", p, km->K);
  PetscCheck(km->restarts >= 1, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%srestarts %" PetscInt_FMT " must be >= 1", p, km->restarts);
  PetscCheck(km->max_it >= 1, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%smax_it %" PetscInt_FMT " must be >= 1", p, km->max_it);
  PetscCheck(km->tol >= 0, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%stol %g must be >= 0", p, (double)km->tol);
  PetscCheck(km->trials >= 0, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sinit_trials %" PetscInt_FMT " must be >= 0", p, km->trials);
  if (flg) {
    PetscCheck(seed >= 0, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sseed %" PetscInt_FMT " must be >= 0", p, seed);
    km->seed = (unsigned long)seed;
  }
  PetscFunctionReturn(0);
}

static PetscInt Trials(SanetKMeans km)
{
  return km->trials > 0 ? km->trials : 2 + (PetscInt)PetscLogReal((PetscReal)km->K);
}

PetscErrorCode SanetKMeansView(SanetKMeans km, PetscViewer viewer)
{
  PetscBool isascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(km->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &isascii));
  if (!isascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "SanetKMeans (prefix %s): K=%" PetscInt_FMT " restarts=%" PetscInt_FMT " max_it=%" PetscInt_FMT " tol=%g seed=%lu\n", km->prefix ? km->prefix : "none", km->K, km->restarts, km->max_it, (double)km->tol, km->seed));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "initialization: greedy k-means++ with %" PetscInt_FMT " candidates per centre\n", Trials(km)));
  if (km->applied) PetscCall(PetscViewerASCIIPrintf(viewer, "last run: N=%" PetscInt_FMT ", best restart %" PetscInt_FMT " after %" PetscInt_FMT " iterations, inertia %.10g\n", km->Nglobal, km->best_restart, km->best_its, (double)km->best_inertia));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansDestroy(SanetKMeans *km)
{
  PetscFunctionBegin;
  if (!*km) PetscFunctionReturn(0);
  PetscCall(PetscFree((*km)->prefix));
  PetscCall(PetscFree(*km));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------ */

/* G (nb x nc, row-major) = Xb (nb x dim, row-major) * C^T (C: nc x dim, row-major).
   Row-major A is column-major A^T, so this is G^T = C * Xb^T in BLAS terms. Packing Xb
   costs about as much as the multiply at K ~ 50: one pass over X, memory bound. */
static PetscErrorCode Gemm(PetscInt nb, PetscInt nc, PetscInt dim, const PetscReal *Xb, const PetscReal *C, PetscReal *G)
{
  PetscBLASInt m, n, k;
  PetscScalar  one = 1.0, zero = 0.0;

  PetscFunctionBegin;
  PetscCall(PetscBLASIntCast(nc, &m));
  PetscCall(PetscBLASIntCast(nb, &n));
  PetscCall(PetscBLASIntCast(dim, &k));
  PetscCallBLAS("BLASgemm", BLASgemm_("T", "N", &m, &n, &k, &one, C, &k, Xb, &k, &zero, G, &m));
  PetscCall(PetscLogFlops(2.0 * nb * nc * dim));
  PetscFunctionReturn(0);
}

static PetscErrorCode Norms(PetscInt n, PetscInt dim, const PetscReal *A, PetscReal *nrm)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal *a = A + (size_t)i * dim;
    PetscReal        s = 0;
    for (PetscInt d = 0; d < dim; d++) s += a[d] * a[d];
    nrm[i] = s;
  }
  PetscFunctionReturn(0);
}

static inline PetscReal Dist2(PetscInt dim, const PetscReal *a, const PetscReal *b)
{
  PetscReal s = 0;
  for (PetscInt d = 0; d < dim; d++) {
    PetscReal t = a[d] - b[d];
    s += t * t;
  }
  return s;
}

/* Nearest of nc centres for every local row (ties: lowest centre id); mind gets the
   squared distance from the expanded form, clipped at 0 against cancellation. With
   sums (nc*dim then nc counts) the rows are also added to their cluster while the block
   is still in cache, saving a second pass over X. */
static PetscErrorCode Assign(KMWork *w, PetscInt nc, const PetscReal *C, PetscInt *label, PetscReal *mind, PetscReal *sums)
{
  PetscFunctionBegin;
  PetscCall(Norms(nc, w->dim, C, w->cnorm));
  for (PetscInt b0 = 0; b0 < w->nlocal; b0 += KM_BLOCK) {
    PetscInt nb = PetscMin(KM_BLOCK, w->nlocal - b0);

    PetscCall(Gemm(nb, nc, w->dim, w->X + (size_t)b0 * w->dim, C, w->G));
    for (PetscInt i = 0; i < nb; i++) {
      PetscReal best = PETSC_MAX_REAL;
      PetscInt  bj   = 0;

      for (PetscInt j = 0; j < nc; j++) {
        PetscReal d = w->xnorm[b0 + i] + w->cnorm[j] - 2 * w->G[(size_t)i * nc + j];
        if (d < best) {
          best = d;
          bj   = j;
        }
      }
      label[b0 + i] = bj;
      mind[b0 + i]  = PetscMax(best, 0.0);
      if (sums) {
        const PetscReal *x = w->X + (size_t)(b0 + i) * w->dim;
        PetscReal       *sj = sums + (size_t)bj * w->dim;

        for (PetscInt d = 0; d < w->dim; d++) sj[d] += x[d];
        sums[(size_t)nc * w->dim + bj] += 1;
      }
    }
  }
  PetscFunctionReturn(0);
}

/* Copies global rows ids[0..n) into R (n x dim) on every rank: owners fill, the rest
   contribute zeros, one Allreduce (adding zeros is exact). */
static PetscErrorCode GatherRows(KMWork *w, PetscInt n, const PetscInt ids[], PetscReal *R)
{
  PetscFunctionBegin;
  PetscCall(PetscArrayzero(R, (size_t)n * w->dim));
  for (PetscInt t = 0; t < n; t++)
    if (ids[t] >= w->rstart && ids[t] < w->rstart + w->nlocal) PetscCall(PetscArraycpy(R + (size_t)t * w->dim, w->X + (size_t)(ids[t] - w->rstart) * w->dim, w->dim));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, R, (PetscMPIInt)(n * w->dim), MPIU_REAL, MPIU_SUM, w->comm));
  PetscFunctionReturn(0);
}

/* Running sum of wts in global row order: each rank continues from the previous rank's
   total, so cum[] and the returned total are bitwise those of a serial loop. */
static PetscErrorCode OrderedCumsum(KMWork *w, const PetscReal *wts, PetscReal *cum, PetscReal *total)
{
  PetscReal acc = 0;

  PetscFunctionBegin;
  if (w->rank > 0) PetscCallMPI(MPI_Recv(&acc, 1, MPIU_REAL, w->rank - 1, 0, w->comm, MPI_STATUS_IGNORE));
  for (PetscInt i = 0; i < w->nlocal; i++) {
    acc += wts[i];
    cum[i] = acc;
  }
  if (w->rank < w->size - 1) PetscCallMPI(MPI_Send(&acc, 1, MPIU_REAL, w->rank + 1, 0, w->comm));
  PetscCallMPI(MPI_Bcast(&acc, 1, MPIU_REAL, w->size - 1, w->comm));
  *total = acc;
  PetscFunctionReturn(0);
}

/* Greedy k-means++ (Arthur & Vassilvitskii; candidate trials as scikit-learn). */
static PetscErrorCode Seed(SanetKMeans km, KMWork *w, unsigned long stream, PetscReal *C)
{
  PetscInt       K = km->K, T = Trials(km), *ids, first;
  PetscReal     *closest, *cum, *cand, *cpot, *dcand, pot = 0;
  unsigned long  draw = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(w->nlocal, &closest, w->nlocal, &cum, (size_t)T * w->dim, &cand));
  PetscCall(PetscMalloc3(T, &ids, T, &cpot, (size_t)T * w->nlocal, &dcand));
  first = (PetscInt)(SanetRandUniform(km->seed, stream, draw++) * w->N);
  first = PetscMin(first, w->N - 1);
  PetscCall(GatherRows(w, 1, &first, C));
  for (PetscInt i = 0; i < w->nlocal; i++) closest[i] = Dist2(w->dim, w->X + (size_t)i * w->dim, C);
  for (PetscInt c = 1; c < K; c++) {
    PetscInt best = 0;

    PetscCall(OrderedCumsum(w, closest, cum, &pot));
    /* candidate = first global row whose cumulative weight reaches r*pot */
    for (PetscInt t = 0; t < T; t++) {
      PetscReal r = SanetRandUniform(km->seed, stream, draw++) * pot;

      ids[t] = w->N;
      if (w->nlocal && cum[w->nlocal - 1] >= r) {
        PetscInt lo = 0, hi = w->nlocal - 1;
        while (lo < hi) {
          PetscInt mid = (lo + hi) / 2;
          if (cum[mid] >= r) hi = mid;
          else lo = mid + 1;
        }
        ids[t] = w->rstart + lo;
      }
    }
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, ids, (PetscMPIInt)T, MPIU_INT, MPI_MIN, w->comm));
    for (PetscInt t = 0; t < T; t++) ids[t] = PetscMin(ids[t], w->N - 1); /* rounding past the end */
    PetscCall(GatherRows(w, T, ids, cand));
    /* potential of each candidate: sum of min(current D^2, distance to the candidate);
       the distances are kept so the winner's need not be recomputed */
    PetscCall(Norms(T, w->dim, cand, w->cnorm));
    PetscCall(PetscArrayzero(cpot, T));
    for (PetscInt b0 = 0; b0 < w->nlocal; b0 += KM_BLOCK) {
      PetscInt nb = PetscMin(KM_BLOCK, w->nlocal - b0);

      PetscCall(Gemm(nb, T, w->dim, w->X + (size_t)b0 * w->dim, cand, w->G));
      for (PetscInt i = 0; i < nb; i++)
        for (PetscInt t = 0; t < T; t++) {
          PetscReal d = PetscMax(w->xnorm[b0 + i] + w->cnorm[t] - 2 * w->G[(size_t)i * T + t], 0.0);

          dcand[(size_t)t * w->nlocal + b0 + i] = d;
          cpot[t] += PetscMin(closest[b0 + i], d);
        }
    }
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, cpot, (PetscMPIInt)T, MPIU_REAL, MPIU_SUM, w->comm));
    for (PetscInt t = 1; t < T; t++)
      if (cpot[t] < cpot[best]) best = t;
    PetscCall(PetscArraycpy(C + (size_t)c * w->dim, cand + (size_t)best * w->dim, w->dim));
    for (PetscInt i = 0; i < w->nlocal; i++) closest[i] = PetscMin(closest[i], dcand[(size_t)best * w->nlocal + i]);
  }
  PetscCall(PetscFree3(closest, cum, cand));
  PetscCall(PetscFree3(ids, cpot, dcand));
  PetscFunctionReturn(0);
}

/* Moves each empty cluster's centre onto the point farthest from its own centre
   (ties: lowest global row), taking that point out of its old cluster. Global and
   deterministic: MPI_MAXLOC picks the lowest index among equal values. */
static PetscErrorCode FixEmpty(SanetKMeans km, KMWork *w, PetscInt *label, PetscReal *mind, PetscReal *sums, PetscReal *counts, PetscReal *buf)
{
  PetscFunctionBegin;
  for (PetscInt j = 0; j < km->K; j++) {
    struct {
      double v;
      int    i;
    } loc = {-1.0, 0}, glob;
    PetscMPIInt owner = 0;
    PetscInt    old;

    if (counts[j] > 0) continue;
    for (PetscInt i = 0; i < w->nlocal; i++)
      if (mind[i] > loc.v) {
        loc.v = mind[i];
        loc.i = (int)(w->rstart + i);
      }
    PetscCallMPI(MPI_Allreduce(&loc, &glob, 1, MPI_DOUBLE_INT, MPI_MAXLOC, w->comm));
    if (glob.v <= 0) break; /* every point sits on its centre: nothing to move */
    while (w->starts[owner + 1] <= glob.i) owner++;
    if (w->rank == owner) {
      PetscInt li = glob.i - w->rstart;
      PetscCall(PetscArraycpy(buf, w->X + (size_t)li * w->dim, w->dim));
      buf[w->dim] = (PetscReal)label[li];
      label[li]   = j;
      mind[li]    = -1; /* never moved twice */
    }
    PetscCallMPI(MPI_Bcast(buf, (PetscMPIInt)(w->dim + 1), MPIU_REAL, owner, w->comm));
    old = (PetscInt)buf[w->dim];
    for (PetscInt d = 0; d < w->dim; d++) {
      sums[(size_t)old * w->dim + d] -= buf[d];
      sums[(size_t)j * w->dim + d] = buf[d];
    }
    counts[old] -= 1;
    counts[j] = 1;
    PetscCall(PetscInfo(NULL, "k-means: empty cluster %" PetscInt_FMT " re-seeded at row %d (from cluster %" PetscInt_FMT ")\n", j, glob.i, old));
  }
  PetscFunctionReturn(0);
}

/* One restart: seeding, Lloyd iterations, final assignment and exact inertia. */
static PetscErrorCode Lloyd(SanetKMeans km, KMWork *w, unsigned long stream, PetscReal tolabs, PetscInt *label, PetscReal *inertia, PetscInt *its)
{
  PetscInt   K = km->K, dim = w->dim, *prev, it;
  PetscReal *C, *sums, *mind, *buf, loc;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4((size_t)K * dim, &C, (size_t)K * (dim + 1) + 1, &sums, w->nlocal, &mind, dim + 1, &buf));
  PetscCall(PetscMalloc1(w->nlocal, &prev));
  PetscCall(PetscLogEventBegin(KM_Seed, 0, 0, 0, 0));
  PetscCall(Seed(km, w, stream, C));
  PetscCall(PetscLogEventEnd(KM_Seed, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(KM_Lloyd, 0, 0, 0, 0));
  for (PetscInt i = 0; i < w->nlocal; i++) prev[i] = -1;
  for (it = 0; it < km->max_it;) {
    PetscReal *counts = sums + (size_t)K * dim, shift = 0, changed = 0;

    PetscCall(PetscArrayzero(sums, (size_t)K * (dim + 1) + 1));
    PetscCall(Assign(w, K, C, label, mind, sums));
    for (PetscInt i = 0; i < w->nlocal; i++) {
      if (label[i] != prev[i]) changed += 1;
      prev[i] = label[i];
    }
    /* sums, counts and the changed-label count travel in one reduction */
    sums[(size_t)K * (dim + 1)] = changed;
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, sums, (PetscMPIInt)(K * (dim + 1) + 1), MPIU_REAL, MPIU_SUM, w->comm));
    changed = sums[(size_t)K * (dim + 1)];
    it++;
    if (changed == 0) break; /* strict convergence: centres are already the means */
    PetscCall(FixEmpty(km, w, label, mind, sums, counts, buf));
    for (PetscInt j = 0; j < K; j++) {
      if (counts[j] <= 0) continue; /* could not be refilled: keep the old centre */
      for (PetscInt d = 0; d < dim; d++) {
        PetscReal c = sums[(size_t)j * dim + d] / counts[j], t = c - C[(size_t)j * dim + d];
        shift += t * t;
        C[(size_t)j * dim + d] = c;
      }
    }
    if (shift <= tolabs) break;
  }
  *its = it;
  PetscCall(PetscLogEventEnd(KM_Lloyd, 0, 0, 0, 0));
  /* labels consistent with the final centres; inertia from exact differences */
  PetscCall(Assign(w, K, C, label, mind, NULL));
  loc = 0;
  for (PetscInt i = 0; i < w->nlocal; i++) loc += Dist2(dim, w->X + (size_t)i * dim, C + (size_t)label[i] * dim);
  PetscCall(MPIU_Allreduce(&loc, inertia, 1, MPIU_REAL, MPIU_SUM, w->comm));
  PetscCall(PetscFree4(C, sums, mind, buf));
  PetscCall(PetscFree(prev));
  PetscFunctionReturn(0);
}

/* Renumbers clusters by their smallest global row, so one clustering has one set of
   ids whatever the seeding order. */
static PetscErrorCode Canonicalize(SanetKMeans km, KMWork *w, PetscInt *label)
{
  PetscInt    K = km->K, *minrow, *map;
  PetscInt64 *key;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(K, &minrow, K, &map, K, &key));
  for (PetscInt j = 0; j < K; j++) minrow[j] = w->N; /* empty clusters sort last */
  for (PetscInt i = w->nlocal - 1; i >= 0; i--) minrow[label[i]] = w->rstart + i;
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, minrow, (PetscMPIInt)K, MPIU_INT, MPI_MIN, w->comm));
  /* key = (first row, old id): distinct keys, and empty clusters keep their relative order */
  for (PetscInt j = 0; j < K; j++) key[j] = (PetscInt64)minrow[j] * K + j;
  PetscCall(PetscSortInt64(K, key));
  for (PetscInt r = 0; r < K; r++) map[key[r] % K] = r;
  for (PetscInt i = 0; i < w->nlocal; i++) label[i] = map[label[i]];
  PetscCall(PetscFree3(minrow, map, key));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansApply(SanetKMeans km, PetscInt nlocal, PetscInt dim, const PetscReal *X, PetscInt *labels, PetscReal *inertia)
{
  KMWork     w;
  PetscInt  *lab, nloc = nlocal;
  PetscReal *mean, tolabs = 0, best = PETSC_MAX_REAL;

  PetscFunctionBegin;
  PetscCheck(nlocal >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Local row count %" PetscInt_FMT " must be >= 0", nlocal);
  PetscCheck(dim >= 1, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "k-means feature dimension %" PetscInt_FMT " must be >= 1", dim);
  PetscCall(PetscMemzero(&w, sizeof(w)));
  w.comm   = km->comm;
  w.nlocal = nlocal;
  w.dim    = dim;
  w.X      = X;
  PetscCallMPI(MPI_Comm_rank(km->comm, &w.rank));
  PetscCallMPI(MPI_Comm_size(km->comm, &w.size));
  PetscCall(PetscMalloc1(w.size + 1, &w.starts));
  w.starts[0] = 0;
  PetscCallMPI(MPI_Allgather(&nloc, 1, MPIU_INT, w.starts + 1, 1, MPIU_INT, km->comm));
  for (PetscMPIInt r = 0; r < w.size; r++) {
    PetscCheck(w.starts[r] <= PETSC_MAX_INT - w.starts[r + 1], km->comm, PETSC_ERR_ARG_OUTOFRANGE, "k-means: global row count overflows PetscInt");
    w.starts[r + 1] += w.starts[r];
  }
  w.N      = w.starts[w.size];
  w.rstart = w.starts[w.rank];
  {
    const char *p = km->prefix ? km->prefix : "";
    PetscCheck(w.N >= km->K, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sclusters %" PetscInt_FMT " exceeds the number of rows to cluster (%" PetscInt_FMT ")", p, km->K, w.N);
  }

  PetscCall(PetscMalloc4(nlocal, &w.xnorm, (size_t)KM_BLOCK * PetscMax(km->K, Trials(km)), &w.G, PetscMax(km->K, Trials(km)), &w.cnorm, nlocal, &lab));
  PetscCall(Norms(nlocal, dim, X, w.xnorm));

  /* absolute tolerance as scikit-learn: tol * mean over features of the variance */
  PetscCall(PetscCalloc1(dim, &mean));
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt d = 0; d < dim; d++) mean[d] += X[(size_t)i * dim + d];
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, mean, (PetscMPIInt)dim, MPIU_REAL, MPIU_SUM, km->comm));
  for (PetscInt d = 0; d < dim; d++) mean[d] /= w.N;
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt d = 0; d < dim; d++) {
      PetscReal t = X[(size_t)i * dim + d] - mean[d];
      tolabs += t * t;
    }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &tolabs, 1, MPIU_REAL, MPIU_SUM, km->comm));
  tolabs = km->tol * tolabs / ((PetscReal)w.N * dim);
  PetscCall(PetscFree(mean));

  for (PetscInt r = 0; r < km->restarts; r++) {
    PetscReal in;
    PetscInt  its = 0;

    PetscCall(Lloyd(km, &w, (unsigned long)r, tolabs, lab, &in, &its));
    PetscCall(PetscInfo(NULL, "k-means restart %" PetscInt_FMT ": %" PetscInt_FMT " iterations, inertia %g\n", r, its, (double)in));
    /* strict < keeps the earliest restart on ties, so the choice is reproducible */
    if (in < best) {
      best             = in;
      km->best_restart = r;
      km->best_its     = its;
      PetscCall(PetscArraycpy(labels, lab, nlocal));
    }
  }
  PetscCall(Canonicalize(km, &w, labels));
  km->applied      = PETSC_TRUE;
  km->best_inertia = best;
  km->Nglobal      = w.N;
  if (inertia) *inertia = best;
  PetscCall(PetscFree4(w.xnorm, w.G, w.cnorm, lab));
  PetscCall(PetscFree(w.starts));
  if (km->view) PetscCall(SanetKMeansView(km, NULL));
  PetscFunctionReturn(0);
}
