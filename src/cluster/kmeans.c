#include <cblas.h>
#include <float.h>
#include <limits.h>
#include "sanet.h"
#include <petscblaslapack.h>

/* Distributed k-means: greedy k-means++ seeding (as scikit-learn) and Lloyd iterations
   over rows block-distributed across ranks. Every random draw is addressed by
   (seed, restart, draw number) and every pick by global row index, so the choices do
   not depend on the rank count; the cumulative D^2 weights used to pick candidates are
   summed in global row order (passed rank to rank), so they are bitwise those of a
   serial run.

   Speed: the distance GEMMs run in single precision on a float copy of X (half the
   bytes per pass, sgemm) in blocks of about 256 KB of rows; the sums are accumulated in
   double from the float rows while the block is in cache; centres and inertia are
   double. Every float assignment is certified: a row whose best float distance is not
   ahead of the runner-up by more than a rigorous bound on the float error is decided by
   exact double distances, so labels are those of exact arithmetic (ties: lowest id)
   whatever the BLAS blocking or the rank count. Once few labels still move, the exact
   inertia (double rows) is accumulated in the same pass as the sums, so a restart that
   converges needs no extra pass; one that stops on max_it or tol makes one final pass
   (labels and exact inertia together). Data too large for float falls back to dgemm. */

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
  PetscInt  best_restart, best_its, Nglobal, nbest;
  PetscReal best_inertia, median_inertia, worst_inertia;
};

/* Per-Apply working state shared by the helpers below. */
typedef struct {
  MPI_Comm         comm;
  PetscMPIInt      rank, size;
  PetscInt         nlocal, dim, N, rstart;
  PetscInt        *starts; /* size+1 global row ranges, to find the owner of a row */
  const PetscReal *X;
  PetscReal       *xnorm; /* ||x_i||^2 */
  PetscReal       *G;     /* block x ncols scratch for GEMM (double path) */
  PetscReal       *cnorm;
  PetscBool        single; /* float GEMM path (data fit float comfortably) */
  float           *Xf;     /* float copy of X (single path) */
  float           *Cf;     /* float copy of the centres / candidates */
  float           *Gf;     /* block x ncols float GEMM scratch */
  PetscReal       *xrt;    /* sqrt(||x_i||^2), for the float error bound */
  PetscReal        efac;   /* relative float error bound of a dot product of length dim */
  PetscInt         nrecheck; /* rows decided by exact distances (statistics) */
  PetscInt         block;    /* rows per GEMM block */
} KMWork;

/* -log_view events, registered on first Create */
static PetscClassId  SANET_KMEANS_CLASSID;
static PetscLogEvent KM_Seed, KM_Lloyd;
static PetscBool     km_registered = PETSC_FALSE;

/* Rows per GEMM block: KM_BLOCK_BYTES of float rows, so the block is still in L2 when
   its rows are added to the cluster sums, and with K ~ 10 the sgemm stays small enough
   for OpenBLAS's no-packing kernel. Measured on MNIST pixels (dim 784, K 10, 1 rank):
   64 rows 1.06 s, 256 rows 1.47 s, 4096 rows 1.8 to 2.1 s (packing dominated). */
#define KM_BLOCK_BYTES (256 * 1024)

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
  k->restarts = 100;
  k->max_it   = 300;
  k->trials   = 0;
  k->tol      = 0;
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

