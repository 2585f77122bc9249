#include <cblas.h>
#include <float.h>
#include <math.h>
#include "knn_impl.h"

/* Exact kNN by blocked single-precision GEMM with the reference blocks travelling around
   a ring of ranks. Pass 1 selects the k best per query with float distance keys; pass 2
   sends the original blocks around once more and recomputes the k selected distances in
   double, so reported distances (and exact duplicates at 0) are exact. Pass 1 keeps a
   few more than k candidates (-knn_extra, default 8) and the exact distances pick the
   final k, so float rounding rarely misorders the last neighbours.

   Pass 1 works on rows shifted by (a rounded) global mean: |q|^2 + |r|^2 - 2 q.r cancels
   badly when the norms are large next to the distances (data offset from the origin),
   and distances do not change under a shift.

   Determinism: the selection order is (key, global index), a total order, and a pair's
   float key depends only on the two rows, so the result does not depend on the rank
   count or the tiling. Keys within the float error bound of 0 are snapped to exactly 0:
   exact duplicates then tie at 0 and are chosen by index even though the GEMM dot and
   our norms are summed in different orders.

   The pieces declared in knn_impl.h are shared with the IVF search (knn_ivf.c). */

#define KNN_TILE_QUERIES 256  /* rows of the distance tile (queries) */
#define KNN_TILE_REFS    1024 /* columns of the distance tile (references): a 1 MB tile stays in L2 for the scan */
#define KNN_EXTRA        8    /* candidates beyond k kept by the float pass */
#define KNN_CHUNK        32   /* columns tested at once against the k-th best */

static PetscLogEvent SANET_KNN_EVENT = 0;

/* Squared norms summed in a fixed order by the same code for queries and references, so
   identical rows get bitwise identical norms. */
void KNNRowNorms(PetscInt n, PetscInt dim, const float *X, float *nrm)
{
  for (PetscInt i = 0; i < n; i++) {
    const float *x = X + (size_t)i * dim;
    float        s = 0.0f;
    for (PetscInt j = 0; j < dim; j++) s += x[j] * x[j];
    nrm[i] = s;
  }
}

void KNNGetDefaults(PetscInt *tile_queries, PetscInt *tile_refs, PetscInt *extra)
{
  *tile_queries = KNN_TILE_QUERIES;
  *tile_refs    = KNN_TILE_REFS;
  *extra        = KNN_EXTRA;
}

PetscErrorCode KNNSetUp(MPI_Comm comm, const SanetKNNSpec *spec, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, KNNCommon *c)
{
  PetscInt chk[3], gchk[3], extra = spec ? spec->extra : KNN_EXTRA;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(c, sizeof(*c)));
  c->comm  = comm;
  c->tileq = spec ? spec->tile_queries : KNN_TILE_QUERIES;
  c->tiler = spec ? spec->tile_refs : KNN_TILE_REFS;
  PetscCallMPI(MPI_Comm_size(comm, &c->size));
  PetscCallMPI(MPI_Comm_rank(comm, &c->rank));
  PetscCheck(nlocal >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "kNN: local row count %" PetscInt_FMT " must be >= 0", nlocal);
  PetscCheck(dim >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "kNN: dimension %" PetscInt_FMT " must be >= 1", dim);

  /* Argument checks come before any allocation, so error returns leak nothing. All ranks
     must agree on dim, and the data must be finite (a NaN would silently drop out of every
     comparison); one reduction checks both. */
  PetscCall(MPIU_Allreduce(&nlocal, &c->Nglobal, 1, MPIU_INT, MPI_SUM, comm));
  PetscCheck(k >= 1 && k < c->Nglobal, comm, PETSC_ERR_ARG_OUTOFRANGE, "kNN needs 1 <= k < number of rows: k = %" PetscInt_FMT ", rows = %" PetscInt_FMT, k, c->Nglobal);
  chk[0] = -dim;
  chk[1] = dim;
  chk[2] = 0;
  for (PetscInt i = 0; i < nlocal && !chk[2]; i++) {
    float nrm;
    KNNRowNorms(1, dim, X + (size_t)i * dim, &nrm);
    if (!isfinite(nrm)) chk[2] = 1;
  }
  PetscCall(MPIU_Allreduce(chk, gchk, 3, MPIU_INT, MPI_MAX, comm));
  PetscCheck(-gchk[0] == gchk[1], comm, PETSC_ERR_ARG_INCOMP, "kNN: ranks disagree on the dimension (%" PetscInt_FMT " to %" PetscInt_FMT ")", -gchk[0], gchk[1]);
  PetscCheck(!gchk[2], comm, PETSC_ERR_FP, "kNN: input rows contain Inf/NaN or have squared norms beyond single precision");

  c->nlocal = nlocal;
  c->dim    = dim;
  c->k      = k;
  c->kc     = PetscMin(k + extra, c->Nglobal - 1);
  PetscCall(PetscMalloc2(c->size, &c->counts, c->size + 1, &c->starts));
  PetscCallMPI(MPI_Allgather(&nlocal, 1, MPIU_INT, c->counts, 1, MPIU_INT, comm));
  c->starts[0] = 0;
  for (PetscMPIInt r = 0; r < c->size; r++) c->starts[r + 1] = c->starts[r] + c->counts[r];
  PetscCallMPI(MPI_Type_contiguous((PetscMPIInt)dim, MPI_FLOAT, &c->rowtype));
  PetscCallMPI(MPI_Type_commit(&c->rowtype));
  PetscFunctionReturn(0);
}

