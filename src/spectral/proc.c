#include "sanet/private/procimpl.h"
#include <errno.h>
#include <stdlib.h>

/* The spectral analysis procedure: an affinity (kNN, eps or full), a Laplacian and a
   computing method, registered like the layer types (one file a method under impls/). */

const char *const SanetAffinities[] = {"knn", "eps", "full", "SanetAffinity", "SANET_AFFINITY_", NULL};
const char *const SanetLaplacians[] = {"sym", "rw", "SanetLaplacian", "SANET_LAPLACIAN_", NULL};

static PetscFunctionList SanetProcList       = NULL;
static PetscBool         SanetProcRegistered = PETSC_FALSE;

static PetscErrorCode SanetProcFinalizePackage(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&SanetProcList));
  SanetProcRegistered = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcRegisterAll(void)
{
  PetscFunctionBegin;
  if (SanetProcRegistered) PetscFunctionReturn(0);
  SanetProcRegistered = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(SanetProcFinalizePackage));
  PetscCall(SanetProcRegister(SANETPROCKRYLOV, SanetProcCreate_Krylov));
  PetscCall(SanetProcRegister(SANETPROCNYSTROM, SanetProcCreate_Nystrom));
  PetscCall(SanetProcRegister(SANETPROCMINIBATCH, SanetProcCreate_MiniBatch));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcRegister(const char method[], PetscErrorCode (*create)(SanetProc))
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(SanetProcRegisterAll());
  PetscCall(PetscStrlen(method, &len));
  PetscCheck(len >= 1 && len < sizeof(((struct _p_SanetProc *)NULL)->method), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Method name '%s' must have 1 to 31 characters", method);
  PetscCall(PetscFunctionListAdd(&SanetProcList, method, create));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcCreate(MPI_Comm comm, SanetProc *proc)
{
  PetscFunctionBegin;
  PetscCall(SanetProcRegisterAll());
  PetscCall(PetscNew(proc));
  (*proc)->comm            = comm;
  (*proc)->affinity        = SANET_AFFINITY_KNN;
  (*proc)->k               = 9;
  (*proc)->eps_scale       = 1;
  (*proc)->weight.type     = SANET_WEIGHT_BINARY;
  (*proc)->weight.sigma    = 0.1;
  (*proc)->weight.selftune = 7;
  (*proc)->laplacian       = SANET_LAPLACIAN_SYM;
  (*proc)->neig            = 16;
  (*proc)->neig_range[0]   = 4;
  (*proc)->neig_range[1]   = 24;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcSetMethod(SanetProc proc, SanetProcMethod method)
{
  PetscErrorCode (*create)(SanetProc);
  PetscBool same;

  PetscFunctionBegin;
  PetscCall(PetscStrcmp(proc->method, method, &same));
  if (same) PetscFunctionReturn(0);
  PetscCall(PetscFunctionListFind(SanetProcList, method, &create));
  PetscCheck(create, proc->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Procedure %s: unknown method '%s' (-%smethod); the methods are krylov, nystrom, minibatch and any registered", proc->prefix, method, proc->prefix);
  if (proc->ops->destroy) PetscCall((*proc->ops->destroy)(proc));
  PetscCall(PetscFree(proc->data));
  PetscCall(PetscMemzero(proc->ops, sizeof(proc->ops)));
  proc->sparse = PETSC_FALSE;
  PetscCall(PetscStrncpy(proc->method, method, sizeof(proc->method)));
  PetscCall((*create)(proc));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetMethod(SanetProc proc, SanetProcMethod *method)
{
  PetscFunctionBegin;
  *method = proc->method;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcSetOptionsPrefix(SanetProc proc, const char prefix[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(proc->prefix));
  PetscCall(PetscStrallocpy(prefix, &proc->prefix));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcSetSeed(SanetProc proc, unsigned long seed, PetscInt stream)
{
  PetscFunctionBegin;
  proc->seed   = seed;
  proc->stream = stream;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcSetFromOptions(SanetProc proc)
{
  const char *p = proc->prefix ? proc->prefix : "";
  char        neigstr[32], method[32];
  PetscInt    nrange = 2;
  PetscBool   neigset, rangeset;

  PetscFunctionBegin;
  PetscCall(SanetOptionsCheckListLength(proc->comm, p, "-neig_range", 2));
  PetscCall(PetscStrncpy(method, proc->method[0] ? proc->method : SANETPROCKRYLOV, sizeof(method)));
  PetscOptionsBegin(proc->comm, p, "Spectral analysis procedure", NULL);
  PetscCall(PetscOptionsEnum("-affinity", "Affinity graph", NULL, SanetAffinities, (PetscEnum)proc->affinity, (PetscEnum *)&proc->affinity, NULL));
  /* eps keeps the neighbours within eps eta, up to k of them: a larger cap by default */
  if (proc->affinity == SANET_AFFINITY_EPS && proc->k == 9) proc->k = 64;
  if (proc->affinity != SANET_AFFINITY_FULL) PetscCall(PetscOptionsInt("-k", "kNN: neighbours per vertex; eps: most neighbours kept per vertex", NULL, proc->k, &proc->k, NULL));
  if (proc->affinity == SANET_AFFINITY_EPS) PetscCall(PetscOptionsReal("-eps", "Epsilon as a multiple of eta, the longest minimum-spanning-tree edge", NULL, proc->eps_scale, &proc->eps_scale, NULL));
  PetscCall(PetscOptionsEnum("-weight", "Edge weights", NULL, SanetWeights, (PetscEnum)proc->weight.type, (PetscEnum *)&proc->weight.type, NULL));
  PetscCall(PetscOptionsReal("-sigma", "Gaussian width (patch scale: pixels in [0,1])", NULL, proc->weight.sigma, &proc->weight.sigma, NULL));
  PetscCall(PetscOptionsInt("-selftune_k", "Self-tuning: sigma_i is the distance to this neighbour", NULL, proc->weight.selftune, &proc->weight.selftune, NULL));
  PetscCall(PetscOptionsEnum("-laplacian", "Normalized Laplacian", NULL, SanetLaplacians, (PetscEnum)proc->laplacian, (PetscEnum *)&proc->laplacian, NULL));
  PetscCall(PetscOptionsFList("-method", "Computing method: krylov (sparse kNN or eps graphs), nystrom or minibatch (the full affinity)", "SanetProcSetMethod", SanetProcList, method, method, sizeof(method), NULL));
  PetscCall(PetscSNPrintf(neigstr, sizeof(neigstr), "%" PetscInt_FMT, proc->neig));
  PetscCall(PetscOptionsString("-neig", "Eigenvectors (features) per vertex, or auto: the count among -neig_range whose clustering has the highest modularity on this graph", NULL, neigstr, neigstr, sizeof(neigstr), &neigset));
  PetscCall(PetscOptionsIntArray("-neig_range", "With -neig auto: fewest and most eigenvectors tried", NULL, proc->neig_range, &nrange, &rangeset));
  PetscCall(PetscOptionsBool("-row_normalize", "Scale each vertex's features to unit length (Ng-Jordan-Weiss)", NULL, proc->row_normalize, &proc->row_normalize, NULL));
  PetscCall(SanetProcSetMethod(proc, method));
  if (proc->ops->setfromoptions) PetscCall((*proc->ops->setfromoptions)(proc, PetscOptionsObject));
  PetscOptionsEnd();
  if (neigset) {
    PetscCall(PetscStrcasecmp(neigstr, "auto", &proc->neig_auto));
    if (!proc->neig_auto) {
      char     *end;
      long long v;
      errno = 0;
      v     = strtoll(neigstr, &end, 10);
      PetscCheck(end != neigstr && !*end && !errno && v >= 1 && v <= PETSC_MAX_INT, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig %s must be auto or an integer >= 1", p, neigstr);
      proc->neig = (PetscInt)v;
    }
  }
  PetscCheck(!rangeset || nrange == 2, proc->comm, PETSC_ERR_ARG_WRONG, "-%sneig_range needs two values, fewest and most (got %" PetscInt_FMT ")", p, nrange);
  PetscCheck(!rangeset || proc->neig_auto, proc->comm, PETSC_ERR_ARG_INCOMP, "-%sneig_range is for -%sneig auto", p, p);
  PetscCheck(proc->neig_range[0] >= 1 && proc->neig_range[0] <= proc->neig_range[1], proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig_range %" PetscInt_FMT ",%" PetscInt_FMT " must satisfy 1 <= fewest <= most", p, proc->neig_range[0], proc->neig_range[1]);
  if (proc->neig_auto) proc->neig = proc->neig_range[1];
  /* the affinity and the method are chosen apart; they must fit */
  PetscCheck((proc->affinity != SANET_AFFINITY_FULL) == proc->sparse, proc->comm, PETSC_ERR_ARG_INCOMP, "-%saffinity %s needs %s (-%smethod is %s)", p, SanetAffinities[proc->affinity], proc->affinity == SANET_AFFINITY_FULL ? "a method for a graph that is never formed: -method nystrom or minibatch" : "a method for a formed sparse graph: -method krylov", p, proc->method);
  PetscCheck(proc->affinity != SANET_AFFINITY_FULL || proc->weight.type != SANET_WEIGHT_BINARY, proc->comm, PETSC_ERR_ARG_INCOMP, "-%saffinity full needs -%sweight gaussian or selftune (binary weights would join every pair)", p, p);
  PetscCheck(proc->k >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sk %" PetscInt_FMT " must be >= 1", p, proc->k);
  PetscCheck(proc->neig >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig %" PetscInt_FMT " must be >= 1", p, proc->neig);
  PetscCheck(proc->eps_scale > 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%seps %g must be > 0", p, (double)proc->eps_scale);
  PetscCheck(proc->weight.sigma > 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%ssigma %g must be > 0", p, (double)proc->weight.sigma);
  PetscCheck(proc->weight.type != SANET_WEIGHT_SELFTUNE || (proc->weight.selftune >= 1 && (!proc->sparse || proc->weight.selftune <= proc->k)), proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sselftune_k %" PetscInt_FMT " must be in [1, k=%" PetscInt_FMT "]", p, proc->weight.selftune, proc->k);
  if (proc->ops->setup) PetscCall((*proc->ops->setup)(proc));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetNeighborNeeds(SanetProc proc, PetscInt *k, PetscBool *eta)
{
  PetscFunctionBegin;
  /* the full affinity needs neighbours only for self-tuning scales */
  if (k) *k = proc->sparse ? proc->k : (proc->weight.type == SANET_WEIGHT_SELFTUNE ? proc->weight.selftune : 1);
  if (eta) *eta = (PetscBool)(proc->affinity == SANET_AFFINITY_EPS);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetNumFeatures(SanetProc proc, PetscInt *neig)
{
  PetscFunctionBegin;
  *neig = proc->neig;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetAutoRange(SanetProc proc, PetscBool *isauto, PetscInt *fewest, PetscInt *most)
{
  PetscFunctionBegin;
  if (isauto) *isauto = proc->neig_auto;
  if (fewest) *fewest = proc->neig_range[0];
  if (most) *most = proc->neig_range[1];
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetRowNormalize(SanetProc proc, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = proc->row_normalize;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcSetKeepGraph(SanetProc proc, PetscBool flg)
{
  PetscFunctionBegin;
  proc->keep_graph = flg;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcHasGraph(SanetProc proc, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = proc->sparse;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetGraph(SanetProc proc, Mat *W)
{
  PetscFunctionBegin;
  *W = proc->graph;
  PetscFunctionReturn(0);
}

/* Writes feature column col from an eigenvector u of S (entry i at u[i*stride]): L_rw
   features are D^-1/2 u; the sign is fixed so that the third moment is positive, since
   binarization is not sign-invariant (a rule that does not depend on the rank count). */
PetscErrorCode SanetProcEmitFeature(SanetProc proc, PetscInt nlocal, const PetscScalar *u, PetscInt stride, const PetscScalar *dinv, PetscInt col, PetscReal *features)
{
  PetscReal cube = 0, gcube;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscReal v = PetscRealPart(u[i * stride]) * (proc->laplacian == SANET_LAPLACIAN_RW ? PetscRealPart(dinv[i]) : 1);
    features[i * proc->neig + col] = v;
    cube += v * v * v;
  }
  PetscCallMPI(MPI_Allreduce(&cube, &gcube, 1, MPIU_REAL, MPI_SUM, proc->comm));
  if (gcube < 0)
    for (PetscInt i = 0; i < nlocal; i++) features[i * proc->neig + col] *= -1;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcApply(SanetProc proc, const SanetProcInput *in, PetscReal *features, PetscReal *eigval)
{
  Mat       W;
  PetscReal d2max = PETSC_MAX_REAL, bytes, gbytes;
  MatInfo   info;
  PetscInt  kneed;

  PetscFunctionBegin;
  PetscCall(SanetProcGetNeighborNeeds(proc, &kneed, NULL));
  PetscCheck(kneed <= in->kstride, proc->comm, PETSC_ERR_PLIB, "Procedure %s wants %" PetscInt_FMT " neighbours, layer computed %" PetscInt_FMT, proc->prefix, kneed, in->kstride);
  if (!proc->sparse) {
    proc->nnz = proc->ncomponents = proc->largest = 0;
    PetscCall((*proc->ops->solve)(proc, in, NULL, features, eigval));
  } else {
  /* Symmetrized graph: at most 2k entries per row, 12 bytes each plus row overhead. */
  bytes = (PetscReal)in->nlocal * (2.0 * proc->k * 12 + 16);
  PetscCallMPI(MPI_Allreduce(&bytes, &gbytes, 1, MPIU_REAL, MPI_MAX, proc->comm));
  PetscCheck(gbytes <= in->budget_mb * 1048576.0, proc->comm, PETSC_ERR_MEM, "Procedure %s: its graph may need %.0f MB on one rank, past the budget of %.0f MB; lower -%sk, use more ranks, or raise the layer's -graph_budget_mb", proc->prefix, gbytes / 1048576.0, (double)in->budget_mb, proc->prefix);
  if (proc->affinity == SANET_AFFINITY_EPS) {
    PetscInt capped = 0;
    d2max = PetscSqr(proc->eps_scale * in->eta);
    for (PetscInt i = 0; i < in->nlocal; i++)
      if (in->d2[i * in->kstride + proc->k - 1] <= d2max) capped++;
    PetscCallMPI(MPI_Allreduce(&capped, &proc->capped, 1, MPIU_INT, MPI_SUM, proc->comm));
    if (proc->capped) PetscCall(PetscPrintf(proc->comm, "  warning: procedure %s: %" PetscInt_FMT " of %" PetscInt_FMT " vertices have more than k=%" PetscInt_FMT " neighbours within eps=%g; kept their %" PetscInt_FMT " nearest (raise -%sk to keep more)\n", proc->prefix, proc->capped, in->Nglobal, proc->k, (double)(proc->eps_scale * in->eta), proc->k, proc->prefix));
  }
  PetscCall(SanetGraphFromNeighbors(in->comm, in->nlocal, in->kstride, proc->k, in->nbr, in->d2, d2max, &proc->weight, &W));
  PetscCall(MatGetInfo(W, MAT_GLOBAL_SUM, &info));
  proc->nnz = (PetscInt)info.nz_used;
  PetscCall(SanetGraphComponents(W, &proc->ncomponents, &proc->largest));
  PetscCall(MatDestroy(&proc->graph));
  if (proc->keep_graph) PetscCall(MatDuplicate(W, MAT_COPY_VALUES, &proc->graph)); /* W is normalized in place below */
  PetscCall((*proc->ops->solve)(proc, in, W, features, eigval));
  PetscCall(MatDestroy(&W));
  }
  if (proc->row_normalize) {
    for (PetscInt i = 0; i < in->nlocal; i++) {
      PetscReal *f = features + i * proc->neig, s = 0;
      for (PetscInt j = 0; j < proc->neig; j++) s += f[j] * f[j];
      if (s > 0) {
        s = 1 / PetscSqrtReal(s);
        for (PetscInt j = 0; j < proc->neig; j++) f[j] *= s;
      }
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcView(SanetProc proc, PetscViewer viewer)
{
  char graph[160] = "", weight[64] = "", epsbuf[32], autobuf[64] = "", method[128] = "";

  PetscFunctionBegin;
  if (proc->ops->describe) PetscCall((*proc->ops->describe)(proc, sizeof(method), method));
  /* plain snprintf for %g: PETSc's printf appends a '.' to whole numbers ("1.") */
  snprintf(epsbuf, sizeof(epsbuf), "%g", (double)proc->eps_scale);
  if (proc->affinity == SANET_AFFINITY_EPS) PetscCall(PetscSNPrintf(graph, sizeof(graph), "eps %s eta, at most %" PetscInt_FMT " neighbours", epsbuf, proc->k));
  else if (proc->affinity == SANET_AFFINITY_FULL) PetscCall(PetscSNPrintf(graph, sizeof(graph), "never formed%s", method));
  else PetscCall(PetscSNPrintf(graph, sizeof(graph), "k %" PetscInt_FMT, proc->k));
  if (proc->weight.type == SANET_WEIGHT_GAUSSIAN) snprintf(weight, sizeof(weight), " (sigma %g)", (double)proc->weight.sigma);
  if (proc->weight.type == SANET_WEIGHT_SELFTUNE) PetscCall(PetscSNPrintf(weight, sizeof(weight), " (neighbour %" PetscInt_FMT ")", proc->weight.selftune));
  if (proc->neig_auto) PetscCall(PetscSNPrintf(autobuf, sizeof(autobuf), "automatic count of %" PetscInt_FMT " to ", proc->neig_range[0]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s: affinity %s (%s), weights %s%s, Laplacian L_%s, method %s, %s%" PetscInt_FMT " eigenvectors%s%s\n", proc->prefix, SanetAffinities[proc->affinity], graph, SanetWeights[proc->weight.type], weight, SanetLaplacians[proc->laplacian], proc->method, autobuf, proc->neig, proc->row_normalize ? ", rows normalized" : "", proc->sparse ? method : ""));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcEstimateMemory(SanetProc proc, PetscInt nlocal, PetscReal *bytes)
{
  PetscFunctionBegin;
  *bytes = 0;
  if (proc->ops->estimatememory) PetscCall((*proc->ops->estimatememory)(proc, (PetscReal)nlocal, bytes));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcEstimateWork(SanetProc proc, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *work)
{
  PetscFunctionBegin;
  work->gemm = work->stream = 0;
  if (proc->ops->estimatework) PetscCall((*proc->ops->estimatework)(proc, Nglobal, dim, P, work));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetStats(SanetProc proc, PetscInt *nnz, PetscInt *ncomp, PetscInt *largest, PetscInt *its, PetscReal *maxres)
{
  PetscFunctionBegin;
  *nnz     = proc->nnz;
  *ncomp   = proc->ncomponents;
  *largest = proc->largest;
  *its     = proc->its;
  *maxres  = proc->maxres;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcDestroy(SanetProc *proc)
{
  PetscFunctionBegin;
  if (!*proc) PetscFunctionReturn(0);
  if ((*proc)->ops->destroy) PetscCall((*(*proc)->ops->destroy)(*proc));
  PetscCall(PetscFree((*proc)->data));
  PetscCall(MatDestroy(&(*proc)->graph));
  PetscCall(PetscFree((*proc)->prefix));
  PetscCall(PetscFree(*proc));
  PetscFunctionReturn(0);
}
