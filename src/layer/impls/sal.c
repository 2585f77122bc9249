#include "sanet/private/layerimpl.h"
#include <cblas.h>

/* sal: a spectral analysis layer (paper section 3.1). Patches of the input maps are the
   vertices; one neighbour search serves every procedure (each an affinity, a Laplacian
   and a computing method under its own prefix); each vertex gets the concatenated
   eigenvector entries of the procedures, mapped back to its image and position. */

typedef enum { SANET_ZERO_KEEP, SANET_ZERO_DROP } SanetZeroPatches;
static const char *const SanetZeroPatchModes[] = {"keep", "drop", "SanetZeroPatches", "SANET_ZERO_", NULL};

#define SANET_MAX_PROCS 32

typedef struct {
  SanetPatchSpec   patch;
  PetscInt         patch_hw[2];
  SanetZeroPatches zero;
  PetscReal        budget_mb;
  PetscReal        norm_power; /* features of a patch scaled by |patch|^norm_power (0: off) */
  PetscInt         pca;        /* graphs on this many principal components (0: all) */
  SanetKNNSpec     knn;        /* the neighbour search all procedures share */
  char             summary[8192]; /* one line per procedure of the last Apply */
  PetscInt         nproc;
  SanetProc        proc[SANET_MAX_PROCS];
  char            *procname[SANET_MAX_PROCS];
} SanetLayer_SAL;

