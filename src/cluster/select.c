#include "sanet.h"

/* Label-free choice of the cluster count K and of the head's eigenvector count: every
   candidate (K, neig) is clustered by k-means and scored by the modularity of its
   partition on one fixed image graph (the head's affinity, or a 10-NN graph of the final
   features when the network has no image-level spectral layer),

     Q = sum_c [ W(c, c) / vol - (vol(c) / vol)^2 ],   vol(c) = sum_{i in c} d_i,

   the fraction of edge weight inside clusters minus what a random graph with the same
   degrees would put there. Q never reads labels; it is comparable across K and across
   feature sets because the graph stays the same. With both counts automatic the search
   is coordinate ascent (K at a fixed count, then the count at that K, until neither
   moves) from three starting counts, the best of all candidates kept. Ties keep the candidate tried first, so the choice is reproducible. */

struct _p_SanetSelect {
  MPI_Comm        comm;
  SanetSelectMode kmode;
  PetscInt        K, krange[2];
  PetscBool       krange_set; /* given by the user: never clamped silently */
  SanetLayer      head; /* owner of the -neig auto procedures, or NULL */
  PetscInt        mrange[2];
  const SanetMaps *full;
  Mat             W;
  char            graph[128];
  SanetKMeans     km;
  /* evaluated candidates: K, neig, modularity, inertia, restarts reaching the best */
  PetscInt   ncand, maxcand;
  PetscReal *cand;
  /* the best candidate among the allowed K, and among all (the estimate) */
  PetscInt   best, best_any;
  PetscInt  *labels, *work;
  SanetMaps  feat;
};