PetscErrorCode SanetKMeansSetIterations(SanetKMeans km, PetscInt restarts, PetscInt max_it)
{
  PetscFunctionBegin;
  PetscCheck(restarts >= 1 && max_it >= 1, km->comm, PETSC_ERR_ARG_OUTOFRANGE, "k-means restarts %" PetscInt_FMT " and iterations %" PetscInt_FMT " must be >= 1", restarts, max_it);
  km->restarts = restarts;
  km->max_it   = max_it;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansGetIterations(SanetKMeans km, PetscInt *restarts, PetscInt *max_it)
{
  PetscFunctionBegin;
  if (restarts) *restarts = km->restarts;
  if (max_it) *max_it = km->max_it;
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
  PetscCall(PetscOptionsReal("-tol", "Stop when the squared centre shift is below tol times the mean feature variance (0: only when no label changes, a fixed point whatever the rounding)", "SanetKMeansSetFromOptions", km->tol, &km->tol, NULL));
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
  if (km->applied) PetscCall(PetscViewerASCIIPrintf(viewer, "last run: N=%" PetscInt_FMT ", best restart %" PetscInt_FMT " after %" PetscInt_FMT " iterations, inertia %.10g (reached by %" PetscInt_FMT " of %" PetscInt_FMT " restarts; median %.10g, worst %.10g)\n", km->Nglobal, km->best_restart, km->best_its, (double)km->best_inertia, km->nbest, km->restarts, (double)km->median_inertia, (double)km->worst_inertia));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansGetRestartStats(SanetKMeans km, PetscInt *restarts, PetscInt *nbest, PetscReal *median, PetscReal *worst)
{
  PetscFunctionBegin;
  PetscCheck(km->applied, km->comm, PETSC_ERR_ARG_WRONGSTATE, "SanetKMeansGetRestartStats needs a SanetKMeansApply first");
  if (restarts) *restarts = km->restarts;
  if (nbest) *nbest = km->nbest;
  if (median) *median = km->median_inertia;
  if (worst) *worst = km->worst_inertia;
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

/* Single-precision G (nb x nc, row-major) = Xb * C^T on the float copies. */
static void GemmF(PetscInt nb, PetscInt nc, PetscInt dim, const float *Xb, const float *C, float *G)
{
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nb, (blasint)nc, (blasint)dim, 1.0f, Xb, (blasint)dim, C, (blasint)dim, 0.0f, G, (blasint)nc);
}

static void ToFloat(size_t n, const PetscReal *a, float *f)
{
  for (size_t i = 0; i < n; i++) f[i] = (float)a[i];
}

/* Squared distances of nb rows from X + b0 to nc centres into D (nb x nc, row-major),
   expanded form: float GEMM on the single path, double otherwise. Not clipped. */
static PetscErrorCode BlockDist(KMWork *w, PetscInt b0, PetscInt nb, PetscInt nc, const PetscReal *C, PetscReal *D)
{
  PetscFunctionBegin;
  if (w->single) {
    GemmF(nb, nc, w->dim, w->Xf + (size_t)b0 * w->dim, w->Cf, w->Gf);
    PetscCall(PetscLogFlops(2.0 * nb * nc * w->dim));
    for (PetscInt i = 0; i < nb; i++)
      for (PetscInt j = 0; j < nc; j++) D[(size_t)i * nc + j] = w->xnorm[b0 + i] + w->cnorm[j] - 2 * (PetscReal)w->Gf[(size_t)i * nc + j];
  } else {
    PetscCall(Gemm(nb, nc, w->dim, w->X + (size_t)b0 * w->dim, C, D));
    for (PetscInt i = 0; i < nb; i++)
      for (PetscInt j = 0; j < nc; j++) D[(size_t)i * nc + j] = w->xnorm[b0 + i] + w->cnorm[j] - 2 * D[(size_t)i * nc + j];
  }
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

/* Squared distance summed in 8 interleaved partial sums (fixed order, so deterministic):
   a single running sum is one dependent add per element, latency bound. With sum, a is
   also added into sum[] in the same pass. */
static inline PetscReal Dist2Add(PetscInt dim, const PetscReal *restrict a, const PetscReal *restrict b, PetscReal *restrict sum)
{
  PetscReal s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  PetscInt  d    = 0;

  for (; d + 8 <= dim; d += 8)
    for (int l = 0; l < 8; l++) {
      PetscReal t = a[d + l] - b[d + l];
      s[l] += t * t;
    }
  for (; d < dim; d++) {
    PetscReal t = a[d] - b[d];
    s[0] += t * t;
  }
  if (sum)
    for (d = 0; d < dim; d++) sum[d] += a[d];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static inline PetscReal Dist2(PetscInt dim, const PetscReal *a, const PetscReal *b)
{
  return Dist2Add(dim, a, b, NULL);
}

/* Nearest of nc centres for every local row (ties: lowest centre id). On the float
   path a row is certified when its best float distance beats every other by more than
   twice the error bound E = 2 efac |x| max|c| (+ the double rounding of the expanded
   form); otherwise the centres within that margin are compared by exact double
   distances (the true nearest is always among them). mind gets the squared distance
   (exact when rechecked, else the expanded form clipped at 0). With sums (nc*dim then
   nc counts) the rows are also added to their cluster; with inertia the exact squared
   distances to the assigned centres are summed (local part) in the same pass. */
static PetscErrorCode Assign(KMWork *w, PetscInt nc, const PetscReal *C, PetscInt *label, PetscReal *mind, PetscReal *sums, PetscReal *inertia)
{
  const PetscInt dim = w->dim;
  PetscReal      cmax = 0, cn2max = 0, ine = 0;

  PetscFunctionBegin;
  PetscCall(Norms(nc, dim, C, w->cnorm));
  for (PetscInt j = 0; j < nc; j++) cn2max = PetscMax(cn2max, w->cnorm[j]);
  cmax = PetscSqrtReal(cn2max);
  if (w->single) ToFloat((size_t)nc * dim, C, w->Cf);
  for (PetscInt b0 = 0; b0 < w->nlocal; b0 += w->block) {
    PetscInt nb = PetscMin(w->block, w->nlocal - b0);

    PetscCall(BlockDist(w, b0, nb, nc, C, w->G));
    for (PetscInt i = 0; i < nb; i++) {
      const PetscReal *g    = w->G + (size_t)i * nc;
      const PetscReal *x    = w->X + (size_t)(b0 + i) * dim;
      PetscReal        best = PETSC_MAX_REAL;
      PetscInt         bj   = 0;

      for (PetscInt j = 0; j < nc; j++) {
        if (g[j] < best) {
          best = g[j];
          bj   = j;
        }
      }
      if (w->single) {
        PetscReal E = 2 * w->efac * w->xrt[b0 + i] * cmax + 8 * DBL_EPSILON * (w->xnorm[b0 + i] + cn2max) + 1e-30, lim = best + 2 * E;
        PetscInt  ncand = 0;

        for (PetscInt j = 0; j < nc; j++) ncand += (g[j] <= lim);
        if (ncand > 1) { /* near tie: decide by exact distances */
          PetscReal eb = PETSC_MAX_REAL;

          for (PetscInt j = 0; j < nc; j++) {
            if (g[j] <= lim) {
              PetscReal e = Dist2(dim, x, C + (size_t)j * dim);
              if (e < eb) {
                eb = e;
                bj = j;
              }
            }
          }
          best = eb;
          w->nrecheck++;
        }
      }
      label[b0 + i] = bj;
      mind[b0 + i]  = PetscMax(best, 0.0);
      if (sums) {
        PetscReal *sj = sums + (size_t)bj * dim;

        if (w->single) { /* the float row is still in cache from the GEMM */
          const float *xf = w->Xf + (size_t)(b0 + i) * dim;
          for (PetscInt d = 0; d < dim; d++) sj[d] += (PetscReal)xf[d];
        } else
          for (PetscInt d = 0; d < dim; d++) sj[d] += x[d];
        sums[(size_t)nc * dim + bj] += 1;
      }
      if (inertia) ine += Dist2(dim, x, C + (size_t)bj * dim);
    }
  }
  if (inertia) *inertia = ine;
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
    if (w->single) ToFloat((size_t)T * w->dim, cand, w->Cf);
    PetscCall(PetscArrayzero(cpot, T));
    for (PetscInt b0 = 0; b0 < w->nlocal; b0 += w->block) {
      PetscInt nb = PetscMin(w->block, w->nlocal - b0);

      PetscCall(BlockDist(w, b0, nb, T, cand, w->G));
      for (PetscInt i = 0; i < nb; i++)
        for (PetscInt t = 0; t < T; t++) {
          PetscReal d = PetscMax(w->G[(size_t)i * T + t], 0.0);

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

/* One restart: seeding, Lloyd iterations, final assignment and exact inertia. Each pass
   assigns with the current centres and sums the rows and their exact squared distances;
   when no label changed, the centres are the means of the labels and that pass's
   inertia is final. Otherwise (max_it or tol) one last pass gives the labels of the
   final centres and their exact inertia together. */
static PetscErrorCode Lloyd(SanetKMeans km, KMWork *w, unsigned long stream, PetscReal tolabs, PetscInt *label, PetscReal *inertia, PetscInt *its)
{
  PetscInt   K = km->K, dim = w->dim, *prev, it;
  PetscReal *C, *sums, *mind, *buf, loc = 0;
  PetscBool  converged = PETSC_FALSE, spec = PETSC_FALSE;
  size_t     nred = (size_t)K * (dim + 1) + 2; /* sums, counts, changed, inertia */

  PetscFunctionBegin;
  PetscCall(PetscMalloc4((size_t)K * dim, &C, nred, &sums, w->nlocal, &mind, dim + 1, &buf));
  PetscCall(PetscMalloc1(w->nlocal, &prev));
  PetscCall(PetscLogEventBegin(KM_Seed, 0, 0, 0, 0));
  PetscCall(Seed(km, w, stream, C));
  PetscCall(PetscLogEventEnd(KM_Seed, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(KM_Lloyd, 0, 0, 0, 0));
  for (PetscInt i = 0; i < w->nlocal; i++) prev[i] = -1;
  for (it = 0; it < km->max_it;) {
    PetscReal *counts = sums + (size_t)K * dim, shift = 0, changed = 0;

    PetscCall(PetscArrayzero(sums, nred));
    loc = 0;
    PetscCall(Assign(w, K, C, label, mind, sums, spec ? &loc : NULL));
    for (PetscInt i = 0; i < w->nlocal; i++) {
      if (label[i] != prev[i]) changed += 1;
      prev[i] = label[i];
    }
    /* sums, counts, the changed-label count and the inertia travel in one reduction */
    sums[nred - 2] = changed;
    sums[nred - 1] = loc;
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, sums, (PetscMPIInt)nred, MPIU_REAL, MPIU_SUM, w->comm));
    changed = sums[nred - 2];
    it++;
    if (changed == 0) { /* strict convergence: centres are already the means */
      if (spec) *inertia = sums[nred - 1];
      else { /* not foreseen: one pass for the exact inertia only (no GEMM) */
        loc = 0;
        for (PetscInt i = 0; i < w->nlocal; i++) loc += Dist2(dim, w->X + (size_t)i * dim, C + (size_t)label[i] * dim);
        PetscCall(MPIU_Allreduce(&loc, inertia, 1, MPIU_REAL, MPIU_SUM, w->comm));
      }
      converged = PETSC_TRUE;
      break;
    }
    /* few labels moved: the next pass may be the last, so it sums the exact squared
       distances (a read of the double rows) on the way */
    spec = (PetscBool)(changed * 1000 <= w->N);
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
  if (!converged) { /* labels of the final centres, exact inertia in the same pass */
    PetscCall(Assign(w, K, C, label, mind, NULL, &loc));
    PetscCall(MPIU_Allreduce(&loc, inertia, 1, MPIU_REAL, MPIU_SUM, w->comm));
  }
  PetscCall(PetscLogEventEnd(KM_Lloyd, 0, 0, 0, 0));
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

/* Restarts rfirst, rfirst + rstep, ... of the rows on comm (the object's communicator,
   or PETSC_COMM_SELF when every rank holds all rows); the best labels (canonical ids),
   its inertia and restart, and rin[r] for the restarts run. */
static PetscErrorCode Run(SanetKMeans km, MPI_Comm comm, PetscInt nlocal, PetscInt dim, const PetscReal *X, PetscInt rfirst, PetscInt rstep, PetscInt *labels, PetscReal *bestinertia, PetscInt *bestrestart, PetscInt *bestits, PetscReal rin[])
{
  KMWork     w;
  PetscInt  *lab, nloc = nlocal, ncmax;
  PetscReal *mean, tolabs = 0, best = PETSC_MAX_REAL;

  PetscFunctionBegin;
  PetscCheck(nlocal >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Local row count %" PetscInt_FMT " must be >= 0", nlocal);
  PetscCheck(dim >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "k-means feature dimension %" PetscInt_FMT " must be >= 1", dim);
  PetscCall(PetscMemzero(&w, sizeof(w)));
  w.comm   = comm;
  w.nlocal = nlocal;
  w.dim    = dim;
  w.X      = X;
  PetscCallMPI(MPI_Comm_rank(comm, &w.rank));
  PetscCallMPI(MPI_Comm_size(comm, &w.size));
  PetscCall(PetscMalloc1(w.size + 1, &w.starts));
  w.starts[0] = 0;
  PetscCallMPI(MPI_Allgather(&nloc, 1, MPIU_INT, w.starts + 1, 1, MPIU_INT, comm));
  for (PetscMPIInt r = 0; r < w.size; r++) {
    PetscCheck(w.starts[r] <= PETSC_MAX_INT - w.starts[r + 1], comm, PETSC_ERR_ARG_OUTOFRANGE, "k-means: global row count overflows PetscInt");
    w.starts[r + 1] += w.starts[r];
  }
  w.N      = w.starts[w.size];
  w.rstart = w.starts[w.rank];
  {
    const char *p = km->prefix ? km->prefix : "";
    PetscCheck(w.N >= km->K, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sclusters %" PetscInt_FMT " exceeds the number of rows to cluster (%" PetscInt_FMT ")", p, km->K, w.N);
  }

  ncmax = PetscMax(km->K, Trials(km));
  w.block = PetscMax(16, PetscMin(4096, KM_BLOCK_BYTES / (PetscInt)sizeof(float) / dim));
  PetscCall(PetscMalloc4(nlocal, &w.xnorm, (size_t)w.block * ncmax, &w.G, ncmax, &w.cnorm, nlocal, &lab));
  PetscCall(Norms(nlocal, dim, X, w.xnorm));
  /* float path when every |x_i| keeps its dot products far from float overflow and
     underflow: max |x|^2 <= 1e30 (the same on every rank) */
  {
    PetscReal xn2max = 0;
    PetscBool finite = PETSC_TRUE;

    for (PetscInt i = 0; i < nlocal; i++) {
      if (!PetscIsNormalReal(w.xnorm[i]) && w.xnorm[i] != 0) finite = PETSC_FALSE;
      xn2max = PetscMax(xn2max, w.xnorm[i]);
    }
    if (!finite) xn2max = PETSC_MAX_REAL;
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &xn2max, 1, MPIU_REAL, MPI_MAX, comm));
    w.single = (PetscBool)(xn2max <= 1e30);
  }
  if (w.single) {
    PetscCall(PetscMalloc4((size_t)nlocal * dim, &w.Xf, (size_t)ncmax * dim, &w.Cf, (size_t)w.block * ncmax, &w.Gf, nlocal, &w.xrt));
    ToFloat((size_t)nlocal * dim, X, w.Xf);
    for (PetscInt i = 0; i < nlocal; i++) w.xrt[i] = PetscSqrtReal(w.xnorm[i]);
    /* |fl(x).fl(c) summed in float - x.c| <= (gamma_dim + 2u + u^2) sum |x_i c_i|, any
       summation order, u = 2^-24; sum |x_i c_i| <= |x| |c|. Rounded up. */
    w.efac = (1.02 * (PetscReal)dim + 4.0) * (PetscReal)(FLT_EPSILON / 2);
  }

  /* absolute tolerance as scikit-learn: tol * mean over features of the variance (two
     passes over X, skipped when tol = 0) */
  if (km->tol > 0) {
    PetscCall(PetscCalloc1(dim, &mean));
    for (PetscInt i = 0; i < nlocal; i++)
      for (PetscInt d = 0; d < dim; d++) mean[d] += X[(size_t)i * dim + d];
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, mean, (PetscMPIInt)dim, MPIU_REAL, MPIU_SUM, comm));
    for (PetscInt d = 0; d < dim; d++) mean[d] /= w.N;
    for (PetscInt i = 0; i < nlocal; i++)
      for (PetscInt d = 0; d < dim; d++) {
        PetscReal t = X[(size_t)i * dim + d] - mean[d];
        tolabs += t * t;
      }
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &tolabs, 1, MPIU_REAL, MPIU_SUM, comm));
    tolabs = km->tol * tolabs / ((PetscReal)w.N * dim);
    PetscCall(PetscFree(mean));
  }

  *bestrestart = -1;
  *bestits     = 0;
  for (PetscInt r = rfirst; r < km->restarts; r += rstep) {
    PetscReal in;
    PetscInt  its = 0;

    PetscCall(Lloyd(km, &w, (unsigned long)r, tolabs, lab, &in, &its));
    PetscCall(PetscInfo(NULL, "k-means restart %" PetscInt_FMT ": %" PetscInt_FMT " iterations, inertia %g\n", r, its, (double)in));
    rin[r] = in;
    /* strict < keeps the earliest restart on ties, so the choice is reproducible */
    if (in < best) {
      best         = in;
      *bestrestart = r;
      *bestits     = its;
      PetscCall(PetscArraycpy(labels, lab, nlocal));
    }
  }
  if (*bestrestart >= 0) PetscCall(Canonicalize(km, &w, labels));
  *bestinertia = best;
  km->Nglobal  = w.N;
  PetscCall(PetscInfo(NULL, "k-means: %s distance GEMM, %" PetscInt_FMT " local row assignments decided by exact distances\n", w.single ? "float" : "double", w.nrecheck));
  PetscCall(PetscFree4(w.xnorm, w.G, w.cnorm, lab));
  if (w.single) PetscCall(PetscFree4(w.Xf, w.Cf, w.Gf, w.xrt));
  PetscCall(PetscFree(w.starts));
  PetscFunctionReturn(0);
}

/* Spread over restarts: how often the best partition was found says how safe it is
   (restarts that end in the same partition have the same inertia up to rounding). */
static PetscErrorCode Finish(SanetKMeans km, PetscReal best, PetscReal rin[], PetscReal *inertia)
{
  PetscFunctionBegin;
  PetscCall(PetscSortReal(km->restarts, rin));
  km->nbest = 0;
  for (PetscInt r = 0; r < km->restarts; r++) km->nbest += (rin[r] <= best * (1 + 1e-9));
  km->median_inertia = rin[km->restarts / 2];
  km->worst_inertia  = rin[km->restarts - 1];
  km->applied        = PETSC_TRUE;
  km->best_inertia   = best;
  if (inertia) *inertia = best;
  if (km->view) PetscCall(SanetKMeansView(km, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansApply(SanetKMeans km, PetscInt nlocal, PetscInt dim, const PetscReal *X, PetscInt *labels, PetscReal *inertia)
{
  PetscReal *rin, best;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(km->restarts, &rin));
  PetscCall(Run(km, km->comm, nlocal, dim, X, 0, 1, labels, &best, &km->best_restart, &km->best_its, rin));
  PetscCheck(km->best_restart >= 0, km->comm, PETSC_ERR_FP, "k-means: no restart ended with a finite inertia (features with NaN or Inf?)");
  PetscCall(Finish(km, best, rin, inertia));
  PetscCall(PetscFree(rin));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKMeansApplyReplicated(SanetKMeans km, PetscInt N, PetscInt dim, const PetscReal *X, PetscInt *labels, PetscReal *inertia)
{
  PetscMPIInt rank, size;
  PetscReal  *rin, best;
  PetscInt    r, its;
  struct {
    double v;
    int    i;
  } loc, glob;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(km->comm, &rank));
  PetscCallMPI(MPI_Comm_size(km->comm, &size));
  PetscCall(PetscCalloc1(km->restarts, &rin));
  /* rank q runs restarts q, q + P, ...: each is the serial computation on all rows, so
     the winner and its labels are bitwise the same for any rank count */
  PetscCall(Run(km, PETSC_COMM_SELF, N, dim, X, rank, size, labels, &best, &r, &its, rin));
  loc.v = r >= 0 ? (double)best : PETSC_MAX_REAL;
  loc.i = r >= 0 ? (int)r : INT_MAX;
  PetscCallMPI(MPI_Allreduce(&loc, &glob, 1, MPI_DOUBLE_INT, MPI_MINLOC, km->comm));
  PetscCheck(glob.i != INT_MAX, km->comm, PETSC_ERR_FP, "k-means: no restart ended with a finite inertia (features with NaN or Inf?)");
  {
    PetscInt info[2] = {r, its};
    PetscCallMPI(MPI_Bcast(info, 2, MPIU_INT, glob.i % size, km->comm));
    km->best_restart = info[0];
    km->best_its     = info[1];
  }
  PetscCallMPI(MPI_Bcast(labels, (PetscMPIInt)N, MPIU_INT, glob.i % size, km->comm));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, rin, (PetscMPIInt)km->restarts, MPIU_REAL, MPIU_SUM, km->comm));
  PetscCall(Finish(km, glob.v, rin, inertia));
  PetscCall(PetscFree(rin));
  PetscFunctionReturn(0);
}
