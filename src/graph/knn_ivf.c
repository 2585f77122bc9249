#include <cblas.h>
#include <math.h>
#include "knn_impl.h"

/* Approximate kNN by an inverted file (IVF) on the ring of the exact search.

   Coarse quantizer: nlist centroids from the project's k-means on a sample of about
   IVF_TRAIN_PER_LIST rows per list, drawn by SanetRandUniform on the global row index
   (the same rows at any rank count). The centroids are the means of the sample's
   clusters, summed rank after rank in global row order so they are bitwise those of a
   serial run; empty clusters are dropped. Every row's list is its nearest centroid, its
   probes the nprobe nearest (float GEMM pre-selection, exact double ranking, ties by
   centroid id), extended along that ranking while the probed lists hold fewer than the
   kc candidates pass 1 keeps (and to every list if even that is not enough), so no
   row is left with an empty slot.

   Search: each rank sorts its rows by list, so a travelling block holds each list as a
   contiguous run; repeats of a row beyond kc+1 per rank stay home (IVFArrange says why
   that is exact). For every list, the local queries that probe it are gathered in tiles
   and multiplied by the run (sgemm), and the tile is merged into the (key, global index)
   heaps by the scan of the exact search. The work is about nprobe/nlist of the exact
   search's when the lists are balanced; memory stays O(N/P) (the sorted copy, the
   travelling block, the probe lists). Pass 2 (exact double distances of the kc
   candidates, sort, k best) is the exact search's own, so the output has its format and
   tie rule, and a pair's float key being a function of the two rows alone (as there)
   makes nprobe = nlist reproduce SanetKNNExact bit for bit. */

const char *const SanetKNNTypes[] = {"exact", "ivf", "SanetKNNType", "SANET_KNN_", NULL};

#define IVF_TRAIN_PER_LIST 64  /* k-means sample rows per list */
#define IVF_KMEANS_ITS     25  /* Lloyd iterations, one seeding (FAISS trains IVF with 25) */
#define IVF_RANKED_EXTRA   8   /* centroids ranked beyond nprobe, to extend small probes */
#define IVF_SAMPLE_STREAM  0x49564600UL /* "IVF": sample draws apart from k-means' streams */

static PetscLogEvent SANET_KNN_IVF_EVENT = 0, SANET_KNN_IVF_TRAIN = 0;