PetscErrorCode SanetSelectCreate(MPI_Comm comm, SanetSelect *sel)
{
  PetscFunctionBegin;
  PetscCall(PetscNew(sel));
  (*sel)->comm      = comm;
  (*sel)->kmode     = SANET_SELECT_FIXED;
  (*sel)->krange[0] = 2;
  (*sel)->krange[1] = 20;
  (*sel)->best      = -1;
  (*sel)->best_any  = -1;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectSetFromOptions(SanetSelect sel)
{
  PetscInt  n = 2;
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(SanetOptionsCheckListLength(sel->comm, NULL, "-clusters_range", 2));
  PetscOptionsBegin(sel->comm, NULL, "Label-free choice of K and of the head's eigenvector count", NULL);
  PetscCall(PetscOptionsIntArray("-clusters_range", "With -clusters auto (or to print the estimate): fewest and most clusters tried", NULL, sel->krange, &n, &set));
  sel->krange_set = set;
  PetscOptionsEnd();
  PetscCheck(!set || n == 2, sel->comm, PETSC_ERR_ARG_WRONG, "-clusters_range needs two values, fewest and most (got %" PetscInt_FMT ")", n);
  PetscCheck(sel->krange[0] >= 1 && sel->krange[0] <= sel->krange[1], sel->comm, PETSC_ERR_ARG_OUTOFRANGE, "-clusters_range %" PetscInt_FMT ",%" PetscInt_FMT " must satisfy 1 <= fewest <= most", sel->krange[0], sel->krange[1]);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectSetClusters(SanetSelect sel, SanetSelectMode mode, PetscInt K)
{
  PetscFunctionBegin;
  PetscCheck(mode == SANET_SELECT_AUTO || K >= 1, sel->comm, PETSC_ERR_ARG_OUTOFRANGE, "Cluster count %" PetscInt_FMT " must be >= 1", K);
  sel->kmode = mode;
  sel->K     = K;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectGetClustersRange(SanetSelect sel, PetscInt *fewest, PetscInt *most)
{
  PetscFunctionBegin;
  if (fewest) *fewest = sel->krange[0];
  if (most) *most = sel->krange[1];
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectSetNumImages(SanetSelect sel, PetscInt Nglobal)
{
  PetscFunctionBegin;
  /* a range the user gave must fit; the default one shrinks to small inputs */
  PetscCheck(!sel->krange_set || sel->kmode == SANET_SELECT_FIXED || sel->krange[1] <= Nglobal, sel->comm, PETSC_ERR_ARG_OUTOFRANGE, "-clusters_range %" PetscInt_FMT ",%" PetscInt_FMT " goes past the %" PetscInt_FMT " images", sel->krange[0], sel->krange[1], Nglobal);
  sel->krange[1] = PetscMin(sel->krange[1], Nglobal);
  sel->krange[0] = PetscMin(sel->krange[0], sel->krange[1]);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectSetUp(SanetSelect sel, SanetLayer head, const SanetMaps *full, Mat W, SanetKMeans km)
{
  PetscBool isauto = PETSC_FALSE;

  PetscFunctionBegin;
  sel->full = full;
  sel->km   = km;
  if (head) PetscCall(SanetLayerGetAutoRange(head, &isauto, &sel->mrange[0], &sel->mrange[1]));
  sel->head = isauto ? head : NULL;
  PetscCall(SanetSelectSetNumImages(sel, full->Nglobal));
  PetscCall(MatDestroy(&sel->W));
  if (W) {
    const char *name;
    PetscCall(PetscObjectReference((PetscObject)W));
    sel->W = W;
    PetscCall(SanetLayerGetName(head, &name));
    PetscCall(PetscSNPrintf(sel->graph, sizeof(sel->graph), "the %s graph", name));
  } else {
    /* no image graph in the network: a 10-NN graph of the final features */
    const PetscInt   dim = full->m * full->n * full->c, k = PetscMin(10, full->Nglobal - 1);
    float           *Xf;
    PetscInt        *nbr;
    PetscReal       *d2;
    SanetWeightSpec  wspec = {SANET_WEIGHT_BINARY, 0, 1};

    PetscCheck(k >= 1, sel->comm, PETSC_ERR_ARG_OUTOFRANGE, "A label-free score needs at least 2 images");
    PetscCall(PetscMalloc3((size_t)full->nlocal * dim + 1, &Xf, (size_t)full->nlocal * k + 1, &nbr, (size_t)full->nlocal * k + 1, &d2));
    for (size_t a = 0; a < (size_t)full->nlocal * dim; a++) Xf[a] = (float)full->data[a];
    PetscCall(SanetKNNExact(sel->comm, NULL, full->nlocal, dim, Xf, k, nbr, d2));
    PetscCall(SanetGraphFromNeighbors(sel->comm, full->nlocal, k, k, nbr, d2, PETSC_MAX_REAL, &wspec, &sel->W));
    PetscCall(PetscFree3(Xf, nbr, d2));
    PetscCall(PetscSNPrintf(sel->graph, sizeof(sel->graph), "a %" PetscInt_FMT "-NN graph of the features", k));
  }
  {
    PetscInt    M, N, mloc, nloc;
    PetscMPIInt bad, anybad;
    PetscCall(MatGetSize(sel->W, &M, &N));
    PetscCall(MatGetLocalSize(sel->W, &mloc, &nloc));
    bad = (PetscMPIInt)(M != full->Nglobal || mloc != full->nlocal);
    PetscCallMPI(MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, sel->comm));
    PetscCheck(!anybad, sel->comm, PETSC_ERR_ARG_SIZ, "The image graph has %" PetscInt_FMT " vertices (%" PetscInt_FMT " here), the features %" PetscInt_FMT " images (%" PetscInt_FMT " here)", M, mloc, full->Nglobal, full->nlocal);
  }
  PetscCall(PetscFree2(sel->labels, sel->work));
  PetscCall(PetscMalloc2(full->nlocal + 1, &sel->labels, full->nlocal + 1, &sel->work));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetModularity(Mat W, PetscInt nlocal, const PetscInt labels[], PetscInt K, PetscReal *Q)
{
  Vec          z, wz, d;
  PetscScalar *a, vol, volc, win;

  PetscFunctionBegin;
  PetscCall(MatCreateVecs(W, &z, &wz));
  PetscCall(VecDuplicate(z, &d));
  PetscCall(VecSet(z, 1.0));
  PetscCall(MatMult(W, z, d));
  PetscCall(VecSum(d, &vol));
  *Q = 0;
  if (PetscRealPart(vol) <= 0) { /* no edges: no structure to score */
    PetscCall(VecDestroy(&z));
    PetscCall(VecDestroy(&wz));
    PetscCall(VecDestroy(&d));
    PetscFunctionReturn(0);
  }
  for (PetscInt c = 0; c < K; c++) {
    PetscCall(VecGetArray(z, &a));
    for (PetscInt i = 0; i < nlocal; i++) a[i] = labels[i] == c ? 1.0 : 0.0;
    PetscCall(VecRestoreArray(z, &a));
    PetscCall(MatMult(W, z, wz));
    PetscCall(VecDot(wz, z, &win));
    PetscCall(VecDot(d, z, &volc));
    *Q += PetscRealPart(win) / PetscRealPart(vol) - PetscSqr(PetscRealPart(volc) / PetscRealPart(vol));
  }
  PetscCall(VecDestroy(&z));
  PetscCall(VecDestroy(&wz));
  PetscCall(VecDestroy(&d));
  PetscFunctionReturn(0);
}

#define NCOL 5
/* features up to this size are clustered on every rank (see Evaluate) */
#define SELECT_REPLICATE_BYTES (256.0 * 1048576.0) /* K, neig, modularity, inertia, restarts reaching the best */

static PetscErrorCode Evaluate(SanetSelect sel, PetscInt K, PetscInt neig, PetscInt *index)
{
  SanetMaps        sub, *use;
  PetscReal        inertia, Q, *row, median, worst;
  PetscInt         restarts, nbest, dim;
  PetscBool        allowed = (PetscBool)(sel->kmode == SANET_SELECT_AUTO || K == sel->K);
  PetscLogDouble   t0, t1;

  PetscFunctionBegin;
  for (PetscInt c = 0; c < sel->ncand; c++)
    if (sel->cand[c * NCOL] == K && sel->cand[c * NCOL + 1] == neig) {
      *index = c;
      PetscFunctionReturn(0);
    }
  PetscCall(PetscTime(&t0));
  PetscCall(PetscMemzero(&sub, sizeof(sub)));
  if (sel->head) PetscCall(SanetLayerSelectFeatures(sel->head, sel->full, neig, &sub));
  use = sel->head ? &sub : (SanetMaps *)sel->full;
  dim = use->m * use->n * use->c;
  PetscCall(SanetKMeansSetClusters(sel->km, K));
  if ((PetscReal)use->Nglobal * dim * sizeof(PetscReal) <= SELECT_REPLICATE_BYTES) {
    /* small features (the usual head: N x 10-24): every rank clusters all rows, its share
       of the restarts, so the partition does not depend on the rank count */
    PetscReal  *Xall;
    PetscInt   *lall;
    PetscMPIInt size, n = (PetscMPIInt)(use->nlocal * dim), *counts, *displs;
    PetscCallMPI(MPI_Comm_size(sel->comm, &size));
    PetscCall(PetscMalloc4((size_t)use->Nglobal * dim, &Xall, use->Nglobal, &lall, size, &counts, size, &displs));
    PetscCallMPI(MPI_Allgather(&n, 1, MPI_INT, counts, 1, MPI_INT, sel->comm));
    displs[0] = 0;
    for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
    PetscCallMPI(MPI_Allgatherv(use->data, n, MPIU_REAL, Xall, counts, displs, MPIU_REAL, sel->comm));
    PetscCall(SanetKMeansApplyReplicated(sel->km, use->Nglobal, dim, Xall, lall, &inertia));
    PetscCall(PetscArraycpy(sel->work, lall + use->istart, use->nlocal));
    PetscCall(PetscFree4(Xall, lall, counts, displs));
  } else PetscCall(SanetKMeansApply(sel->km, use->nlocal, dim, use->data, sel->work, &inertia));
  PetscCall(SanetKMeansGetRestartStats(sel->km, &restarts, &nbest, &median, &worst));
  PetscCall(SanetModularity(sel->W, use->nlocal, sel->work, K, &Q));
  if (sel->ncand == sel->maxcand) {
    sel->maxcand = PetscMax(16, 2 * sel->maxcand);
    PetscCall(PetscRealloc(sizeof(PetscReal) * NCOL * sel->maxcand, &sel->cand));
  }
  row    = sel->cand + sel->ncand * NCOL;
  row[0] = K;
  row[1] = neig;
  row[2] = Q;
  row[3] = inertia;
  row[4] = nbest;
  *index = sel->ncand++;
  PetscCall(PetscTime(&t1));
  PetscCall(PetscPrintf(sel->comm, "  candidate K=%" PetscInt_FMT " features=%" PetscInt_FMT ": modularity %.4f, inertia %.6g (best of %" PetscInt_FMT " restarts, reached by %" PetscInt_FMT "; median %.6g), %.1f s\n", K, dim, (double)Q, (double)inertia, restarts, nbest, (double)median, t1 - t0));
  /* strictly better by more than rounding, so the earlier candidate wins ties */
  if (sel->best_any < 0 || Q > sel->cand[sel->best_any * NCOL + 2] + 1e-9) sel->best_any = *index;
  if (allowed && (sel->best < 0 || Q > sel->cand[sel->best * NCOL + 2] + 1e-9)) {
    sel->best = *index;
    PetscCall(PetscArraycpy(sel->labels, sel->work, use->nlocal));
    PetscCall(SanetMapsDestroy(&sel->feat));
    sel->feat = sub; /* empty without a head: the features are then the network's output */
    PetscCall(PetscMemzero(&sub, sizeof(sub)));
  }
  PetscCall(SanetMapsDestroy(&sub));
  PetscFunctionReturn(0);
}

/* Best count in [lo, hi] of one coordinate with the other fixed. */
static PetscErrorCode Scan(SanetSelect sel, PetscBool overK, PetscInt other, PetscInt lo, PetscInt hi, PetscInt *argbest)
{
  PetscReal bestQ = -PETSC_MAX_REAL;

  PetscFunctionBegin;
  *argbest = lo;
  for (PetscInt v = lo; v <= hi; v++) {
    PetscInt c;
    PetscCall(Evaluate(sel, overK ? v : other, overK ? other : v, &c));
    if (sel->cand[c * NCOL + 2] > bestQ + 1e-9) {
      bestQ    = sel->cand[c * NCOL + 2];
      *argbest = v;
    }
  }
  PetscFunctionReturn(0);
}

/* Lloyd iterations per restart, the k-means++ seeding counted in (the head of
   2,000 digits averages about 12: the restarts converge fast on small features) */
#define WORK_KMEANS_ITS 12

PetscErrorCode SanetSelectEstimateWork(SanetSelect sel, SanetLayer head, SanetKMeans km, PetscInt Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *work)
{
  PetscBool isauto = PETSC_FALSE;
  PetscInt  mlo = dim, mhi = dim, restarts, nK = sel->krange[1] - sel->krange[0] + 1, nM, evaluations;
  PetscReal K = sel->kmode == SANET_SELECT_AUTO ? 0.5 * (sel->krange[0] + sel->krange[1]) : sel->K, q;

  PetscFunctionBegin;
  if (head) PetscCall(SanetLayerGetAutoRange(head, &isauto, &mlo, &mhi));
  if (!isauto) mlo = mhi = dim;
  nM = mhi - mlo + 1;
  q  = 0.5 * (mlo + mhi);
  /* the candidates Apply evaluates: a scan of each range, the coordinate ascent of both
     (cached, about two scans of each), and the K estimate printed beside the labels' K */
  if (sel->kmode == SANET_SELECT_AUTO) evaluations = isauto ? 2 * (nK + nM) : nK;
  else evaluations = (isauto ? nM : 1) + (sel->kmode == SANET_SELECT_REPORT ? nK : 0);
  PetscCall(SanetKMeansGetIterations(km, &restarts, NULL));
  /* the restarts are shared out over the ranks; each restart sees every row */
  work->gemm   = 0;
  work->stream = evaluations * PetscCeilReal((PetscReal)restarts / P) * WORK_KMEANS_ITS * 3.0 * Nglobal * K * q;
  /* without an image-level layer the score's graph is a 10-NN search of the features */
  if (!head) {
    work->gemm += 2 * PetscCeilReal((PetscReal)Nglobal / P) * Nglobal * dim;
    work->stream += 6 * PetscCeilReal((PetscReal)Nglobal / P) * Nglobal;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectApply(SanetSelect sel)
{
  PetscInt K, m, idx;
  PetscBool mscan = (PetscBool)(sel->head != NULL);

  PetscFunctionBegin;
  PetscCheck(sel->W, sel->comm, PETSC_ERR_ARG_WRONGSTATE, "SanetSelectApply needs SanetSelectSetUp");
  m = mscan ? (sel->mrange[0] + sel->mrange[1]) / 2 : sel->full->m * sel->full->n * sel->full->c;
  K = sel->kmode == SANET_SELECT_AUTO ? (sel->krange[0] + sel->krange[1]) / 2 : sel->K;
  if (sel->kmode == SANET_SELECT_AUTO && mscan) {
    PetscCall(PetscPrintf(sel->comm, "choosing K in %" PetscInt_FMT "..%" PetscInt_FMT " and the eigenvector count in %" PetscInt_FMT "..%" PetscInt_FMT " by modularity on %s\n", sel->krange[0], sel->krange[1], sel->mrange[0], sel->mrange[1], sel->graph));
    /* coordinate ascent from the quartiles of the count range: the (K, count) surface
       can have more than one local maximum; evaluations are cached across starts */
    for (PetscInt start = 1; start <= 3; start++) {
      PetscInt Ks = K, ms = sel->mrange[0] + start * (sel->mrange[1] - sel->mrange[0]) / 4;
      for (PetscInt round = 0; round < 8; round++) {
        PetscInt K1, m1;
        PetscCall(Scan(sel, PETSC_TRUE, ms, sel->krange[0], sel->krange[1], &K1));
        PetscCall(Scan(sel, PETSC_FALSE, K1, sel->mrange[0], sel->mrange[1], &m1));
        if (K1 == Ks && m1 == ms) break;
        Ks = K1;
        ms = m1;
      }
    }
  } else if (sel->kmode == SANET_SELECT_AUTO) {
    PetscCall(PetscPrintf(sel->comm, "choosing K in %" PetscInt_FMT "..%" PetscInt_FMT " by modularity on %s\n", sel->krange[0], sel->krange[1], sel->graph));
    PetscCall(Scan(sel, PETSC_TRUE, m, sel->krange[0], sel->krange[1], &K));
  } else if (mscan) {
    PetscCall(PetscPrintf(sel->comm, "choosing the eigenvector count in %" PetscInt_FMT "..%" PetscInt_FMT " by modularity on %s (K=%" PetscInt_FMT ")\n", sel->mrange[0], sel->mrange[1], sel->graph, sel->K));
    PetscCall(Scan(sel, PETSC_FALSE, sel->K, sel->mrange[0], sel->mrange[1], &m));
  } else PetscCall(Evaluate(sel, sel->K, m, &idx));
  if (sel->kmode == SANET_SELECT_REPORT) {
    /* K is given by the labels: estimate it anyway at the chosen count, to print */
    PetscCall(PetscPrintf(sel->comm, "estimating K in %" PetscInt_FMT "..%" PetscInt_FMT " by modularity on %s (K=%" PetscInt_FMT " from the labels is used)\n", sel->krange[0], sel->krange[1], sel->graph, sel->K));
    PetscCall(Scan(sel, PETSC_TRUE, (PetscInt)sel->cand[sel->best * NCOL + 1], sel->krange[0], sel->krange[1], &K));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectGetResult(SanetSelect sel, const PetscInt **labels, const SanetMaps **features, PetscInt *K, PetscInt *neig, PetscReal *modularity, PetscReal *inertia, PetscInt *nbest, PetscInt *Kestimate)
{
  PetscFunctionBegin;
  PetscCheck(sel->best >= 0, sel->comm, PETSC_ERR_ARG_WRONGSTATE, "SanetSelectGetResult needs SanetSelectApply");
  if (labels) *labels = sel->labels;
  if (features) *features = sel->head ? &sel->feat : sel->full;
  if (K) *K = (PetscInt)sel->cand[sel->best * NCOL];
  if (neig) *neig = (PetscInt)sel->cand[sel->best * NCOL + 1];
  if (modularity) *modularity = sel->cand[sel->best * NCOL + 2];
  if (inertia) *inertia = sel->cand[sel->best * NCOL + 3];
  if (nbest) *nbest = (PetscInt)sel->cand[sel->best * NCOL + 4];
  if (Kestimate) *Kestimate = (PetscInt)sel->cand[sel->best_any * NCOL];
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectGetCandidates(SanetSelect sel, PetscInt *ncand, PetscInt *ncol, const PetscReal **cand, const char **graph)
{
  PetscFunctionBegin;
  *ncand = sel->ncand;
  *ncol  = NCOL;
  *cand  = sel->cand;
  if (graph) *graph = sel->graph;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetSelectDestroy(SanetSelect *sel)
{
  PetscFunctionBegin;
  if (!*sel) PetscFunctionReturn(0);
  PetscCall(MatDestroy(&(*sel)->W));
  PetscCall(PetscFree((*sel)->cand));
  PetscCall(PetscFree2((*sel)->labels, (*sel)->work));
  PetscCall(SanetMapsDestroy(&(*sel)->feat));
  PetscCall(PetscFree(*sel));
  PetscFunctionReturn(0);
}
