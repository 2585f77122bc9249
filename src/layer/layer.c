#include "sanet.h"
#include <cblas.h>

const char *const SanetLayerTypes[] = {"sal", "pool", "bin", "code", "deskew", "SanetLayerType", "SANET_LAYER_", NULL};

typedef enum { SANET_ZERO_KEEP, SANET_ZERO_DROP } SanetZeroPatches;
static const char *const SanetZeroPatchModes[] = {"keep", "drop", "SanetZeroPatches", "SANET_ZERO_", NULL};
typedef enum { SANET_CODE_GLOBAL, SANET_CODE_PROCEDURE } SanetCodeOrder;
static const char *const SanetCodeOrders[] = {"global", "procedure", "SanetCodeOrder", "SANET_CODE_", NULL};

#define SANET_MAX_PROCS 32

struct _p_SanetLayer {
  MPI_Comm       comm;
  char           name[64], prefix[80];
  SanetLayerType type;
  unsigned long  seed;
  PetscInt       index;
  /* sal */
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
  /* pool */
  PetscInt pool_size, pool_stride;
  /* code */
  PetscInt       code_len;
  SanetCodeOrder code_order;
  /* deskew */
  PetscBool recenter;
};

PetscErrorCode SanetLayerCreate(MPI_Comm comm, const char name[], SanetLayer *layer)
{
  SanetLayer l;
  PetscBool  found = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscNew(&l));
  l->comm = comm;
  PetscCall(PetscStrncpy(l->name, name, sizeof(l->name)));
  PetscCall(PetscSNPrintf(l->prefix, sizeof(l->prefix), "%s_", name));
  for (PetscInt t = SANET_LAYER_DESKEW; t >= 0 && !found; t--) {
    PetscCall(PetscStrbeginswith(name, SanetLayerTypes[t], &found));
    if (found) l->type = (SanetLayerType)t;
  }
  PetscCheck(found, comm, PETSC_ERR_ARG_WRONG, "-network: layer name '%s' must start with sal, pool, bin, code or deskew", name);
  l->patch_hw[0] = l->patch_hw[1] = 4;
  l->patch.stride                  = 1;
  l->budget_mb                     = 4096;
  l->pool_size                     = 2;
  l->pool_stride                   = 1;
  l->code_len                      = 8;
  l->recenter                      = PETSC_FALSE;
  *layer                           = l;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSetSeed(SanetLayer l, unsigned long seed, PetscInt index)
{
  PetscFunctionBegin;
  l->seed  = seed;
  l->index = index;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSetFromOptions(SanetLayer l, PetscBool first)
{
  PetscFunctionBegin;
  PetscCall(SanetOptionsCheckListLength(l->comm, l->prefix, "-procedures", SANET_MAX_PROCS));
  PetscCall(SanetOptionsCheckListLength(l->comm, l->prefix, "-patch", 2));
  PetscOptionsBegin(l->comm, l->prefix, "SA-Net layer", NULL);
  if (l->type == SANET_LAYER_SAL) {
    PetscInt  n = 2, nprocs = SANET_MAX_PROCS;
    PetscBool set;
    l->patch.pad    = first;
    l->patch.center = first;
    PetscCall(PetscOptionsIntArray("-patch", "Patch height and width (one value: square)", NULL, l->patch_hw, &n, &set));
    if (set && n == 1) l->patch_hw[1] = l->patch_hw[0];
    PetscCall(PetscOptionsInt("-stride", "Patch stride", NULL, l->patch.stride, &l->patch.stride, NULL));
    PetscCall(PetscOptionsBool("-pad", "Zero padding so that ceil(size/stride) patches are taken per axis", NULL, l->patch.pad, &l->patch.pad, NULL));
    PetscCall(PetscOptionsBool("-center", "Subtract each patch's mean", NULL, l->patch.center, &l->patch.center, NULL));
    PetscCall(PetscOptionsEnum("-zero_patches", "Patches that are all zero (flat after centring): keep in the graphs or drop (features 0)", NULL, SanetZeroPatchModes, (PetscEnum)l->zero, (PetscEnum *)&l->zero, NULL));
    PetscCall(PetscOptionsInt("-pca", "Build the graphs on this many principal components of the patches (0: on the patches themselves)", NULL, l->pca, &l->pca, NULL));
    PetscCall(PetscOptionsReal("-norm_power", "Scale each patch's features by its norm (after centring) to this power; 0 keeps them as the procedures give them", NULL, l->norm_power, &l->norm_power, NULL));
    PetscCall(PetscOptionsReal("-graph_budget_mb", "Most memory one graph may take on a rank (MB)", NULL, l->budget_mb, &l->budget_mb, NULL));
    PetscCall(PetscOptionsStringArray("-procedures", "Names of the spectral procedures (each an options prefix)", NULL, l->procname, &nprocs, &set));
    PetscCheck(set && nprocs >= 1, l->comm, PETSC_ERR_USER_INPUT, "Layer %s needs -%sprocedures (a list of procedure names)", l->name, l->prefix);
    l->nproc = nprocs;
  } else if (l->type == SANET_LAYER_POOL) {
    PetscCall(PetscOptionsInt("-size", "Pooling window (square)", NULL, l->pool_size, &l->pool_size, NULL));
    PetscCall(PetscOptionsInt("-stride", "Pooling stride (windows may overlap)", NULL, l->pool_stride, &l->pool_stride, NULL));
  } else if (l->type == SANET_LAYER_CODE) {
    PetscCall(PetscOptionsInt("-L", "Binary maps per decimal map", NULL, l->code_len, &l->code_len, NULL));
    PetscCall(PetscOptionsEnum("-order", "Group maps by eigenvalue over the whole layer or within each procedure", NULL, SanetCodeOrders, (PetscEnum)l->code_order, (PetscEnum *)&l->code_order, NULL));
  } else if (l->type == SANET_LAYER_DESKEW) {
    PetscCall(PetscOptionsBool("-recenter", "Also move each image's centre of mass to the centre of the map", NULL, l->recenter, &l->recenter, NULL));
  }
  PetscOptionsEnd();
  if (l->type == SANET_LAYER_SAL) {
    PetscCall(SanetKNNSpecSetFromOptions(l->comm, l->prefix, l->seed, (unsigned long)l->index, &l->knn));
    l->patch.ph = l->patch_hw[0];
    l->patch.pw = l->patch_hw[1];
    PetscCheck(l->patch.ph >= 1 && l->patch.pw >= 1, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%spatch %" PetscInt_FMT "x%" PetscInt_FMT " must be at least 1x1", l->prefix, l->patch.ph, l->patch.pw);
    PetscCheck(l->patch.stride >= 1, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sstride %" PetscInt_FMT " must be >= 1", l->prefix, l->patch.stride);
    PetscCheck(l->pca >= 0, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%spca %" PetscInt_FMT " must be >= 0", l->prefix, l->pca);
    PetscCheck(l->norm_power >= 0, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%snorm_power %g must be >= 0", l->prefix, (double)l->norm_power);
    PetscCheck(l->budget_mb > 0, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sgraph_budget_mb %g must be > 0", l->prefix, (double)l->budget_mb);
    for (PetscInt p = 0; p < l->nproc; p++) {
      char prefix[160];
      PetscCheck(strlen(l->procname[p]) >= 1 && strlen(l->procname[p]) <= 48, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sprocedures: procedure name '%s' has %zu characters; names have 1 to 48", l->prefix, l->procname[p], strlen(l->procname[p]));
      for (PetscInt q = 0; q < p; q++) PetscCheck(strcmp(l->procname[q], l->procname[p]), l->comm, PETSC_ERR_ARG_WRONG, "-%sprocedures: %s appears twice; each procedure needs a name of its own", l->prefix, l->procname[p]);
      PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s%s_", l->prefix, l->procname[p]));
      PetscCall(SanetProcCreate(l->comm, &l->proc[p]));
      PetscCall(SanetProcSetOptionsPrefix(l->proc[p], prefix));
      PetscCall(SanetProcSetSeed(l->proc[p], l->seed, l->index * SANET_MAX_PROCS + p));
      PetscCall(SanetProcSetFromOptions(l->proc[p]));
    }
  }
  PetscCheck(l->type != SANET_LAYER_POOL || (l->pool_size >= 1 && l->pool_stride >= 1), l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%ssize %" PetscInt_FMT " and -%sstride %" PetscInt_FMT " must be >= 1", l->prefix, l->pool_size, l->prefix, l->pool_stride);
  PetscCheck(l->type != SANET_LAYER_CODE || (l->code_len >= 1 && l->code_len <= 30), l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sL %" PetscInt_FMT " must be in [1, 30]", l->prefix, l->code_len);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetOutputShape(SanetLayer l, PetscInt m, PetscInt n, PetscInt c, PetscInt *mo, PetscInt *no, PetscInt *co)
{
  PetscFunctionBegin;
  *mo = m;
  *no = n;
  *co = c;
  switch (l->type) {
  case SANET_LAYER_SAL: {
    PetscInt neig;
    PetscCall(SanetPatchSetUp(&l->patch, m, n, c));
    *mo = l->patch.mo;
    *no = l->patch.no;
    *co = 0;
    for (PetscInt p = 0; p < l->nproc; p++) {
      PetscCall(SanetProcGetNumFeatures(l->proc[p], &neig));
      *co += neig;
    }
  } break;
  case SANET_LAYER_POOL:
    PetscCheck(l->pool_size <= m && l->pool_size <= n, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%ssize %" PetscInt_FMT " is larger than its %" PetscInt_FMT "x%" PetscInt_FMT " input maps", l->prefix, l->pool_size, m, n);
    *mo = (m - l->pool_size) / l->pool_stride + 1;
    *no = (n - l->pool_size) / l->pool_stride + 1;
    break;
  case SANET_LAYER_BIN:
  case SANET_LAYER_DESKEW:
    break;
  case SANET_LAYER_CODE:
    *co = (c + l->code_len - 1) / l->code_len; /* global order; per procedure may add a few */
    break;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode LayerApplySAL(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  const PetscInt  ppi = l->patch.mo * l->patch.no, nrows = in->nlocal * ppi, dim = l->patch.dim;
  PetscReal      *X, *d2, *feat, *pscale, eta = 0, zero_tol;
  PetscInt       *keep, nkeep = 0, Nkeep, kstart, kmax = 1, *nbr, cout, off = 0, gdim = dim;
  PetscBool       need_eta = PETSC_FALSE;
  float          *Xf;
  SanetProcInput  pin;
  PetscLogDouble  t0, t1, tlayer;

  PetscFunctionBegin;
  PetscCall(PetscTime(&t0));
  PetscCall(SanetLayerGetOutputShape(l, in->m, in->n, in->c, &out->m, &out->n, &cout));
  PetscCall(PetscMalloc1((size_t)nrows * dim, &X));
  PetscCall(SanetPatchExtract(&l->patch, in, X));
  /* Flat patches: an exact zero after centring, up to the rounding of the mean. */
  zero_tol = 1e-20 * dim;
  PetscCall(PetscMalloc2(nrows, &keep, nrows, &pscale));
  for (PetscInt r = 0; r < nrows; r++) {
    PetscReal s = 0;
    for (PetscInt d = 0; d < dim; d++) s += X[(size_t)r * dim + d] * X[(size_t)r * dim + d];
    if (l->zero == SANET_ZERO_KEEP || s > zero_tol) {
      pscale[nkeep] = l->norm_power > 0 ? PetscPowReal(PetscSqrtReal(s), l->norm_power) : 1;
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
  for (PetscInt p = 0; p < l->nproc; p++) {
    PetscInt  k;
    PetscBool e;
    PetscCall(SanetProcGetNeighborNeeds(l->proc[p], &k, &e));
    kmax     = PetscMax(kmax, k);
    need_eta = (PetscBool)(need_eta || e);
  }
  PetscCheck(kmax < Nkeep, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "Layer %s: procedures want %" PetscInt_FMT " neighbours but the graph has only %" PetscInt_FMT " vertices", l->name, kmax, Nkeep);
  /* kept rows to the front (keep[i] >= i, so in place) */
  for (PetscInt i = 0; i < nkeep; i++)
    if (keep[i] != i) PetscCall(PetscArraycpy(X + (size_t)i * dim, X + (size_t)keep[i] * dim, dim));
  if (l->pca > 0 && l->pca < dim) {
    /* the graphs are built on the leading principal components of the patches */
    PetscReal *mean, *W, *Y, kept;
    PetscCall(PetscMalloc2(dim, &mean, (size_t)dim * l->pca, &W));
    PetscCall(PetscMalloc1((size_t)nkeep * l->pca + 1, &Y));
    PetscCall(SanetPCAFit(l->comm, nkeep, dim, X, l->pca, mean, W, &kept));
    for (PetscInt i = 0; i < nkeep; i++)
      for (PetscInt d = 0; d < dim; d++) X[(size_t)i * dim + d] -= mean[d];
    if (nkeep > 0) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nkeep, (int)l->pca, (int)dim, 1.0, X, (int)dim, W, (int)l->pca, 0.0, Y, (int)l->pca);
    PetscCall(PetscPrintf(l->comm, "%s: PCA from %" PetscInt_FMT " to %" PetscInt_FMT " dimensions keeps %.1f%% of the variance\n", l->name, dim, l->pca, 100 * (double)kept));
    PetscCall(PetscFree(X));
    X    = Y;
    gdim = l->pca;
    PetscCall(PetscFree2(mean, W));
  }
  PetscCall(PetscMalloc1((size_t)nkeep * gdim + 1, &Xf));
  for (size_t a = 0; a < (size_t)nkeep * gdim; a++) Xf[a] = (float)X[a];
  PetscCall(PetscFree(X));
  PetscCall(PetscMalloc2((size_t)nkeep * kmax + 1, &nbr, (size_t)nkeep * kmax + 1, &d2));
  PetscCall(SanetKNN(l->comm, &l->knn, nkeep, gdim, Xf, kmax, nbr, d2));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscPrintf(l->comm, "%s: %" PetscInt_FMT " patches of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " (%" PetscInt_FMT " in graphs), %" PetscInt_FMT "-NN in %.1f s\n", l->name, in->Nglobal * ppi, l->patch.ph, l->patch.pw, in->c, Nkeep, kmax, t1 - t0));
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
  pin.budget_mb = l->budget_mb;
  l->summary[0] = 0;
  PetscCall(PetscTime(&tlayer));
  pin.X         = Xf;
  pin.dim       = gdim;
  for (PetscInt p = 0; p < l->nproc; p++) {
    PetscInt  neig, nnz, ncomp, largest, its;
    PetscReal maxres;
    PetscCall(PetscTime(&t0));
    PetscCall(SanetProcGetNumFeatures(l->proc[p], &neig));
    PetscCall(PetscMalloc1((size_t)nkeep * neig + 1, &feat));
    PetscCall(SanetProcApply(l->proc[p], &pin, feat, out->eigval + off));
    for (PetscInt i = 0; i < nkeep; i++)
      for (PetscInt j = 0; j < neig; j++) out->data[(size_t)keep[i] * cout + off + j] = pscale[i] * feat[(size_t)i * neig + j];
    for (PetscInt j = 0; j < neig; j++) out->group[off + j] = l->index * SANET_MAX_PROCS + p;
    PetscCall(PetscFree(feat));
    PetscCall(SanetProcGetStats(l->proc[p], &nnz, &ncomp, &largest, &its, &maxres));
    PetscCall(PetscTime(&t1));
    {
      char           line[512];
      PetscLogDouble mem, maxmem;
      PetscCall(PetscMemoryGetCurrentUsage(&mem));
      PetscCallMPI(MPI_Allreduce(&mem, &maxmem, 1, MPI_DOUBLE, MPI_MAX, l->comm));
      if (nnz) PetscCall(PetscSNPrintf(line, sizeof(line), "%s %s: %" PetscInt_FMT " vertices, %" PetscInt_FMT " nonzeros, %" PetscInt_FMT " component%s (largest %" PetscInt_FMT "), %" PetscInt_FMT " eigenvectors in %" PetscInt_FMT " iterations, max residual %.2e, eigenvalues %.4g..%.4g, %.1f s", l->name, l->procname[p], Nkeep, nnz, ncomp, ncomp > 1 ? "s" : "", largest, neig, its, (double)maxres, (double)out->eigval[off], (double)out->eigval[off + neig - 1], t1 - t0));
      else PetscCall(PetscSNPrintf(line, sizeof(line), "%s %s: %" PetscInt_FMT " vertices, dense graph never formed, %" PetscInt_FMT " eigenvectors, %" PetscInt_FMT " mini-batch steps, eigenvalues %.4g..%.4g, %.1f s", l->name, l->procname[p], Nkeep, neig, its, (double)out->eigval[off], (double)out->eigval[off + neig - 1], t1 - t0));
      PetscCall(PetscStrlcat(l->summary, line, sizeof(l->summary)));
      PetscCall(PetscStrlcat(l->summary, "\n", sizeof(l->summary)));
      /* time left in the layer, from the procedures done so far */
      PetscCall(PetscPrintf(l->comm, "%s; %.0f MB per rank at most", line, maxmem / 1048576.0));
      if (p + 1 < l->nproc) PetscCall(PetscPrintf(l->comm, "; about %.0f s left in %s", (t1 - tlayer) / (p + 1) * (l->nproc - p - 1), l->name));
      PetscCall(PetscPrintf(l->comm, "\n"));
    }
    off += neig;
  }
  PetscCall(PetscFree2(nbr, d2));
  PetscCall(PetscFree(Xf));
  PetscCall(PetscFree(keep));
  PetscFunctionReturn(0);
}

static PetscErrorCode LayerApplyPool(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  PetscInt mo, no, c;

  PetscFunctionBegin;
  PetscCall(SanetLayerGetOutputShape(l, in->m, in->n, in->c, &mo, &no, &c));
  PetscCall(SanetMapsCreate(l->comm, in->Nglobal, mo, no, c, out));
  for (PetscInt img = 0; img < in->nlocal; img++)
    for (PetscInt i = 0; i < mo; i++)
      for (PetscInt j = 0; j < no; j++)
        for (PetscInt ch = 0; ch < c; ch++) {
          PetscReal best = 0;
          for (PetscInt a = 0; a < l->pool_size; a++)
            for (PetscInt b = 0; b < l->pool_size; b++) {
              PetscReal v = in->data[(((size_t)img * in->m + i * l->pool_stride + a) * in->n + j * l->pool_stride + b) * c + ch];
              if (PetscAbsReal(v) > PetscAbsReal(best)) best = v;
            }
          out->data[(((size_t)img * mo + i) * no + j) * c + ch] = best;
        }
  PetscFunctionReturn(0);
}

/* Channel order for coding: ascending eigenvalue, per procedure or over the layer. */
static PetscErrorCode CodeOrder(SanetLayer l, const SanetMaps *in, PetscInt order[], PetscInt *ngroups, PetscInt gstart[])
{
  PetscInt c = in->c, n = 0;

  PetscFunctionBegin;
  for (PetscInt ch = 0; ch < c; ch++) order[ch] = ch;
  /* insertion sort keeps equal keys in channel order: deterministic */
  for (PetscInt a = 1; a < c; a++) {
    PetscInt v = order[a], b = a - 1;
    while (b >= 0) {
      PetscInt  u  = order[b];
      PetscBool gt = PETSC_FALSE;
      if (l->code_order == SANET_CODE_PROCEDURE && in->group[u] != in->group[v]) gt = (PetscBool)(in->group[u] > in->group[v]);
      else gt = (PetscBool)(in->eigval[u] > in->eigval[v]);
      if (!gt) break;
      order[b + 1] = u;
      b--;
    }
    order[b + 1] = v;
  }
  for (PetscInt a = 0; a < c; a++) {
    PetscBool newproc = (PetscBool)(a > 0 && l->code_order == SANET_CODE_PROCEDURE && in->group[order[a]] != in->group[order[a - 1]]);
    if (a == 0 || newproc || a - gstart[n - 1] == l->code_len) gstart[n++] = a;
  }
  gstart[n] = c;
  *ngroups  = n;
  PetscFunctionReturn(0);
}

static PetscErrorCode LayerApplyCode(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  PetscInt *order, *gstart, ng;

  PetscFunctionBegin;
  PetscCheck(in->eigval && in->group, l->comm, PETSC_ERR_ARG_WRONGSTATE, "Layer %s: coding needs maps that carry eigenvalues (put a sal layer before it)", l->name);
  PetscCall(PetscMalloc2(in->c, &order, in->c + 1, &gstart));
  PetscCall(CodeOrder(l, in, order, &ng, gstart));
  PetscCall(SanetMapsCreate(l->comm, in->Nglobal, in->m, in->n, ng, out));
  PetscCall(PetscMalloc1(ng, &out->eigval));
  PetscCall(PetscMalloc1(ng, &out->group));
  for (PetscInt g = 0; g < ng; g++) {
    out->eigval[g] = in->eigval[order[gstart[g]]];
    out->group[g]  = in->group[order[gstart[g]]];
  }
  for (size_t px = 0; px < (size_t)in->nlocal * in->m * in->n; px++)
    for (PetscInt g = 0; g < ng; g++) {
      PetscReal v = 0;
      /* Smallest eigenvalue gets the highest bit: 2^(L-1) (eq. 11, fig. 4). */
      for (PetscInt a = gstart[g]; a < gstart[g + 1]; a++)
        if (in->data[px * in->c + order[a]] > 0) v += (PetscReal)(1 << (l->code_len - 1 - (a - gstart[g])));
      out->data[px * ng + g] = v;
    }
  PetscCall(PetscFree2(order, gstart));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerApply(SanetLayer l, const SanetMaps *in, SanetMaps *out)
{
  PetscFunctionBegin;
  switch (l->type) {
  case SANET_LAYER_SAL:
    PetscCall(LayerApplySAL(l, in, out));
    break;
  case SANET_LAYER_POOL:
    PetscCall(LayerApplyPool(l, in, out));
    break;
  case SANET_LAYER_BIN:
    PetscCall(SanetMapsCreate(l->comm, in->Nglobal, in->m, in->n, in->c, out));
    for (size_t a = 0; a < (size_t)in->nlocal * in->m * in->n * in->c; a++) out->data[a] = in->data[a] > 0 ? 1 : 0;
    break;
  case SANET_LAYER_CODE:
    PetscCall(LayerApplyCode(l, in, out));
    break;
  case SANET_LAYER_DESKEW: {
    const size_t per = (size_t)in->m * in->n * in->c;
    PetscCall(SanetMapsCreate(l->comm, in->Nglobal, in->m, in->n, in->c, out));
    for (PetscInt img = 0; img < in->nlocal; img++) PetscCall(SanetDeskewImage(in->m, in->n, in->c, in->data + img * per, l->recenter, out->data + img * per));
  } break;
  }
  if (l->type != SANET_LAYER_SAL && l->type != SANET_LAYER_CODE && in->eigval) {
    PetscCall(PetscMalloc1(in->c, &out->eigval));
    PetscCall(PetscMalloc1(in->c, &out->group));
    PetscCall(PetscArraycpy(out->eigval, in->eigval, in->c));
    PetscCall(PetscArraycpy(out->group, in->group, in->c));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerEstimateMemory(SanetLayer l, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P, PetscReal *bytes)
{
  PetscInt  mo, no, co;
  PetscReal images = PetscCeilReal((PetscReal)Nglobal / P), maps_in, maps_out;

  PetscFunctionBegin;
  PetscCall(SanetLayerGetOutputShape(l, m, n, c, &mo, &no, &co));
  maps_in  = images * m * n * c * sizeof(PetscReal);
  maps_out = images * mo * no * co * sizeof(PetscReal);
  *bytes   = maps_in + maps_out;
  if (l->type == SANET_LAYER_SAL) {
    const PetscReal rows = images * mo * no, dim = (PetscReal)l->patch.dim;
    PetscReal       kmax = 1, procmax = 0;
    for (PetscInt p = 0; p < l->nproc; p++) {
      PetscInt  k;
      PetscReal b;
      PetscCall(SanetProcGetNeighborNeeds(l->proc[p], &k, NULL));
      kmax = PetscMax(kmax, k);
      PetscCall(SanetProcEstimateMemory(l->proc[p], (PetscInt)rows, &b));
      procmax = PetscMax(procmax, b);
    }
    /* patches (double, then float on the graph's dimensions), the ring's travelling
       block, neighbour lists; with PCA the covariance and the projected rows */
    PetscReal gdim = l->pca > 0 && l->pca < dim ? l->pca : dim;
    *bytes += rows * (dim * sizeof(PetscReal) + gdim * 2 * sizeof(float) + kmax * (sizeof(PetscInt) + sizeof(PetscReal))) + procmax;
    if (gdim < dim) *bytes += dim * dim * sizeof(PetscReal) + rows * gdim * sizeof(PetscReal);
    /* IVF: the rows sorted by list, the probe ranking (nprobe + 8 candidates in float
       and double) and the probe lists of the queries both ways */
    if (l->knn.type == SANET_KNN_IVF) *bytes += rows * (gdim * sizeof(float) + (l->knn.nprobe + 8) * (sizeof(PetscInt) + sizeof(float) + sizeof(PetscReal)) + 2 * l->knn.nprobe * sizeof(PetscInt) + 4 * sizeof(PetscInt));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerEstimateWork(SanetLayer l, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P, SanetWork *work)
{
  PetscInt  mo, no, co;
  PetscReal images = PetscCeilReal((PetscReal)Nglobal / P);

  PetscFunctionBegin;
  PetscCall(SanetLayerGetOutputShape(l, m, n, c, &mo, &no, &co));
  /* every layer reads its input and writes its output a few times */
  work->gemm   = 0;
  work->stream = 4 * images * (m * n * c + mo * no * co);
  if (l->type == SANET_LAYER_SAL) {
    const PetscReal rows = (PetscReal)Nglobal * mo * no, nrows = PetscCeilReal(rows / P), dim = (PetscReal)l->patch.dim;
    const PetscReal gdim = l->pca > 0 && l->pca < dim ? l->pca : dim;
    PetscReal       kmax = 1;
    for (PetscInt p = 0; p < l->nproc; p++) {
      PetscInt  k;
      SanetWork w;
      PetscCall(SanetProcGetNeighborNeeds(l->proc[p], &k, NULL));
      kmax = PetscMax(kmax, k);
      PetscCall(SanetProcEstimateWork(l->proc[p], rows, (PetscInt)gdim, P, &w));
      work->gemm += w.gemm;
      work->stream += w.stream;
    }
    work->stream += 2 * nrows * dim;
    if (gdim < dim) work->gemm += 4 * nrows * dim * dim;
    if (l->knn.type == SANET_KNN_IVF) {
      const PetscReal nlist = l->knn.nlist ? l->knn.nlist : PetscMax(l->knn.nprobe, PetscSqrtReal(rows)), scanned = PetscMin(rows, 2 * l->knn.nprobe * rows / nlist);
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
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCheckSizes(SanetLayer l, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, PetscMPIInt P)
{
  PetscInt  mo, no, co;
  PetscReal vertices, perrank;

  PetscFunctionBegin;
  if (l->type != SANET_LAYER_SAL) PetscFunctionReturn(0);
  PetscCall(SanetLayerGetOutputShape(l, m, n, c, &mo, &no, &co));
  /* at most this many: dropped flat patches make fewer, checked again when they are known */
  vertices = (PetscReal)Nglobal * mo * no;
  perrank  = PetscCeilReal(vertices / P);
  PetscCheck(!l->knn.nlist || l->knn.nlist <= vertices, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sknn_nlist %" PetscInt_FMT " is more than the %.0f patches of layer %s", l->prefix, l->knn.nlist, vertices, l->name);
  for (PetscInt p = 0; p < l->nproc; p++) {
    PetscInt  k, neig;
    PetscBool graph;
    PetscCall(SanetProcGetNeighborNeeds(l->proc[p], &k, NULL));
    PetscCall(SanetProcGetNumFeatures(l->proc[p], &neig));
    PetscCall(SanetProcHasGraph(l->proc[p], &graph));
    PetscCheck(!graph || k < vertices, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%s%s_k %" PetscInt_FMT " needs more than %" PetscInt_FMT " patches; layer %s has %.0f", l->prefix, l->procname[p], k, k, l->name, vertices);
    PetscCheck(neig < vertices, l->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%s%s_neig %" PetscInt_FMT " needs more graph vertices than the %.0f patches of layer %s", l->prefix, l->procname[p], neig, vertices, l->name);
    /* the symmetrized graph: at most 2k entries per row, 12 bytes each plus row overhead */
    PetscCheck(!graph || perrank * (2.0 * k * 12 + 16) <= l->budget_mb * 1048576.0, l->comm, PETSC_ERR_MEM, "Procedure %s%s_: its graph may need %.3g MB on one rank, past the budget of %g MB; lower -%s%s_k, use more ranks, or raise -%sgraph_budget_mb", l->prefix, l->procname[p], perrank * (2.0 * k * 12 + 16) / 1048576.0, (double)l->budget_mb, l->prefix, l->procname[p], l->prefix);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerView(SanetLayer l, PetscViewer viewer)
{
  PetscFunctionBegin;
  switch (l->type) {
  case SANET_LAYER_SAL: {
    char knn[128];
    PetscCall(SanetKNNSpecGetDescription(&l->knn, sizeof(knn), knn));
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s: spectral analysis, %" PetscInt_FMT "x%" PetscInt_FMT " patches, stride %" PetscInt_FMT ", padding %s, centring %s, zero patches %s, %" PetscInt_FMT " procedures%s%s, %s\n", l->name, l->patch.ph, l->patch.pw, l->patch.stride, l->patch.pad ? "on" : "off", l->patch.center ? "on" : "off", SanetZeroPatchModes[l->zero], l->nproc, l->norm_power > 0 ? ", features scaled by patch norm" : "", l->pca > 0 ? ", graphs on principal components" : "", knn));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    for (PetscInt p = 0; p < l->nproc; p++) PetscCall(SanetProcView(l->proc[p], viewer));
    PetscCall(PetscViewerASCIIPopTab(viewer));
  } break;
  case SANET_LAYER_POOL:
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s: max-abs pooling, window %" PetscInt_FMT ", stride %" PetscInt_FMT "\n", l->name, l->pool_size, l->pool_stride));
    break;
  case SANET_LAYER_BIN:
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s: binarization (x > 0)\n", l->name));
    break;
  case SANET_LAYER_CODE:
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s: coding, groups of %" PetscInt_FMT " by ascending eigenvalue (%s order)\n", l->name, l->code_len, SanetCodeOrders[l->code_order]));
    break;
  case SANET_LAYER_DESKEW:
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s: deskewing by image moments%s\n", l->name, l->recenter ? ", centre of mass to the centre" : ""));
    break;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetAutoRange(SanetLayer l, PetscBool *isauto, PetscInt *fewest, PetscInt *most)
{
  PetscFunctionBegin;
  *isauto = PETSC_FALSE;
  for (PetscInt p = 0; p < l->nproc; p++) {
    PetscBool a;
    PetscInt  lo, hi;
    PetscCall(SanetProcGetAutoRange(l->proc[p], &a, &lo, &hi));
    if (!a) continue;
    /* one count is chosen for the layer, so its automatic procedures share the range */
    PetscCheck(!*isauto || (lo == *fewest && hi == *most), l->comm, PETSC_ERR_ARG_INCOMP, "Layer %s: procedures with -neig auto must have the same -neig_range (%s has %" PetscInt_FMT ",%" PetscInt_FMT ", another %" PetscInt_FMT ",%" PetscInt_FMT ")", l->name, l->procname[p], lo, hi, *fewest, *most);
    *isauto = PETSC_TRUE;
    *fewest = lo;
    *most   = hi;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSetKeepGraph(SanetLayer l, PetscBool flg)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < l->nproc; p++) PetscCall(SanetProcSetKeepGraph(l->proc[p], flg));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerCanKeepGraph(SanetLayer l, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = (PetscBool)(l->type == SANET_LAYER_SAL && l->zero == SANET_ZERO_KEEP && l->nproc > 0);
  for (PetscInt p = 0; p < l->nproc && *flg; p++) PetscCall(SanetProcHasGraph(l->proc[p], flg));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetGraph(SanetLayer l, Mat *W)
{
  PetscFunctionBegin;
  *W = NULL;
  PetscCheck(l->type == SANET_LAYER_SAL, l->comm, PETSC_ERR_ARG_WRONG, "Layer %s has no graph", l->name);
  for (PetscInt p = 0; p < l->nproc; p++) {
    Mat Wp;
    PetscCall(SanetProcGetGraph(l->proc[p], &Wp));
    PetscCheck(Wp, l->comm, PETSC_ERR_ARG_WRONGSTATE, "Layer %s: procedure %s kept no graph (dense affinities are never formed; or the layer was not applied with its graph kept)", l->name, l->procname[p]);
    /* the procedures' graphs summed: an edge weighs what all affinities give it */
    if (!*W && l->nproc == 1) {
      PetscCall(PetscObjectReference((PetscObject)Wp));
      *W = Wp;
    } else if (!*W) PetscCall(MatDuplicate(Wp, MAT_COPY_VALUES, W));
    else PetscCall(MatAXPY(*W, 1.0, Wp, DIFFERENT_NONZERO_PATTERN));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerSelectFeatures(SanetLayer l, const SanetMaps *full, PetscInt neig, SanetMaps *out)
{
  PetscInt cout = 0, cfull = 0, *nkeep, *norm, off = 0, o = 0;
  size_t   npx = (size_t)full->nlocal * full->m * full->n;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(l->nproc, &nkeep, l->nproc, &norm));
  for (PetscInt p = 0; p < l->nproc; p++) {
    PetscBool a, rn;
    PetscInt  ne;
    PetscCall(SanetProcGetAutoRange(l->proc[p], &a, NULL, NULL));
    PetscCall(SanetProcGetNumFeatures(l->proc[p], &ne));
    PetscCall(SanetProcGetRowNormalize(l->proc[p], &rn));
    PetscCheck(!a || (neig >= 1 && neig <= ne), l->comm, PETSC_ERR_ARG_OUTOFRANGE, "Layer %s: %" PetscInt_FMT " eigenvectors asked of procedure %s, which has %" PetscInt_FMT, l->name, neig, l->procname[p], ne);
    nkeep[p] = a ? neig : ne;
    norm[p]  = a && rn;
    cout += nkeep[p];
    cfull += ne;
  }
  PetscCheck(full->c == cfull, l->comm, PETSC_ERR_PLIB, "Layer %s: maps have %" PetscInt_FMT " channels, its procedures make %" PetscInt_FMT, l->name, full->c, cfull);
  PetscCall(SanetMapsCreate(l->comm, full->Nglobal, full->m, full->n, cout, out));
  if (full->eigval) PetscCall(PetscMalloc1(cout, &out->eigval));
  if (full->group) PetscCall(PetscMalloc1(cout, &out->group));
  for (PetscInt p = 0; p < l->nproc; p++) {
    PetscInt ne;
    PetscCall(SanetProcGetNumFeatures(l->proc[p], &ne));
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

PetscErrorCode SanetLayerGetSummary(SanetLayer l, const char **summary)
{
  PetscFunctionBegin;
  *summary = l->summary;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetPatchSpec(SanetLayer l, const SanetPatchSpec **spec)
{
  PetscFunctionBegin;
  *spec = l->type == SANET_LAYER_SAL ? &l->patch : NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetName(SanetLayer l, const char **name)
{
  PetscFunctionBegin;
  *name = l->name;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerGetType(SanetLayer l, SanetLayerType *type)
{
  PetscFunctionBegin;
  *type = l->type;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetLayerDestroy(SanetLayer *layer)
{
  PetscFunctionBegin;
  if (!*layer) PetscFunctionReturn(0);
  for (PetscInt p = 0; p < (*layer)->nproc; p++) {
    PetscCall(SanetProcDestroy(&(*layer)->proc[p]));
    PetscCall(PetscFree((*layer)->procname[p]));
  }
  PetscCall(PetscFree(*layer));
  PetscFunctionReturn(0);
}