PetscErrorCode KNNTearDown(KNNCommon *c)
{
  PetscFunctionBegin;
  PetscCallMPI(MPI_Type_free(&c->rowtype));
  PetscCall(PetscFree2(c->counts, c->starts));
  PetscFunctionReturn(0);
}

/* The global mean, whose double sum depends on the reduction order in its last bits,
   rounded to 12 significant bits. */
PetscErrorCode KNNMeanShift(const KNNCommon *c, const float *X, float *shift)
{
  PetscReal *sum, *gsum;

  PetscFunctionBegin;
  PetscCall(PetscCalloc2(c->dim, &sum, c->dim, &gsum));
  for (PetscInt i = 0; i < c->nlocal; i++)
    for (PetscInt l = 0; l < c->dim; l++) sum[l] += X[(size_t)i * c->dim + l];
  PetscCall(MPIU_Allreduce(sum, gsum, (PetscMPIInt)c->dim, MPIU_REAL, MPIU_SUM, c->comm));
  for (PetscInt l = 0; l < c->dim; l++) {
    int e;
    (void)frexp(gsum[l] / (PetscReal)c->Nglobal, &e);
    shift[l] = (float)ldexp(nearbyint(ldexp(gsum[l] / (PetscReal)c->Nglobal, 12 - e)), e - 12);
  }
  PetscCall(PetscFree2(sum, gsum));
  PetscFunctionReturn(0);
}

void KNNShiftRows(PetscInt n, PetscInt dim, const float *shift, const float *X, float *Xc)
{
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt l = 0; l < dim; l++) Xc[(size_t)i * dim + l] = X[(size_t)i * dim + l] - shift[l];
}

void KNNHeapInit(PetscInt n, PetscInt kc, float *hkey, PetscInt *hidx)
{
  for (size_t i = 0; i < (size_t)n * kc; i++) {
    hkey[i] = INFINITY;
    hidx[i] = PETSC_MAX_INT;
  }
}

float KNNSnap(PetscInt dim)
{
  return (float)(dim + 2) * FLT_EPSILON;
}

/* Replaces the top (worst) entry of a max-heap ordered by (key, idx) and sifts down. */
static inline void KNNHeapReplaceTop(PetscInt k, float *key, PetscInt *idx, float d, PetscInt g)
{
  PetscInt p = 0;
  for (;;) {
    PetscInt c = 2 * p + 1, w;
    if (c >= k) break;
    w = c;
    if (c + 1 < k && (key[c + 1] > key[c] || (key[c + 1] == key[c] && idx[c + 1] > idx[c]))) w = c + 1;
    if (key[w] < d || (key[w] == d && idx[w] < g)) break;
    key[p] = key[w];
    idx[p] = idx[w];
    p      = w;
  }
  key[p] = d;
  idx[p] = g;
}

/* Distance key of one tile entry: c = -2 q.r plus the norms; clamps negatives, snaps
   float noise to 0 and keeps NaN. The scan and the merge compute it by this same code,
   so a recomputed key is bitwise the tested one. */
static inline float KNNKey(float c, float nqi, float rn, float snap)
{
  float s = nqi + rn, d = c + s;
  return (d <= snap * s) ? 0.0f : d;
}