static PetscErrorCode DestroyProcedures(SanetLayer_SAL *sal)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscCall(SanetProcDestroy(&sal->proc[p]));
    PetscCall(PetscFree(sal->procname[p]));
  }
  sal->nproc = 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerSetFromOptions_SAL(SanetLayer l, PetscOptionItems *PetscOptionsObject, PetscBool first)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;
  PetscInt        n = 2, nprocs = SANET_MAX_PROCS;
  PetscBool       set;

  PetscFunctionBegin;
  /* a second call reads the list again: the procedures of the first are dropped */
  PetscCall(DestroyProcedures(sal));
  sal->patch.pad    = first;
  sal->patch.center = first;
  PetscCall(PetscOptionsIntArray("-patch", "Patch height and width (one value: square)", NULL, sal->patch_hw, &n, &set));
  if (set && n == 1) sal->patch_hw[1] = sal->patch_hw[0];
  PetscCall(PetscOptionsInt("-stride", "Patch stride", NULL, sal->patch.stride, &sal->patch.stride, NULL));
  PetscCall(PetscOptionsBool("-pad", "Zero padding so that ceil(size/stride) patches are taken per axis", NULL, sal->patch.pad, &sal->patch.pad, NULL));
  PetscCall(PetscOptionsBool("-center", "Subtract each patch's mean", NULL, sal->patch.center, &sal->patch.center, NULL));
  PetscCall(PetscOptionsEnum("-zero_patches", "Patches that are all zero (flat after centring): keep in the graphs or drop (features 0)", NULL, SanetZeroPatchModes, (PetscEnum)sal->zero, (PetscEnum *)&sal->zero, NULL));
  PetscCall(PetscOptionsInt("-pca", "Build the graphs on this many principal components of the patches (0: on the patches themselves)", NULL, sal->pca, &sal->pca, NULL));
  PetscCall(PetscOptionsReal("-norm_power", "Scale each patch's features by its norm (after centring) to this power; 0 keeps them as the procedures give them", NULL, sal->norm_power, &sal->norm_power, NULL));
  PetscCall(PetscOptionsReal("-graph_budget_mb", "Most memory one graph may take on a rank (MB)", NULL, sal->budget_mb, &sal->budget_mb, NULL));
  PetscCall(PetscOptionsStringArray("-procedures", "Names of the spectral procedures (each an options prefix)", NULL, sal->procname, &nprocs, &set));
  PetscCheck(set && nprocs >= 1, l->comm, PETSC_ERR_USER_INPUT, "Layer %s needs -%sprocedures (a list of procedure names)", l->name, l->prefix);
  sal->nproc = nprocs;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerSetUp_SAL(SanetLayer l)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;

  PetscFunctionBegin;
  PetscCall(SanetKNNSpecSetFromOptions(l->comm, l->prefix, l->seed, (unsigned long)l->index, &sal->knn));
  sal->patch.ph = sal->patch_hw[0];
  sal->patch.pw = sal->patch_hw[1];
  PetscCheck(sal->patch.ph >= 1 && sal->patch.pw >= 1, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%spatch %" PetscInt_FMT "x%" PetscInt_FMT " must be at least 1x1", l->prefix, sal->patch.ph, sal->patch.pw);
  PetscCheck(sal->patch.stride >= 1, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sstride %" PetscInt_FMT " must be >= 1", l->prefix, sal->patch.stride);
  PetscCheck(sal->pca >= 0, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%spca %" PetscInt_FMT " must be >= 0", l->prefix, sal->pca);
  PetscCheck(sal->norm_power >= 0, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%snorm_power %g must be >= 0", l->prefix, (double)sal->norm_power);
  PetscCheck(sal->budget_mb > 0, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sgraph_budget_mb %g must be > 0", l->prefix, (double)sal->budget_mb);
  for (PetscInt p = 0; p < sal->nproc; p++) {
    char prefix[160];
    PetscCheck(strlen(sal->procname[p]) >= 1 && strlen(sal->procname[p]) <= 48, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sprocedures: procedure name '%s' has %zu characters; names have 1 to 48", l->prefix, sal->procname[p], strlen(sal->procname[p]));
    for (PetscInt q = 0; q < p; q++) PetscCheck(strcmp(sal->procname[q], sal->procname[p]), l->comm, PETSC_ERR_ARG_WRONG, "-%sprocedures: %s appears twice; each procedure needs a name of its own", l->prefix, sal->procname[p]);
    PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s%s_", l->prefix, sal->procname[p]));
    PetscCall(SanetProcCreate(l->comm, &sal->proc[p]));
    PetscCall(SanetProcSetOptionsPrefix(sal->proc[p], prefix));
    PetscCall(SanetProcSetSeed(sal->proc[p], l->seed, l->index * SANET_MAX_PROCS + p));
    PetscCall(SanetProcSetFromOptions(sal->proc[p]));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerGetOutputShape_SAL(SanetLayer l, PetscInt m, PetscInt n, PetscInt c, PetscInt *mo, PetscInt *no, PetscInt *co)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;
  PetscInt        neig;

  PetscFunctionBegin;
  PetscCall(SanetPatchSetUp(&sal->patch, m, n, c));
  *mo = sal->patch.mo;
  *no = sal->patch.no;
  *co = 0;
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscCall(SanetProcGetNumFeatures(sal->proc[p], &neig));
    *co += neig;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerApply_SAL(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;
  const PetscInt  ppi = sal->patch.mo * sal->patch.no, nrows = in->nlocal * ppi, dim = sal->patch.dim;
  PetscReal      *X, *d2, *feat, *pscale, eta = 0, zero_tol;
  PetscInt       *keep, nkeep = 0, Nkeep, kstart, kmax = 1, *nbr, cout, off = 0, gdim = dim;
  PetscBool       need_eta = PETSC_FALSE;
  float          *Xf;
  SanetProcInput  pin;
  PetscLogDouble  t0, t1, tlayer;

  PetscFunctionBegin;
  PetscCall(PetscTime(&t0));
  PetscCall(SanetLayerGetOutputShape_SAL(l, in->m, in->n, in->c, &out->m, &out->n, &cout));
  PetscCall(PetscMalloc1((size_t)nrows * dim, &X));
  PetscCall(SanetPatchExtract(&sal->patch, in, X));
  /* Flat patches: an exact zero after centring, up to the rounding of the mean. */
  zero_tol = 1e-20 * dim;
  PetscCall(PetscMalloc2(nrows, &keep, nrows, &pscale));
  for (PetscInt r = 0; r < nrows; r++) {
    PetscReal s = 0;
    for (PetscInt d = 0; d < dim; d++) s += X[(size_t)r * dim + d] * X[(size_t)r * dim + d];
    if (sal->zero == SANET_ZERO_KEEP || s > zero_tol) {
      pscale[nkeep] = sal->norm_power > 0 ? PetscPowReal(PetscSqrtReal(s), sal->norm_power) : 1;
      keep[nkeep++] = r;
    }
  }
  PetscCallMPI(MPI_Allreduce(&nkeep, &Nkeep, 1, MPIU_INT, MPI_SUM, l->comm));
  PetscCallMPI(MPI_Exscan(&nkeep, &kstart, 1, MPIU_INT, MPI_SUM, l->comm));
  {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(l->comm, &rank));
    if (!rank) kstart = 0;
  }
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscInt  k;
    PetscBool e;
    PetscCall(SanetProcGetNeighborNeeds(sal->proc[p], &k, &e));
    kmax     = PetscMax(kmax, k);
    need_eta = (PetscBool)(need_eta || e);
  }
  PetscCheck(kmax < Nkeep, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "Layer %s: procedures want %" PetscInt_FMT " neighbours but the graph has only %" PetscInt_FMT " vertices", l->name, kmax, Nkeep);
  /* kept rows to the front (keep[i] >= i, so in place) */
  for (PetscInt i = 0; i < nkeep; i++)
    if (keep[i] != i) PetscCall(PetscArraycpy(X + (size_t)i * dim, X + (size_t)keep[i] * dim, dim));
  if (sal->pca > 0 && sal->pca < dim) {
    /* the graphs are built on the leading principal components of the patches */
    PetscReal *mean, *W, *Y, kept;
    PetscCall(PetscMalloc2(dim, &mean, (size_t)dim * sal->pca, &W));
    PetscCall(PetscMalloc1((size_t)nkeep * sal->pca + 1, &Y));
    PetscCall(SanetPCAFit(l->comm, nkeep, dim, X, sal->pca, mean, W, &kept));
    for (PetscInt i = 0; i < nkeep; i++)
      for (PetscInt d = 0; d < dim; d++) X[(size_t)i * dim + d] -= mean[d];
    if (nkeep > 0) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nkeep, (int)sal->pca, (int)dim, 1.0, X, (int)dim, W, (int)sal->pca, 0.0, Y, (int)sal->pca);
    PetscCall(PetscPrintf(l->comm, "%s: PCA from %" PetscInt_FMT " to %" PetscInt_FMT " dimensions keeps %.1f%% of the variance\n", l->name, dim, sal->pca, 100 * (double)kept));
    PetscCall(PetscFree(X));
    X    = Y;
    gdim = sal->pca;
    PetscCall(PetscFree2(mean, W));
  }
  PetscCall(PetscMalloc1((size_t)nkeep * gdim + 1, &Xf));
  for (size_t a = 0; a < (size_t)nkeep * gdim; a++) Xf[a] = (float)X[a];
  PetscCall(PetscFree(X));
  PetscCall(PetscMalloc2((size_t)nkeep * kmax + 1, &nbr, (size_t)nkeep * kmax + 1, &d2));
  PetscCall(SanetKNN(l->comm, &sal->knn, nkeep, gdim, Xf, kmax, nbr, d2));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscPrintf(l->comm, "%s: %" PetscInt_FMT " patches of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " (%" PetscInt_FMT " in graphs), %" PetscInt_FMT "-NN in %.1f s\n", l->name, in->Nglobal * ppi, sal->patch.ph, sal->patch.pw, in->c, Nkeep, kmax, t1 - t0));
  if (need_eta) {
    PetscInt  *ei, *ej, ncomp, largest;
    PetscReal *w;
    PetscCall(PetscMalloc3((size_t)nkeep * kmax + 1, &ei, (size_t)nkeep * kmax + 1, &ej, (size_t)nkeep * kmax + 1, &w));
    for (PetscInt i = 0; i < nkeep; i++)
      for (PetscInt a = 0; a < kmax; a++) {
        ei[i * kmax + a] = kstart + i;
        ej[i * kmax + a] = nbr[i * kmax + a];
        w[i * kmax + a]  = PetscSqrtReal(d2[i * kmax + a]);
      }
    PetscCall(SanetSpanningForest(l->comm, Nkeep, nkeep * kmax, ei, ej, w, &ncomp, &largest, &eta));
    PetscCall(PetscFree3(ei, ej, w));
    PetscCall(PetscPrintf(l->comm, "%s: eta = %g (longest edge of the minimum spanning forest of the %" PetscInt_FMT "-NN graph, %" PetscInt_FMT " component%s)\n", l->name, (double)eta, kmax, ncomp, ncomp > 1 ? "s" : ""));
  }

  PetscCall(SanetMapsCreate(l->comm, in->Nglobal, out->m, out->n, cout, out));
  PetscCall(PetscMalloc1(cout, &out->eigval));
  PetscCall(PetscMalloc1(cout, &out->group));
  pin.comm      = l->comm;
  pin.nlocal    = nkeep;
  pin.Nglobal   = Nkeep;
  pin.rstart    = kstart;
  pin.kstride   = kmax;
  pin.nbr       = nbr;
  pin.d2        = d2;
  pin.eta       = eta;
  pin.budget_mb = sal->budget_mb;
  sal->summary[0] = 0;
  PetscCall(PetscTime(&tlayer));
  pin.X         = Xf;
  pin.dim       = gdim;
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscInt  neig, nnz, ncomp, largest, its;
    PetscReal maxres;
    PetscCall(PetscTime(&t0));
    PetscCall(SanetProcGetNumFeatures(sal->proc[p], &neig));
    PetscCall(PetscMalloc1((size_t)nkeep * neig + 1, &feat));
    PetscCall(SanetProcApply(sal->proc[p], &pin, feat, out->eigval + off));
    for (PetscInt i = 0; i < nkeep; i++)
      for (PetscInt j = 0; j < neig; j++) out->data[(size_t)keep[i] * cout + off + j] = pscale[i] * feat[(size_t)i * neig + j];
    for (PetscInt j = 0; j < neig; j++) out->group[off + j] = l->index * SANET_MAX_PROCS + p;
    PetscCall(PetscFree(feat));
    PetscCall(SanetProcGetStats(sal->proc[p], &nnz, &ncomp, &largest, &its, &maxres));
    PetscCall(PetscTime(&t1));
    {
      char           line[512];
      PetscLogDouble mem, maxmem;
      PetscCall(PetscMemoryGetCurrentUsage(&mem));
      PetscCallMPI(MPI_Allreduce(&mem, &maxmem, 1, MPI_DOUBLE, MPI_MAX, l->comm));
      if (nnz) PetscCall(PetscSNPrintf(line, sizeof(line), "%s %s: %" PetscInt_FMT " vertices, %" PetscInt_FMT " nonzeros, %" PetscInt_FMT " component%s (largest %" PetscInt_FMT "), %" PetscInt_FMT " eigenvectors in %" PetscInt_FMT " iterations, max residual %.2e, eigenvalues %.4g..%.4g, %.1f s", l->name, sal->procname[p], Nkeep, nnz, ncomp, ncomp > 1 ? "s" : "", largest, neig, its, (double)maxres, (double)out->eigval[off], (double)out->eigval[off + neig - 1], t1 - t0));
      else PetscCall(PetscSNPrintf(line, sizeof(line), "%s %s: %" PetscInt_FMT " vertices, dense graph never formed, %" PetscInt_FMT " eigenvectors, %" PetscInt_FMT " mini-batch steps, eigenvalues %.4g..%.4g, %.1f s", l->name, sal->procname[p], Nkeep, neig, its, (double)out->eigval[off], (double)out->eigval[off + neig - 1], t1 - t0));
      PetscCall(PetscStrlcat(sal->summary, line, sizeof(sal->summary)));
      PetscCall(PetscStrlcat(sal->summary, "\n", sizeof(sal->summary)));
      /* time left in the layer, from the procedures done so far */
      PetscCall(PetscPrintf(l->comm, "%s; %.0f MB per rank at most", line, maxmem / 1048576.0));
      if (p + 1 < sal->nproc) PetscCall(PetscPrintf(l->comm, "; about %.0f s left in %s", (t1 - tlayer) / (p + 1) * (sal->nproc - p - 1), l->name));
      PetscCall(PetscPrintf(l->comm, "\n"));
    }
    off += neig;
  }
  PetscCall(PetscFree2(nbr, d2));
  PetscCall(PetscFree(Xf));
  PetscCall(PetscFree2(keep, pscale));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerEstimateMemory_SAL(SanetLayer l, PetscInt Nglobal, PetscInt mo, PetscInt no, PetscMPIInt P, PetscReal *bytes)
{
  SanetLayer_SAL *sal    = (SanetLayer_SAL *)l->data;
  const PetscReal images = PetscCeilReal((PetscReal)Nglobal / P), rows = images * mo * no, dim = (PetscReal)sal->patch.dim;
  const PetscReal gdim   = sal->pca > 0 && sal->pca < dim ? sal->pca : dim;
  PetscReal       kmax = 1, procmax = 0;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscInt  k;
    PetscReal b;
    PetscCall(SanetProcGetNeighborNeeds(sal->proc[p], &k, NULL));
    kmax = PetscMax(kmax, k);
    PetscCall(SanetProcEstimateMemory(sal->proc[p], (PetscInt)rows, &b));
    procmax = PetscMax(procmax, b);
  }
  /* patches (double, then float on the graph's dimensions), the ring's travelling
     block, neighbour lists; with PCA the covariance and the projected rows */
  *bytes = rows * (dim * sizeof(PetscReal) + gdim * 2 * sizeof(float) + kmax * (sizeof(PetscInt) + sizeof(PetscReal))) + procmax;
  if (gdim < dim) *bytes += dim * dim * sizeof(PetscReal) + rows * gdim * sizeof(PetscReal);
  /* IVF: the rows sorted by list, the probe ranking (nprobe + 8 candidates in float
     and double) and the probe lists of the queries both ways */
  if (sal->knn.type == SANET_KNN_IVF) *bytes += rows * (gdim * sizeof(float) + (sal->knn.nprobe + 8) * (sizeof(PetscInt) + sizeof(float) + sizeof(PetscReal)) + 2 * sal->knn.nprobe * sizeof(PetscInt) + 4 * sizeof(PetscInt));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerEstimateWork_SAL(SanetLayer l, PetscInt Nglobal, PetscInt mo, PetscInt no, PetscMPIInt P, SanetWork *work)
{
  SanetLayer_SAL *sal  = (SanetLayer_SAL *)l->data;
  const PetscReal rows = (PetscReal)Nglobal * mo * no, nrows = PetscCeilReal(rows / P), dim = (PetscReal)sal->patch.dim;
  const PetscReal gdim = sal->pca > 0 && sal->pca < dim ? sal->pca : dim;
  PetscReal       kmax = 1;

  PetscFunctionBegin;
  work->gemm   = 0;
  work->stream = 0;
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscInt  k;
    SanetWork w;
    PetscCall(SanetProcGetNeighborNeeds(sal->proc[p], &k, NULL));
    kmax = PetscMax(kmax, k);
    PetscCall(SanetProcEstimateWork(sal->proc[p], rows, (PetscInt)gdim, P, &w));
    work->gemm += w.gemm;
    work->stream += w.stream;
  }
  work->stream += 2 * nrows * dim;
  if (gdim < dim) work->gemm += 4 * nrows * dim * dim;
  if (sal->knn.type == SANET_KNN_IVF) {
    const PetscReal nlist = sal->knn.nlist ? sal->knn.nlist : PetscMax(sal->knn.nprobe, PetscSqrtReal(rows)), scanned = PetscMin(rows, 2 * sal->knn.nprobe * rows / nlist);
    /* training (25 Lloyd iterations on 64 rows a list), assigning every row, and
       scanning nprobe lists per query both ways */
    work->gemm += 25 * 2 * PetscMin(rows, 64 * nlist) / P * nlist * gdim + 2 * nrows * nlist * gdim + 2 * nrows * scanned * gdim;
    work->stream += 6 * nrows * scanned;
  } else {
    /* every query against every row: distances by GEMM, then the heaps of k */
    work->gemm += 2 * nrows * rows * gdim;
    work->stream += 6 * nrows * rows;
  }
  work->stream += nrows * kmax * 20;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerCheckSizes_SAL(SanetLayer l, PetscInt Nglobal, PetscInt mo, PetscInt no, PetscMPIInt P)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;
  PetscReal vertices, perrank;

  PetscFunctionBegin;
  /* at most this many: dropped flat patches make fewer, checked again when they are known */
  vertices = (PetscReal)Nglobal * mo * no;
  perrank  = PetscCeilReal(vertices / P);
  PetscCheck(!sal->knn.nlist || sal->knn.nlist <= vertices, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_nlist %" PetscInt_FMT " is more than the %.0f patches of layer %s", l->prefix, sal->knn.nlist, vertices, l->name);
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscInt  k, neig;
    PetscBool graph;
    PetscCall(SanetProcGetNeighborNeeds(sal->proc[p], &k, NULL));
    PetscCall(SanetProcGetNumFeatures(sal->proc[p], &neig));
    PetscCall(SanetProcHasGraph(sal->proc[p], &graph));
    PetscCheck(!graph || k < vertices, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%s%s_k %" PetscInt_FMT " needs more than %" PetscInt_FMT " patches; layer %s has %.0f", l->prefix, sal->procname[p], k, k, l->name, vertices);
    PetscCheck(neig < vertices, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%s%s_neig %" PetscInt_FMT " needs more graph vertices than the %.0f patches of layer %s", l->prefix, sal->procname[p], neig, vertices, l->name);
    /* the symmetrized graph: at most 2k entries per row, 12 bytes each plus row overhead */
    PetscCheck(!graph || perrank * (2.0 * k * 12 + 16) <= sal->budget_mb * 1048576.0, l->comm, PETSC_ERR_MEM, "Procedure %s%s_: its graph may need %.3g MB on one rank, past the budget of %g MB; lower -%s%s_k, use more ranks, or raise -%sgraph_budget_mb", l->prefix, sal->procname[p], perrank * (2.0 * k * 12 + 16) / 1048576.0, (double)sal->budget_mb, l->prefix, sal->procname[p], l->prefix);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerGetAutoRange_SAL(SanetLayer l, PetscBool *isauto, PetscInt *fewest, PetscInt *most)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;
  PetscFunctionBegin;
  *isauto = PETSC_FALSE;
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscBool a;
    PetscInt  lo, hi;
    PetscCall(SanetProcGetAutoRange(sal->proc[p], &a, &lo, &hi));
    if (!a) continue;
    /* one count is chosen for the layer, so its automatic procedures share the range */
    PetscCheck(!*isauto || (lo == *fewest && hi == *most), l->comm, PETSC_ERR_ARG_INCOMP, "Layer %s: procedures with -neig auto must have the same -neig_range (%s has %" PetscInt_FMT ",%" PetscInt_FMT ", another %" PetscInt_FMT ",%" PetscInt_FMT ")", l->name, sal->procname[p], lo, hi, *fewest, *most);
    *isauto = PETSC_TRUE;
    *fewest = lo;
    *most   = hi;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerGetGraph_SAL(SanetLayer l, Mat *W)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;
  PetscFunctionBegin;
  *W = NULL;
  for (PetscInt p = 0; p < sal->nproc; p++) {
    Mat Wp;
    PetscCall(SanetProcGetGraph(sal->proc[p], &Wp));
    PetscCheck(Wp, l->comm, PETSC_ERR_ARG_WRONGSTATE, "Layer %s: procedure %s kept no graph (dense affinities are never formed; or the layer was not applied with its graph kept)", l->name, sal->procname[p]);
    /* the procedures' graphs summed: an edge weighs what all affinities give it */
    if (!*W && sal->nproc == 1) {
      PetscCall(PetscObjectReference((PetscObject)Wp));
      *W = Wp;
    } else if (!*W) PetscCall(MatDuplicate(Wp, MAT_COPY_VALUES, W));
    else PetscCall(MatAXPY(*W, 1.0, Wp, DIFFERENT_NONZERO_PATTERN));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerSelectFeatures_SAL(SanetLayer l, const SanetMaps *full, PetscInt neig, SanetMaps *out)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;
  PetscInt cout = 0, cfull = 0, *nkeep, *norm, off = 0, o = 0;
  size_t   npx = (size_t)full->nlocal * full->m * full->n;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(sal->nproc, &nkeep, sal->nproc, &norm));
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscBool a, rn;
    PetscInt  ne;
    PetscCall(SanetProcGetAutoRange(sal->proc[p], &a, NULL, NULL));
    PetscCall(SanetProcGetNumFeatures(sal->proc[p], &ne));
    PetscCall(SanetProcGetRowNormalize(sal->proc[p], &rn));
    PetscCheck(!a || (neig >= 1 && neig <= ne), l->comm, PETSC_ERR_ARG_OUTOFRANGE, "Layer %s: %" PetscInt_FMT " eigenvectors asked of procedure %s, which has %" PetscInt_FMT, l->name, neig, sal->procname[p], ne);
    nkeep[p] = a ? neig : ne;
    norm[p]  = a && rn;
    cout += nkeep[p];
    cfull += ne;
  }
  PetscCheck(full->c == cfull, l->comm, PETSC_ERR_PLIB, "Layer %s: maps have %" PetscInt_FMT " channels, its procedures make %" PetscInt_FMT, l->name, full->c, cfull);
  PetscCall(SanetMapsCreate(l->comm, full->Nglobal, full->m, full->n, cout, out));
  if (full->eigval) PetscCall(PetscMalloc1(cout, &out->eigval));
  if (full->group) PetscCall(PetscMalloc1(cout, &out->group));
  for (PetscInt p = 0; p < sal->nproc; p++) {
    PetscInt ne;
    PetscCall(SanetProcGetNumFeatures(sal->proc[p], &ne));
    for (size_t px = 0; px < npx; px++) {
      const PetscReal *f = full->data + px * full->c + off;
      PetscReal       *g = out->data + px * cout + o, s = 1;
      /* a row-normalized procedure's truncated row is rescaled to the norm the whole row
         had (1, or the layer's patch-norm scale) */
      if (norm[p]) {
        PetscReal a = 0, b = 0;
        for (PetscInt j = 0; j < ne; j++) a += f[j] * f[j];
        for (PetscInt j = 0; j < nkeep[p]; j++) b += f[j] * f[j];
        s = b > 0 ? PetscSqrtReal(a / b) : 1;
      }
      for (PetscInt j = 0; j < nkeep[p]; j++) g[j] = s * f[j];
    }
    for (PetscInt j = 0; j < nkeep[p]; j++) {
      if (out->eigval) out->eigval[o + j] = full->eigval[off + j];
      if (out->group) out->group[o + j] = full->group[off + j];
    }
    off += ne;
    o += nkeep[p];
  }
  PetscCall(PetscFree2(nkeep, norm));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerView_SAL(SanetLayer l, PetscViewer viewer)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;
  char            knn[128];

  PetscFunctionBegin;
  PetscCall(SanetKNNSpecGetDescription(&sal->knn, sizeof(knn), knn));
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s: spectral analysis, %" PetscInt_FMT "x%" PetscInt_FMT " patches, stride %" PetscInt_FMT ", padding %s, centring %s, zero patches %s, %" PetscInt_FMT " procedures%s%s, %s\n", l->name, sal->patch.ph, sal->patch.pw, sal->patch.stride, sal->patch.pad ? "on" : "off", sal->patch.center ? "on" : "off", SanetZeroPatchModes[sal->zero], sal->nproc, sal->norm_power > 0 ? ", features scaled by patch norm" : "", sal->pca > 0 ? ", graphs on principal components" : "", knn));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt p = 0; p < sal->nproc; p++) PetscCall(SanetProcView(sal->proc[p], viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerSetKeepGraph_SAL(SanetLayer l, PetscBool flg)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < sal->nproc; p++) PetscCall(SanetProcSetKeepGraph(sal->proc[p], flg));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerCanKeepGraph_SAL(SanetLayer l, PetscBool *flg)
{
  SanetLayer_SAL *sal = (SanetLayer_SAL *)l->data;

  PetscFunctionBegin;
  *flg = (PetscBool)(sal->zero == SANET_ZERO_KEEP && sal->nproc > 0);
  for (PetscInt p = 0; p < sal->nproc && *flg; p++) PetscCall(SanetProcHasGraph(sal->proc[p], flg));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerGetSummary_SAL(SanetLayer l, const char **summary)
{
  PetscFunctionBegin;
  *summary = ((SanetLayer_SAL *)l->data)->summary;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerGetPatchSpec_SAL(SanetLayer l, const SanetPatchSpec **spec)
{
  PetscFunctionBegin;
  *spec = &((SanetLayer_SAL *)l->data)->patch;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetLayerDestroy_SAL(SanetLayer l)
{
  PetscFunctionBegin;
  PetscCall(DestroyProcedures((SanetLayer_SAL *)l->data));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCreate_SAL(SanetLayer l)
{
  SanetLayer_SAL *sal;

  PetscFunctionBegin;
  PetscCall(PetscNew(&sal));
  sal->patch_hw[0] = sal->patch_hw[1] = 4;
  sal->patch.stride                  = 1;
  sal->budget_mb                     = 4096;
  l->data                          = sal;
  l->makes_eigval                  = PETSC_TRUE;
  l->ops->setfromoptions           = SanetLayerSetFromOptions_SAL;
  l->ops->setup                    = SanetLayerSetUp_SAL;
  l->ops->getoutputshape           = SanetLayerGetOutputShape_SAL;
  l->ops->apply                    = SanetLayerApply_SAL;
  l->ops->estimatememory           = SanetLayerEstimateMemory_SAL;
  l->ops->estimatework             = SanetLayerEstimateWork_SAL;
  l->ops->checksizes               = SanetLayerCheckSizes_SAL;
  l->ops->view                     = SanetLayerView_SAL;
  l->ops->destroy                  = SanetLayerDestroy_SAL;
  l->ops->getautorange             = SanetLayerGetAutoRange_SAL;
  l->ops->setkeepgraph             = SanetLayerSetKeepGraph_SAL;
  l->ops->cankeepgraph             = SanetLayerCanKeepGraph_SAL;
  l->ops->getgraph                 = SanetLayerGetGraph_SAL;
  l->ops->selectfeatures           = SanetLayerSelectFeatures_SAL;
  l->ops->getpatchspec             = SanetLayerGetPatchSpec_SAL;
  l->ops->getsummary               = SanetLayerGetSummary_SAL;
  PetscFunctionReturn(0);
}