PetscErrorCode SanetKNNSpecSetFromOptions(MPI_Comm comm, const char prefix[], unsigned long seed, unsigned long stream, SanetKNNSpec *spec)
{
  const char *p = prefix ? prefix : "";

  PetscFunctionBegin;
  PetscCall(PetscMemzero(spec, sizeof(*spec)));
  spec->type   = SANET_KNN_EXACT;
  spec->nprobe = 8;
  KNNGetDefaults(&spec->tile_queries, &spec->tile_refs, &spec->extra);
  spec->seed   = seed;
  spec->stream = stream;
  PetscCall(PetscStrncpy(spec->prefix, p, sizeof(spec->prefix)));
  PetscOptionsBegin(comm, prefix, "kNN search", "SanetKNN");
  PetscCall(PetscOptionsEnum("-knn", "Neighbour search: exact (every pair) or ivf (approximate: inverted lists over a k-means coarse quantizer)", "SanetKNN", SanetKNNTypes, (PetscEnum)spec->type, (PetscEnum *)&spec->type, NULL));
  PetscCall(PetscOptionsInt("-knn_nlist", "IVF lists (k-means centroids); 0: about the square root of the rows", "SanetKNNIVF", spec->nlist, &spec->nlist, NULL));
  PetscCall(PetscOptionsInt("-knn_nprobe", "IVF lists searched per row: more is slower and closer to exact (nlist: exact)", "SanetKNNIVF", spec->nprobe, &spec->nprobe, NULL));
  PetscCall(PetscOptionsInt("-knn_tile_queries", "Rows of the distance tile (queries); the blocking can flip float ties", "SanetKNN", spec->tile_queries, &spec->tile_queries, NULL));
  PetscCall(PetscOptionsInt("-knn_tile_refs", "Columns of the distance tile (references)", "SanetKNN", spec->tile_refs, &spec->tile_refs, NULL));
  PetscCall(PetscOptionsInt("-knn_extra", "Candidates beyond k kept by the single-precision pass and re-ranked in double", "SanetKNN", spec->extra, &spec->extra, NULL));
  PetscOptionsEnd();
  PetscCheck(spec->tile_queries >= 1 && spec->tile_refs >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_tile_queries %" PetscInt_FMT " and -%sknn_tile_refs %" PetscInt_FMT " must be >= 1", p, spec->tile_queries, p, spec->tile_refs);
  PetscCheck(spec->extra >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_extra %" PetscInt_FMT " must be >= 0", p, spec->extra);
  PetscCheck(spec->nlist >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_nlist %" PetscInt_FMT " must be >= 0 (0: about sqrt of the rows)", p, spec->nlist);
  PetscCheck(spec->nprobe >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_nprobe %" PetscInt_FMT " must be >= 1", p, spec->nprobe);
  PetscCheck(!spec->nlist || spec->nprobe <= spec->nlist, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_nprobe %" PetscInt_FMT " must be <= -%sknn_nlist %" PetscInt_FMT, p, spec->nprobe, p, spec->nlist);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKNNSpecGetDescription(const SanetKNNSpec *spec, size_t len, char buf[])
{
  PetscFunctionBegin;
  if (spec->type == SANET_KNN_EXACT) PetscCall(PetscSNPrintf(buf, len, "exact kNN"));
  else if (spec->nlist) PetscCall(PetscSNPrintf(buf, len, "IVF kNN (nlist %" PetscInt_FMT ", nprobe %" PetscInt_FMT ")", spec->nlist, spec->nprobe));
  else PetscCall(PetscSNPrintf(buf, len, "IVF kNN (nlist about sqrt of the rows, nprobe %" PetscInt_FMT ")", spec->nprobe));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKNN(MPI_Comm comm, const SanetKNNSpec *spec, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, PetscInt *nbr, PetscReal *d2)
{
  PetscFunctionBegin;
  if (spec->type == SANET_KNN_IVF) PetscCall(SanetKNNIVF(comm, spec, nlocal, dim, X, k, nbr, d2));
  else PetscCall(SanetKNNExact(comm, spec, nlocal, dim, X, k, nbr, d2));
  PetscFunctionReturn(0);
}

/* sum += the local part, in global row order: each rank continues from the previous
   rank's partial sum, so the result (on every rank) is bitwise that of a serial loop. */
static PetscErrorCode IVFOrderedSum(const KNNCommon *c, PetscInt n, PetscReal *partial, PetscReal *sum)
{
  PetscMPIInt nm;

  PetscFunctionBegin;
  PetscCall(PetscMPIIntCast(n, &nm));
  PetscCall(PetscArrayzero(sum, n));
  if (c->rank > 0) PetscCallMPI(MPI_Recv(sum, nm, MPIU_REAL, c->rank - 1, 0, c->comm, MPI_STATUS_IGNORE));
  for (PetscInt a = 0; a < n; a++) sum[a] += partial[a];
  if (c->rank < c->size - 1) PetscCallMPI(MPI_Send(sum, nm, MPIU_REAL, c->rank + 1, 0, c->comm));
  PetscCallMPI(MPI_Bcast(sum, nm, MPIU_REAL, c->size - 1, c->comm));
  PetscFunctionReturn(0);
}

/* k-means on the seeded sample; returns the nl <= nlist non-empty centroids (float). */
static PetscErrorCode IVFTrain(const KNNCommon *c, const SanetKNNSpec *spec, const float *X, PetscInt nlist, PetscInt *nl, float **cent, PetscInt *nsample)
{
  PetscReal   frac = PetscMin(1.0, (PetscReal)IVF_TRAIN_PER_LIST * nlist / c->Nglobal), *Xt, *part, *sum;
  PetscInt    ns = 0, Ns, *lab, d = c->dim, *rows, nkept = 0;
  SanetKMeans km;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(c->nlocal, &rows));
  for (PetscInt i = 0; i < c->nlocal; i++)
    if (SanetRandUniform(spec->seed, IVF_SAMPLE_STREAM + spec->stream, (unsigned long)(c->starts[c->rank] + i)) < frac) rows[ns++] = i;
  PetscCall(MPIU_Allreduce(&ns, &Ns, 1, MPIU_INT, MPI_SUM, c->comm));
  if (Ns < nlist) { /* a sample too small for nlist clusters (only when frac is near 1): take every row */
    for (PetscInt i = 0; i < c->nlocal; i++) rows[i] = i;
    ns = c->nlocal;
    Ns = c->Nglobal;
  }
  PetscCall(PetscMalloc2((size_t)ns * d, &Xt, ns, &lab));
  for (PetscInt t = 0; t < ns; t++)
    for (PetscInt l = 0; l < d; l++) Xt[(size_t)t * d + l] = X[(size_t)rows[t] * d + l];
  PetscCall(SanetKMeansCreate(c->comm, &km));
  PetscCall(SanetKMeansSetClusters(km, nlist));
  PetscCall(SanetKMeansSetSeed(km, spec->seed));
  PetscCall(SanetKMeansSetIterations(km, 1, IVF_KMEANS_ITS));
  PetscCall(SanetKMeansApply(km, ns, d, Xt, lab, NULL));
  PetscCall(SanetKMeansDestroy(&km));

  /* centroids = cluster means (sums, then counts) */
  PetscCall(PetscCalloc2((size_t)nlist * (d + 1), &part, (size_t)nlist * (d + 1), &sum));
  for (PetscInt t = 0; t < ns; t++) {
    for (PetscInt l = 0; l < d; l++) part[(size_t)lab[t] * d + l] += Xt[(size_t)t * d + l];
    part[(size_t)nlist * d + lab[t]] += 1;
  }
  PetscCall(IVFOrderedSum(c, nlist * (d + 1), part, sum));
  PetscCall(PetscMalloc1((size_t)nlist * d, cent));
  for (PetscInt L = 0; L < nlist; L++) {
    PetscReal cnt = sum[(size_t)nlist * d + L];
    if (cnt == 0) continue; /* fewer distinct rows than lists (duplicates) */
    for (PetscInt l = 0; l < d; l++) (*cent)[(size_t)nkept * d + l] = (float)(sum[(size_t)L * d + l] / cnt);
    nkept++;
  }
  *nl      = nkept;
  *nsample = Ns;
  PetscCall(PetscFree2(part, sum));
  PetscCall(PetscFree2(Xt, lab));
  PetscCall(PetscFree(rows));
  PetscFunctionReturn(0);
}

/* Ranks the m nearest centroids of every row into rank (nlocal x m, nearest first):
   float keys on the shifted rows pick them, exact double distances order them, ties by id. */
static PetscErrorCode IVFRank(const KNNCommon *c, const float *X, const float *Xc, const float *qnrm, const float *shift, PetscInt nl, const float *cent, PetscInt m, float *C, PetscInt *rank)
{
  const PetscInt d = c->dim;
  float         *centc, *cnrm, *hkey;
  PetscReal     *hd2;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4((size_t)nl * d, &centc, nl, &cnrm, (size_t)c->nlocal * m, &hkey, (size_t)c->nlocal * m, &hd2));
  KNNShiftRows(nl, d, shift, cent, centc);
  KNNHeapInit(c->nlocal, m, hkey, rank);
  PetscCall(KNNBlockSelect(c->nlocal, d, Xc, qnrm, nl, centc, cnrm, 0, PETSC_FALSE, c->tileq, c->tiler, C, m, hkey, rank, NULL));
  PetscCall(KNNBlockExact(c->nlocal, d, X, nl, cent, 0, m, rank, hd2));
  PetscCall(KNNSortRows(c->nlocal, m, rank, hd2));
  PetscCall(PetscFree4(centc, cnrm, hkey, hd2));
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt list, i;
  uint64_t hash;
} IVFSortKey;

static int IVFSortKeyCompare(const void *a, const void *b)
{
  const IVFSortKey *x = (const IVFSortKey *)a, *y = (const IVFSortKey *)b;
  if (x->list != y->list) return x->list < y->list ? -1 : 1;
  if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
  return x->i < y->i ? -1 : (x->i > y->i);
}

/* Order of the local rows for the search: perm[0 .. nsend) are the rows that travel,
   sorted by (list, row hash, index), then the others. Identical rows give bitwise equal
   keys against any query and ties go to the lower index, so of a group of identical
   rows only the kc+1 lowest of each block can ever be selected (kc+1: a query in the
   group excludes itself); the rest are queries only. This keeps the zero patch (a third
   of MNIST's) from making its list a quadratic search. Rows are grouped with the first
   of their (list, hash) bucket when equal to it bit for bit, so a hash collision only
   keeps rows. */
static PetscErrorCode IVFArrange(const KNNCommon *c, const float *X, const PetscInt *own, PetscInt *perm, PetscInt *nsend)
{
  const PetscInt d = c->dim;
  IVFSortKey    *key;
  PetscInt       nkeep = 0, nrest = 0, *rest;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(c->nlocal, &key, c->nlocal, &rest));
  for (PetscInt i = 0; i < c->nlocal; i++) {
    const unsigned char *b = (const unsigned char *)(X + (size_t)i * d);
    uint64_t             h = 1469598103934665603ULL; /* FNV-1a of the row's bytes */
    for (size_t a = 0; a < (size_t)d * sizeof(float); a++) h = (h ^ b[a]) * 1099511628211ULL;
    key[i].list = own[i];
    key[i].i    = i;
    key[i].hash = h;
  }
  if (c->nlocal) qsort(key, (size_t)c->nlocal, sizeof(*key), IVFSortKeyCompare);
  for (PetscInt a = 0, first = 0, same = 0; a < c->nlocal; a++) {
    if (a == 0 || key[a].list != key[first].list || key[a].hash != key[first].hash) {
      first = a;
      same  = 0;
    }
    if (!memcmp(X + (size_t)key[a].i * d, X + (size_t)key[first].i * d, (size_t)d * sizeof(float)) && ++same > c->kc + 1) rest[nrest++] = key[a].i;
    else perm[nkeep++] = key[a].i;
  }
  PetscCall(PetscArraycpy(perm + nkeep, rest, nrest));
  *nsend = nkeep;
  PetscCall(PetscFree2(key, rest));
  PetscFunctionReturn(0);
}

/* Pass 1 state: local rows in search order (queries; the first nsend also travel). */
typedef struct {
  const KNNCommon *c;
  PetscInt         nl, nsend;
  const PetscInt  *rcounts;       /* travelling rows of every rank */
  const float     *Xs, *qnrm;     /* shifted rows in search order and their norms */
  const PetscInt  *slist;         /* list of each row */
  const PetscInt  *qstart, *qidx; /* queries probing list L: qidx[qstart[L] .. qstart[L+1]) */
  float           *Q, *C, *rnrm, *hkey;
  PetscInt        *roff, *hidx;
  PetscLogDouble   flops;
  KNNProgress     *progress;
} IVFSearchCtx;

static PetscErrorCode IVFSearchVisit(void *ctx, PetscMPIInt step, PetscMPIInt src, const void *const block[])
{
  IVFSearchCtx    *s = (IVFSearchCtx *)ctx;
  const KNNCommon *c = s->c;
  const PetscInt   nref = s->rcounts[src], d = c->dim, *rgid = (const PetscInt *)block[1], *rlist = (const PetscInt *)block[2];
  const float     *R    = (const float *)block[0], snap = KNNSnap(d);

  PetscFunctionBegin;
  s->progress->step = step;
  KNNRowNorms(nref, d, R, s->rnrm);
  /* the block is sorted by list: its runs start at roff[L] */
  PetscCall(PetscArrayzero(s->roff, s->nl + 1));
  for (PetscInt j = 0; j < nref; j++) s->roff[rlist[j] + 1]++;
  for (PetscInt L = 0; L < s->nl; L++) s->roff[L + 1] += s->roff[L];
  for (PetscInt L = 0; L < s->nl; L++) {
    const PetscInt r0L = s->roff[L], nrL = s->roff[L + 1] - r0L, nqL = s->qstart[L + 1] - s->qstart[L];
    if (!nrL || !nqL) continue;
    for (PetscInt q0 = 0; q0 < nqL; q0 += c->tileq) {
      const PetscInt nq = PetscMin(c->tileq, nqL - q0), *qm = s->qidx + s->qstart[L] + q0;
      for (PetscInt i = 0; i < nq; i++) PetscCall(PetscArraycpy(s->Q + (size_t)i * d, s->Xs + (size_t)qm[i] * d, d));
      for (PetscInt r0 = 0; r0 < nrL; r0 += c->tiler) {
        const PetscInt nr = PetscMin(c->tiler, nrL - r0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nq, (blasint)nr, (blasint)d, -2.0f, s->Q, (blasint)d, R + (size_t)(r0L + r0) * d, (blasint)d, 0.0f, s->C, (blasint)nr);
        if (step == 0) { /* our own block is the first nsend rows of Xs: query p is reference p */
          for (PetscInt i = 0; i < nq; i++) {
            PetscInt col = qm[i] - r0L - r0;
            if (qm[i] < s->nsend && s->slist[qm[i]] == L && col >= 0 && col < nr) s->C[(size_t)i * nr + col] = NAN;
          }
        }
        KNNScanTile(nq, nr, s->C, s->qnrm, qm, s->rnrm + r0L + r0, snap, 0, rgid + r0L + r0, c->kc, s->hkey, s->hidx);
        s->flops += 2.0 * nq * nr * d;
      }
    }
    PetscCall(KNNProgressReport(s->progress, (PetscReal)(L + 1) / s->nl));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetKNNIVF(MPI_Comm comm, const SanetKNNSpec *spec, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, PetscInt *nbr, PetscReal *d2)
{
  const char    *p = spec->prefix;
  KNNCommon      c;
  KNNProgress    progress;
  IVFSearchCtx   s;
  PetscInt       Nglobal, nlist, nl = 0, m, nprobe, nsample = 0, nmax = 0, nsend, Nsend, nall = 0;
  PetscInt      *rank, *perm, *slist, *sgid, *lsize, *pstart, *plist, *qstart, *qidx, *rcounts, *roff, *hidx, *hidx2;
  float         *Xc, *Xs, *shift, *qnrm, *qnrms, *cent, *C, *Q, *rnrm, *hkey;
  PetscReal     *hd2, compared = 0, gcompared;
  PetscLogDouble t0, t1, t2;

  PetscFunctionBegin;
  if (!SANET_KNN_IVF_EVENT) {
    PetscCall(PetscLogEventRegister("SanetKNNIVF", PETSC_OBJECT_CLASSID, &SANET_KNN_IVF_EVENT));
    PetscCall(PetscLogEventRegister("SanetKNNIVFTrain", PETSC_OBJECT_CLASSID, &SANET_KNN_IVF_TRAIN));
  }
  /* list counts first: an error return then leaks nothing */
  PetscCall(MPIU_Allreduce(&nlocal, &Nglobal, 1, MPIU_INT, MPI_SUM, comm));
  nlist = spec->nlist ? spec->nlist : PetscMin(Nglobal, PetscMax(spec->nprobe, (PetscInt)(PetscSqrtReal((PetscReal)Nglobal) + 0.5)));
  PetscCheck(nlist >= 1 && nlist <= Nglobal, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_nlist %" PetscInt_FMT " must be in [1, %" PetscInt_FMT "], the rows searched", p, nlist, Nglobal);
  PetscCheck(spec->nprobe >= 1 && spec->nprobe <= nlist, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_nprobe %" PetscInt_FMT " must be in [1, %" PetscInt_FMT "] (the lists)", p, spec->nprobe, nlist);
  PetscCall(KNNSetUp(comm, spec, nlocal, dim, X, k, &c));
  for (PetscMPIInt r = 0; r < c.size; r++) nmax = PetscMax(nmax, c.counts[r]);

  PetscCall(PetscLogEventBegin(SANET_KNN_IVF_EVENT, 0, 0, 0, 0));
  PetscCall(PetscTime(&t0));
  PetscCall(PetscLogEventBegin(SANET_KNN_IVF_TRAIN, 0, 0, 0, 0));
  PetscCall(IVFTrain(&c, spec, X, nlist, &nl, &cent, &nsample));
  PetscCall(PetscLogEventEnd(SANET_KNN_IVF_TRAIN, 0, 0, 0, 0));
  nprobe = PetscMin(spec->nprobe, nl); /* dropped (empty) lists: nprobe = nlist stays exhaustive */
  m      = PetscMin(nl, nprobe + IVF_RANKED_EXTRA);

  /* every row's ranked centroids, then the search order */
  PetscCall(PetscMalloc3((size_t)nlocal * dim, &Xc, dim, &shift, nlocal, &qnrm));
  PetscCall(PetscMalloc1((size_t)nlocal * m, &rank));
  PetscCall(PetscMalloc5((size_t)c.tileq * c.tiler, &C, (size_t)c.tileq * dim, &Q, nmax, &rnrm, (size_t)nlocal * c.kc, &hkey, (size_t)nlocal * c.kc, &hidx));
  PetscCall(KNNMeanShift(&c, X, shift));
  KNNShiftRows(nlocal, dim, shift, X, Xc);
  KNNRowNorms(nlocal, dim, Xc, qnrm);
  PetscCall(IVFRank(&c, X, Xc, qnrm, shift, nl, cent, m, C, rank));
  PetscCall(PetscMalloc6(nlocal, &perm, nlocal, &slist, nlocal, &sgid, nlocal, &qnrms, nl, &lsize, c.size, &rcounts));
  for (PetscInt i = 0; i < nlocal; i++) slist[i] = rank[(size_t)i * m];
  PetscCall(IVFArrange(&c, X, slist, perm, &nsend));
  PetscCall(PetscMalloc1((size_t)nlocal * dim, &Xs));
  for (PetscInt q = 0; q < nlocal; q++) {
    PetscCall(PetscArraycpy(Xs + (size_t)q * dim, Xc + (size_t)perm[q] * dim, dim));
    sgid[q]  = c.starts[c.rank] + perm[q];
    qnrms[q] = qnrm[perm[q]];
  }
  for (PetscInt q = 0; q < nlocal; q++) slist[q] = rank[(size_t)perm[q] * m];
  PetscCall(PetscFree3(Xc, shift, qnrm));
  PetscCallMPI(MPI_Allgather(&nsend, 1, MPIU_INT, rcounts, 1, MPIU_INT, comm));
  PetscCall(PetscArrayzero(lsize, nl));
  for (PetscInt q = 0; q < nsend; q++) lsize[slist[q]]++;
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, lsize, (PetscMPIInt)nl, MPIU_INT, MPI_SUM, comm));
  PetscCall(MPIU_Allreduce(&nsend, &Nsend, 1, MPIU_INT, MPI_SUM, comm));

  /* probes of query q (search order): nprobe lists, more while they hold fewer than kc
     travelling rows besides q, every list when even the m ranked ones do not */
  PetscCall(PetscMalloc1(nlocal + 1, &pstart));
  pstart[0] = 0;
  for (PetscInt q = 0; q < nlocal; q++) {
    const PetscInt *rk = rank + (size_t)perm[q] * m;
    PetscInt        np = 0, rows = 0;
    while (np < m && (np < nprobe || rows - 1 < c.kc)) rows += lsize[rk[np++]];
    if (rows - 1 < c.kc) { /* 0 below: every list */
      np   = 0;
      rows = Nsend;
      nall++;
    }
    pstart[q + 1] = pstart[q] + (np ? np : nl);
    compared += rows;
  }
  PetscCall(PetscMalloc1(pstart[nlocal] + 1, &plist));
  for (PetscInt q = 0; q < nlocal; q++) {
    const PetscInt np = pstart[q + 1] - pstart[q];
    for (PetscInt t = 0; t < np; t++) plist[pstart[q] + t] = np > m ? t : rank[(size_t)perm[q] * m + t]; /* np > m: every list */
  }
  PetscCall(PetscInfo(NULL, "kNN IVF: %" PetscInt_FMT " local rows probe every list (their nearest lists are too small), %" PetscInt_FMT " of %" PetscInt_FMT " rows travel\n", nall, nsend, nlocal));
  PetscCall(PetscFree(rank));
  /* inverse probes: the queries of every list, ascending */
  PetscCall(PetscMalloc3(nl + 1, &qstart, pstart[nlocal] + 1, &qidx, nl + 1, &roff));
  PetscCall(PetscArrayzero(qstart, nl + 1));
  for (PetscInt a = 0; a < pstart[nlocal]; a++) qstart[plist[a] + 1]++;
  for (PetscInt L = 0; L < nl; L++) qstart[L + 1] += qstart[L];
  for (PetscInt q = 0; q < nlocal; q++)
    for (PetscInt a = pstart[q]; a < pstart[q + 1]; a++) qidx[qstart[plist[a]]++] = q;
  for (PetscInt L = nl; L > 0; L--) qstart[L] = qstart[L - 1];
  qstart[0] = 0;
  PetscCall(PetscFree(pstart));
  PetscCall(PetscFree(plist));
  PetscCall(PetscTime(&t1));

  KNNHeapInit(nlocal, c.kc, hkey, hidx);
  PetscCall(KNNProgressInit(&c, c.size, &progress));
  s = (IVFSearchCtx){&c, nl, nsend, rcounts, Xs, qnrms, slist, qstart, qidx, Q, C, rnrm, hkey, roff, hidx, 0, &progress};
  {
    KNNRingArray ring[3] = {
      {c.rowtype, Xs   },
      {MPIU_INT,  sgid },
      {MPIU_INT,  slist},
    };
    PetscCall(KNNRingRun(&c, rcounts, 3, ring, IVFSearchVisit, &s));
  }
  PetscCall(PetscLogFlops(s.flops));

  /* candidates back to the caller's row order, then the exact search's pass 2 */
  PetscCall(PetscMalloc2((size_t)nlocal * c.kc, &hidx2, (size_t)nlocal * c.kc, &hd2));
  for (PetscInt q = 0; q < nlocal; q++) PetscCall(PetscArraycpy(hidx2 + (size_t)perm[q] * c.kc, hidx + (size_t)q * c.kc, c.kc));
  PetscCall(KNNExactRerank(&c, X, hidx2, hd2, nbr, d2));
  PetscCall(PetscTime(&t2));
  PetscCall(MPIU_Allreduce(&compared, &gcompared, 1, MPIU_REAL, MPIU_SUM, comm));
  PetscCall(PetscPrintf(comm, "  kNN ivf: %" PetscInt_FMT " lists (k-means on %" PetscInt_FMT " sampled rows), %" PetscInt_FMT " probed per row, %" PetscInt_FMT " of %" PetscInt_FMT " rows searched (repeats of a row beyond %" PetscInt_FMT " per rank are not), %.2f%% of the pairs compared; quantizer %.1f s, search %.1f s\n", nl, nsample, nprobe, Nsend, c.Nglobal, c.kc + 1, 100.0 * (double)gcompared / ((double)c.Nglobal * (double)c.Nglobal), t1 - t0, t2 - t1));
  PetscCall(PetscLogEventEnd(SANET_KNN_IVF_EVENT, 0, 0, 0, 0));

  PetscCall(PetscFree2(hidx2, hd2));
  PetscCall(PetscFree(Xs));
  PetscCall(PetscFree3(qstart, qidx, roff));
  PetscCall(PetscFree6(perm, slist, sgid, qnrms, lsize, rcounts));
  PetscCall(PetscFree5(C, Q, rnrm, hkey, hidx));
  PetscCall(PetscFree(cent));
  PetscCall(KNNTearDown(&c));
  PetscFunctionReturn(0);
}