/* Screening threshold for c + |r|^2 of a query with norm nqi and k-th best key thr: the
   difference thr - nqi plus the rounding pad, in double, rounded up to float. */
static inline float KNNScreen(float thr, float nqi, double pad)
{
  double t = (double)thr - (double)nqi + pad;
  float  f = (float)t;
  return (double)f >= t ? f : nextafterf(f, INFINITY);
}

/* Turns one GEMM tile C = -2 Q R^T (nq x nr, compact rows) into distance keys and merges
   them into the heaps of the nq queries. A NaN entry marks the query itself; it fails
   every `<=` test and is never selected. Each chunk is screened by c + |r|^2 <= thr -
   |q|^2 + pad (three vector operations per entry against seven for the keys
   themselves); the keys of a chunk that passes are computed for the scalar merge. The
   pad covers the float roundings of both ways of summing (|c| <= |q|^2 + |r|^2) and the
   snap to 0, so no chunk that holds a key <= the k-th best is skipped (the kNN tests
   fail without it). Cloned for AVX-512 and AVX2 (picked at load time; the default -O2
   build has only SSE). No multiply-add is contracted (-std=c11 implies
   -ffp-contract=off), so the keys are bitwise the same in every clone. */
__attribute__((target_clones("avx512f", "avx2", "default"))) void KNNScanTile(PetscInt nq, PetscInt nr, const float *restrict C, const float *restrict qnrm, const PetscInt *restrict qmap, const float *restrict rnrm, float snap, PetscInt rglobal0, const PetscInt *restrict rglobal, PetscInt k, float *restrict hkey, PetscInt *restrict hidx)
{
  const double slack = (double)snap + 16.0 * FLT_EPSILON;
  float        rmax  = 0.0f;

  for (PetscInt j = 0; j < nr; j++) rmax = PetscMax(rmax, rnrm[j]);
  for (PetscInt i = 0; i < nq; i++) {
    const PetscInt        qi  = qmap ? qmap[i] : i;
    const float *restrict c   = C + (size_t)i * nr;
    float *restrict       key = hkey + (size_t)qi * k;
    PetscInt *restrict    idx = hidx + (size_t)qi * k;
    const float           nqi = qnrm[qi];
    const double          pad = slack * ((double)nqi + (double)rmax);
    float                 thr = key[0], screen = KNNScreen(thr, nqi, pad);

    for (PetscInt j0 = 0; j0 < nr; j0 += KNN_CHUNK) {
      const PetscInt jn  = PetscMin(KNN_CHUNK, nr - j0);
      int            any = 0;
      if (jn == KNN_CHUNK) { /* constant trip count: vectorised even at -O2 */
        for (int j = 0; j < KNN_CHUNK; j++) any |= (c[j0 + j] + rnrm[j0 + j] <= screen);
      } else {
        for (PetscInt j = j0; j < nr; j++) any |= (c[j] + rnrm[j] <= screen);
      }
      if (!any) continue;
      if (jn == KNN_CHUNK) { /* the keys themselves, vectorised: most chunks passed by the screen hold only ties that lose on index (repeated rows) */
        const PetscInt idx0 = idx[0];
        int            win  = 0;
        if (rglobal) { /* two loops: a select between the arrays would be a masked load from NULL, which traps to microcode */
          for (int j = 0; j < KNN_CHUNK; j++) {
            const float d = KNNKey(c[j0 + j], nqi, rnrm[j0 + j], snap);
            win |= (d < thr) | ((d == thr) & (rglobal[j0 + j] < idx0));
          }
        } else {
          for (int j = 0; j < KNN_CHUNK; j++) {
            const float d = KNNKey(c[j0 + j], nqi, rnrm[j0 + j], snap);
            win |= (d < thr) | ((d == thr) & (rglobal0 + j0 + j < idx0));
          }
        }
        if (!win) continue;
      }
      for (PetscInt j = j0; j < j0 + jn; j++) {
        float    d = KNNKey(c[j], nqi, rnrm[j], snap);
        PetscInt g = rglobal ? rglobal[j] : rglobal0 + j;
        if (!(d <= thr)) continue;
        if (d == thr && g > idx[0]) continue;
        KNNHeapReplaceTop(k, key, idx, d, g);
        thr    = key[0];
        screen = KNNScreen(thr, nqi, pad);
      }
    }
  }
}

/* Posts the ring exchange: send the block we hold to the next rank, receive the
   previous rank's block. */
static PetscErrorCode KNNRingPost(MPI_Comm comm, MPI_Datatype rowtype, const void *send, PetscInt nsend, void *recv, PetscInt nrecv, PetscMPIInt prev, PetscMPIInt next, MPI_Request req[2])
{
  PetscMPIInt ns, nr;

  PetscFunctionBegin;
  PetscCall(PetscMPIIntCast(nsend, &ns));
  PetscCall(PetscMPIIntCast(nrecv, &nr));
  PetscCallMPI(MPI_Irecv(recv, nr, rowtype, prev, 0, comm, &req[0]));
  PetscCallMPI(MPI_Isend(send, ns, rowtype, next, 0, comm, &req[1]));
  PetscFunctionReturn(0);
}

/* At step s we hold the blocks of rank (rank - s) mod size and fetch the next ones
   while visit computes. */
PetscErrorCode KNNRingRun(const KNNCommon *c, const PetscInt counts[], PetscInt narrays, const KNNRingArray a[], KNNRingVisit visit, void *ctx)
{
  const PetscMPIInt size = c->size, rank = c->rank, prev = (rank + size - 1) % size, next = (rank + 1) % size;
  PetscInt          nmax = 0, which = 0;
  char             *buf[KNN_RING_MAX_ARRAYS][2];
  const void       *cur[KNN_RING_MAX_ARRAYS];
  MPI_Request       req[2 * KNN_RING_MAX_ARRAYS];

  PetscFunctionBegin;
  PetscCheck(narrays >= 1 && narrays <= KNN_RING_MAX_ARRAYS, PETSC_COMM_SELF, PETSC_ERR_PLIB, "kNN ring carries 1 to %d arrays, not %" PetscInt_FMT, KNN_RING_MAX_ARRAYS, narrays);
  for (PetscMPIInt r = 0; r < size; r++) nmax = PetscMax(nmax, counts[r]);
  for (PetscInt t = 0; t < narrays; t++) {
    PetscMPIInt bytes;
    size_t      n;
    PetscCallMPI(MPI_Type_size(a[t].type, &bytes));
    n = size > 1 ? (size_t)nmax * (size_t)bytes : 0; /* one rank: nothing travels */
    PetscCall(PetscMalloc2(n, &buf[t][0], n, &buf[t][1]));
    cur[t] = a[t].local;
  }
  for (PetscMPIInt s = 0; s < size; s++) {
    PetscMPIInt src = (rank - s + size) % size, nsrc = (rank - s - 1 + 2 * size) % size;
    if (s < size - 1)
      for (PetscInt t = 0; t < narrays; t++) PetscCall(KNNRingPost(c->comm, a[t].type, cur[t], counts[src], buf[t][which], counts[nsrc], prev, next, req + 2 * t));
    PetscCall(visit(ctx, s, src, cur));
    if (s < size - 1) {
      PetscCallMPI(MPI_Waitall((PetscMPIInt)(2 * narrays), req, MPI_STATUSES_IGNORE));
      for (PetscInt t = 0; t < narrays; t++) cur[t] = buf[t][which];
      which ^= 1;
    }
  }
  for (PetscInt t = 0; t < narrays; t++) PetscCall(PetscFree2(buf[t][0], buf[t][1]));
  PetscFunctionReturn(0);
}

PetscErrorCode KNNProgressInit(const KNNCommon *c, PetscMPIInt nsteps, KNNProgress *p)
{
  PetscFunctionBegin;
  p->rank   = c->rank;
  p->nsteps = nsteps;
  p->step   = 0;
  PetscCall(PetscTime(&p->start));
  p->last = p->start;
  PetscFunctionReturn(0);
}

PetscErrorCode KNNProgressReport(KNNProgress *p, PetscReal fraction_of_step)
{
  PetscLogDouble now;
  PetscReal      f;

  PetscFunctionBegin;
  if (!p || p->rank) PetscFunctionReturn(0);
  PetscCall(PetscTime(&now));
  if (now - p->last < 30) PetscFunctionReturn(0);
  p->last = now;
  f       = (p->step + fraction_of_step) / p->nsteps;
  if (f > 0) PetscCall(PetscPrintf(PETSC_COMM_SELF, "  kNN: %.0f%% after %.0f s, about %.0f s left\n", 100 * (double)f, now - p->start, (now - p->start) * (1 - f) / f));
  PetscFunctionReturn(0);
}

PetscErrorCode KNNBlockSelect(PetscInt nlocal, PetscInt dim, const float *X, const float *qnrm, PetscInt nref, const float *R, float *rnrm, PetscInt rglobal0, PetscBool own, PetscInt tileq, PetscInt tiler, float *C, PetscInt k, float *hkey, PetscInt *hidx, KNNProgress *progress)
{
  const float snap = KNNSnap(dim);

  PetscFunctionBegin;
  KNNRowNorms(nref, dim, R, rnrm);
  for (PetscInt r0 = 0; r0 < nref; r0 += tiler) {
    PetscInt nr = PetscMin(tiler, nref - r0);
    for (PetscInt q0 = 0; q0 < nlocal; q0 += tileq) {
      PetscInt nq = PetscMin(tileq, nlocal - q0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nq, (blasint)nr, (blasint)dim, -2.0f, X + (size_t)q0 * dim, (blasint)dim, R + (size_t)r0 * dim, (blasint)dim, 0.0f, C, (blasint)nr);
      if (own) { /* exclude each query itself, by index */
        for (PetscInt i = 0; i < nq; i++) {
          PetscInt col = q0 + i - r0;
          if (col >= 0 && col < nr) C[(size_t)i * nr + col] = NAN;
        }
      }
      KNNScanTile(nq, nr, C, qnrm + q0, NULL, rnrm + r0, snap, rglobal0 + r0, NULL, k, hkey + (size_t)q0 * k, hidx + (size_t)q0 * k);
    }
    PetscCall(KNNProgressReport(progress, (PetscReal)(r0 + nr) / nref));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode KNNBlockExact(PetscInt nlocal, PetscInt dim, const float *X, PetscInt nref, const float *R, PetscInt rglobal0, PetscInt k, const PetscInt *nbr, PetscReal *d2)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < nlocal; i++) {
    const float *x = X + (size_t)i * dim;
    for (PetscInt t = 0; t < k; t++) {
      PetscInt     j = nbr[i * k + t] - rglobal0;
      const float *y;
      PetscReal    s = 0.0;
      if (j < 0 || j >= nref) continue;
      y = R + (size_t)j * dim;
      for (PetscInt l = 0; l < dim; l++) {
        PetscReal e = (PetscReal)x[l] - (PetscReal)y[l];
        s += e * e;
      }
      d2[i * k + t] = s;
    }
  }
  PetscFunctionReturn(0);
}

/* Insertion sort, k is small. */
PetscErrorCode KNNSortRows(PetscInt nlocal, PetscInt k, PetscInt *nbr, PetscReal *d2)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscInt  *n = nbr + (size_t)i * k;
    PetscReal *d = d2 + (size_t)i * k;
    for (PetscInt a = 1; a < k; a++) {
      PetscInt  g = n[a], b = a;
      PetscReal v = d[a];
      while (b > 0 && (d[b - 1] > v || (d[b - 1] == v && n[b - 1] > g))) {
        d[b] = d[b - 1];
        n[b] = n[b - 1];
        b--;
      }
      d[b] = v;
      n[b] = g;
    }
  }
  PetscFunctionReturn(0);
}

typedef struct {
  const KNNCommon *c;
  const float     *X;
  const PetscInt  *hidx;
  PetscReal       *hd2;
} KNNRerankCtx;

static PetscErrorCode KNNRerankVisit(void *ctx, PetscMPIInt step, PetscMPIInt src, const void *const block[])
{
  KNNRerankCtx    *r = (KNNRerankCtx *)ctx;
  const KNNCommon *c = r->c;

  PetscFunctionBegin;
  PetscCall(KNNBlockExact(c->nlocal, c->dim, r->X, c->counts[src], (const float *)block[0], c->starts[src], c->kc, r->hidx, r->hd2));
  PetscFunctionReturn(0);
}

PetscErrorCode KNNExactRerank(const KNNCommon *c, const float *X, PetscInt *hidx, PetscReal *hd2, PetscInt *nbr, PetscReal *d2)
{
  KNNRingArray ring = {c->rowtype, X};
  KNNRerankCtx ctx  = {c, X, hidx, hd2};

  PetscFunctionBegin;
  for (size_t i = 0; i < (size_t)c->nlocal * c->kc; i++) hd2[i] = PETSC_INFINITY; /* slots no block fills */
  PetscCall(KNNRingRun(c, c->counts, 1, &ring, KNNRerankVisit, &ctx));
  PetscCall(KNNSortRows(c->nlocal, c->kc, hidx, hd2));
  for (PetscInt i = 0; i < c->nlocal; i++) {
    for (PetscInt t = 0; t < c->k; t++) {
      nbr[i * c->k + t] = hidx[i * c->kc + t];
      d2[i * c->k + t]  = hd2[i * c->kc + t];
    }
  }
  PetscFunctionReturn(0);
}

/* Pass 1 of the exact search: every travelling block against all local queries. */
typedef struct {
  const KNNCommon *c;
  const float     *Xc, *qnrm;
  float           *rnrm, *C, *hkey;
  PetscInt        *hidx;
  KNNProgress     *progress;
} KNNSelectCtx;

static PetscErrorCode KNNSelectVisit(void *ctx, PetscMPIInt step, PetscMPIInt src, const void *const block[])
{
  KNNSelectCtx    *s = (KNNSelectCtx *)ctx;
  const KNNCommon *c = s->c;

  PetscFunctionBegin;
  s->progress->step = step;
  PetscCall(KNNBlockSelect(c->nlocal, c->dim, s->Xc, s->qnrm, c->counts[src], (const float *)block[0], s->rnrm, c->starts[src], (PetscBool)(step == 0), c->tileq, c->tiler, s->C, c->kc, s->hkey, s->hidx, s->progress));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKNNExact(MPI_Comm comm, const SanetKNNSpec *spec, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, PetscInt *nbr, PetscReal *d2)
{
  KNNCommon    c;
  KNNProgress  progress;
  PetscInt     nmax = 0;
  float       *Xc, *shift, *qnrm, *rnrm, *C, *hkey;
  PetscInt    *hidx;
  PetscReal   *hd2;

  PetscFunctionBegin;
  if (!SANET_KNN_EVENT) PetscCall(PetscLogEventRegister("SanetKNNExact", PETSC_OBJECT_CLASSID, &SANET_KNN_EVENT));
  PetscCall(KNNSetUp(comm, spec, nlocal, dim, X, k, &c));
  for (PetscMPIInt r = 0; r < c.size; r++) nmax = PetscMax(nmax, c.counts[r]);

  PetscCall(PetscMalloc3((size_t)nlocal * dim, &Xc, dim, &shift, nlocal, &qnrm));
  PetscCall(PetscLogEventBegin(SANET_KNN_EVENT, 0, 0, 0, 0));
  PetscCall(KNNMeanShift(&c, X, shift));
  KNNShiftRows(nlocal, dim, shift, X, Xc);
  KNNRowNorms(nlocal, dim, Xc, qnrm);
  PetscCall(PetscMalloc5(nmax, &rnrm, (size_t)c.tileq * c.tiler, &C, (size_t)nlocal * c.kc, &hkey, (size_t)nlocal * c.kc, &hidx, (size_t)nlocal * c.kc, &hd2));
  KNNHeapInit(nlocal, c.kc, hkey, hidx);

  /* Two trips of the blocks around the ring: select, then recompute exactly. */
  PetscCall(KNNProgressInit(&c, c.size, &progress));
  {
    KNNSelectCtx sel  = {&c, Xc, qnrm, rnrm, C, hkey, hidx, &progress};
    KNNRingArray ring = {c.rowtype, Xc};
    PetscCall(KNNRingRun(&c, c.counts, 1, &ring, KNNSelectVisit, &sel));
  }
  PetscCall(KNNExactRerank(&c, X, hidx, hd2, nbr, d2));
  PetscCall(PetscLogFlops(2.0 * (PetscLogDouble)nlocal * (PetscLogDouble)c.Nglobal * (PetscLogDouble)dim));
  PetscCall(PetscLogEventEnd(SANET_KNN_EVENT, 0, 0, 0, 0));

  PetscCall(PetscFree5(rnrm, C, hkey, hidx, hd2));
  PetscCall(PetscFree3(Xc, shift, qnrm));
  PetscCall(KNNTearDown(&c));
  PetscFunctionReturn(0);
}
