#include "sanet.h"
#include <errno.h>
#include <stdlib.h>

const char *const SanetAffinities[]  = {"knn", "eps", "full", "SanetAffinity", "SANET_AFFINITY_", NULL};
const char *const SanetLaplacians[]  = {"sym", "rw", "SanetLaplacian", "SANET_LAPLACIAN_", NULL};
const char *const SanetProcMethods[] = {"krylov", "nystrom", "minibatch", "SanetProcMethod", "SANET_METHOD_", NULL};

struct _p_SanetProc {
  MPI_Comm        comm;
  char           *prefix;
  SanetAffinity   affinity;
  PetscInt        k;         /* kNN: neighbours; eps: candidate neighbours (cap) */
  PetscReal       eps_scale; /* eps = eps_scale * eta */
  SanetWeightSpec weight;
  SanetLaplacian  laplacian;
  SanetProcMethod method;
  PetscInt        neig;      /* with neig_auto: the most candidates, computed once */
  PetscBool       neig_auto; /* the caller picks the count among neig_range from the graph */
  PetscInt        neig_range[2];
  PetscBool       keep_graph; /* keep a copy of W (before normalization) after Apply */
  Mat             graph;
  PetscBool       drop_trivial, row_normalize;
  PetscInt        rounds;    /* most Krylov solves (deflating what was found) */
  PetscReal       progress;  /* seconds between progress lines of a solve (0: none) */
  PetscReal       regularize; /* degrees D + tau I, tau = regularize * mean degree (0: off) */
  /* dense (full) affinities */
  PetscInt        ncols, candidates, batch, mb_steps, scalapack_min;
  SanetLandmarks  landmarks;
  SanetNystromEig nystrom_eig;
  PetscReal       mb_step, mb_tol;
  unsigned long   seed;
  PetscInt        stream;
  /* results of the last Apply, for progress lines and checkpoints */
  PetscInt  nnz, ncomponents, largest, its, capped;
  PetscReal maxres, tol;
};

PetscErrorCode SanetProcCreate(MPI_Comm comm, SanetProc *proc)
{
  PetscFunctionBegin;
  PetscCall(PetscNew(proc));
  (*proc)->comm            = comm;
  (*proc)->affinity        = SANET_AFFINITY_KNN;
  (*proc)->k               = 9;
  (*proc)->eps_scale       = 1;
  (*proc)->weight.type     = SANET_WEIGHT_BINARY;
  (*proc)->weight.sigma    = 0.1;
  (*proc)->weight.selftune = 7;
  (*proc)->laplacian       = SANET_LAPLACIAN_SYM;
  (*proc)->method          = SANET_METHOD_KRYLOV;
  (*proc)->neig            = 16;
  (*proc)->neig_range[0]   = 4;
  (*proc)->neig_range[1]   = 24;
  (*proc)->rounds          = 3;
  (*proc)->progress        = 30;
  (*proc)->candidates      = 59;
  (*proc)->nystrom_eig     = SANET_NYSTROM_EIG_AUTO;
  (*proc)->scalapack_min   = 1024;
  (*proc)->mb_steps        = 100;
  (*proc)->mb_step         = 0.5;
  (*proc)->mb_tol          = 1e-3;
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

static PetscErrorCode KrylovConfigure(SanetProc, EPS, PetscInt);

PetscErrorCode SanetProcSetFromOptions(SanetProc proc)
{
  const char *p = proc->prefix;
  char        neigstr[32];
  PetscInt    nrange = 2;
  PetscBool   neigset, rangeset;

  PetscFunctionBegin;
  PetscCall(SanetOptionsCheckListLength(proc->comm, p, "-neig_range", 2));
  PetscOptionsBegin(proc->comm, p, "Spectral analysis procedure", NULL);
  PetscCall(PetscOptionsEnum("-affinity", "Affinity graph", NULL, SanetAffinities, (PetscEnum)proc->affinity, (PetscEnum *)&proc->affinity, NULL));
  if (proc->affinity == SANET_AFFINITY_EPS) proc->k = 64;
  if (proc->affinity == SANET_AFFINITY_FULL) {
    proc->k           = proc->weight.selftune;
    proc->method      = SANET_METHOD_NYSTROM;
    proc->weight.type = SANET_WEIGHT_SELFTUNE;
  }
  PetscCall(PetscOptionsInt("-k", "kNN: neighbours per vertex; eps: most neighbours kept per vertex", NULL, proc->k, &proc->k, NULL));
  PetscCall(PetscOptionsReal("-eps", "Epsilon as a multiple of eta, the longest minimum-spanning-tree edge", NULL, proc->eps_scale, &proc->eps_scale, NULL));
  PetscCall(PetscOptionsEnum("-weight", "Edge weights", NULL, SanetWeights, (PetscEnum)proc->weight.type, (PetscEnum *)&proc->weight.type, NULL));
  PetscCall(PetscOptionsReal("-sigma", "Gaussian width (patch scale: pixels in [0,1])", NULL, proc->weight.sigma, &proc->weight.sigma, NULL));
  PetscCall(PetscOptionsInt("-selftune_k", "Self-tuning: sigma_i is the distance to this neighbour", NULL, proc->weight.selftune, &proc->weight.selftune, NULL));
  PetscCall(PetscOptionsEnum("-laplacian", "Normalized Laplacian", NULL, SanetLaplacians, (PetscEnum)proc->laplacian, (PetscEnum *)&proc->laplacian, NULL));
  PetscCall(PetscOptionsEnum("-method", "Computing method", NULL, SanetProcMethods, (PetscEnum)proc->method, (PetscEnum *)&proc->method, NULL));
  PetscCall(PetscSNPrintf(neigstr, sizeof(neigstr), "%" PetscInt_FMT, proc->neig));
  PetscCall(PetscOptionsString("-neig", "Eigenvectors (features) per vertex, or auto: the count among -neig_range whose clustering has the highest modularity on this graph", NULL, neigstr, neigstr, sizeof(neigstr), &neigset));
  PetscCall(PetscOptionsIntArray("-neig_range", "With -neig auto: fewest and most eigenvectors tried", NULL, proc->neig_range, &nrange, &rangeset));
  PetscCall(PetscOptionsBool("-drop_trivial", "Drop eigenvectors of eigenvalue 0 (one per connected component)", NULL, proc->drop_trivial, &proc->drop_trivial, NULL));
  PetscCall(PetscOptionsBool("-row_normalize", "Scale each vertex's features to unit length (Ng-Jordan-Weiss)", NULL, proc->row_normalize, &proc->row_normalize, NULL));
  PetscCall(PetscOptionsReal("-regularize", "Degree regularization: normalize by D + tau I with tau = this times the mean degree (0: off); damps eigenvectors localized on small near-disconnected groups", NULL, proc->regularize, &proc->regularize, NULL));
  PetscCall(PetscOptionsInt("-ncols", "Nystrom: landmark columns (at least -neig; default 4 neig)", NULL, proc->ncols, &proc->ncols, NULL));
  PetscCall(PetscOptionsEnum("-landmarks", "Nystrom: landmark selection", NULL, SanetLandmarkTypes, (PetscEnum)proc->landmarks, (PetscEnum *)&proc->landmarks, NULL));
  PetscCall(PetscOptionsInt("-candidates", "Nystrom SMGA: random candidate columns scored per landmark", NULL, proc->candidates, &proc->candidates, NULL));
  PetscCall(PetscOptionsEnum("-nystrom_eigensolver", "Nystrom: solver of the ncols x ncols landmark eigenproblem (lapack: on every rank; scalapack: distributed over the ranks; auto: scalapack from -nystrom_scalapack_min columns on more than one rank)", NULL, SanetNystromEigTypes, (PetscEnum)proc->nystrom_eig, (PetscEnum *)&proc->nystrom_eig, NULL));
  PetscCall(PetscOptionsInt("-nystrom_scalapack_min", "Nystrom, eigensolver auto: fewest landmark columns solved by ScaLAPACK (>= 1)", NULL, proc->scalapack_min, &proc->scalapack_min, NULL));
  PetscCall(PetscOptionsInt("-batch", "Mini-batch: columns per step (default sqrt of the vertex count)", NULL, proc->batch, &proc->batch, NULL));
  PetscCall(PetscOptionsInt("-mb_steps", "Mini-batch: most steps", NULL, proc->mb_steps, &proc->mb_steps, NULL));
  PetscCall(PetscOptionsReal("-mb_step", "Mini-batch: initial step size", NULL, proc->mb_step, &proc->mb_step, NULL));
  PetscCall(PetscOptionsReal("-mb_tol", "Mini-batch: stop when the averaged relative Riemannian gradient is below this", NULL, proc->mb_tol, &proc->mb_tol, NULL));
  PetscCall(PetscOptionsInt("-rounds", "Most eigensolves, each deflating the eigenvectors found so far (repeated eigenvalues)", NULL, proc->rounds, &proc->rounds, NULL));
  PetscCall(PetscOptionsReal("-progress", "Seconds between progress lines of a long eigensolve (0: none)", NULL, proc->progress, &proc->progress, NULL));
  PetscOptionsEnd();
  if (neigset) {
    PetscCall(PetscStrcasecmp(neigstr, "auto", &proc->neig_auto));
    if (!proc->neig_auto) {
      char     *end;
      long long v;
      errno = 0;
      v     = strtoll(neigstr, &end, 10);
      PetscCheck(end != neigstr && !*end && !errno && v >= 1 && v <= PETSC_MAX_INT, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig %s must be auto or an integer >= 1", p ? p : "", neigstr);
      proc->neig = (PetscInt)v;
    }
  }
  PetscCheck(!rangeset || nrange == 2, proc->comm, PETSC_ERR_ARG_WRONG, "-%sneig_range needs two values, fewest and most (got %" PetscInt_FMT ")", p ? p : "", nrange);
  PetscCheck(!rangeset || proc->neig_auto, proc->comm, PETSC_ERR_ARG_INCOMP, "-%sneig_range is for -%sneig auto", p ? p : "", p ? p : "");
  PetscCheck(proc->neig_range[0] >= 1 && proc->neig_range[0] <= proc->neig_range[1], proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig_range %" PetscInt_FMT ",%" PetscInt_FMT " must satisfy 1 <= fewest <= most", p ? p : "", proc->neig_range[0], proc->neig_range[1]);
  if (proc->neig_auto) proc->neig = proc->neig_range[1];
  if (!proc->ncols) proc->ncols = 4 * proc->neig;
  PetscCheck(proc->ncols >= proc->neig, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sncols %" PetscInt_FMT " must be at least -%sneig %" PetscInt_FMT, p ? p : "", proc->ncols, p ? p : "", proc->neig);
  PetscCheck(proc->candidates >= 1 && proc->mb_steps >= 0 && proc->mb_step > 0 && proc->batch >= 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%scandidates %" PetscInt_FMT " and -%smb_step %g must be > 0, -%smb_steps %" PetscInt_FMT " and -%sbatch %" PetscInt_FMT " >= 0", p ? p : "", proc->candidates, p ? p : "", (double)proc->mb_step, p ? p : "", proc->mb_steps, p ? p : "", proc->batch);
  PetscCheck((proc->affinity == SANET_AFFINITY_FULL) == (proc->method != SANET_METHOD_KRYLOV), proc->comm, PETSC_ERR_ARG_INCOMP, "-%saffinity %s needs -%smethod %s", p ? p : "", SanetAffinities[proc->affinity], p ? p : "", proc->affinity == SANET_AFFINITY_FULL ? "nystrom or minibatch (a full graph is never formed)" : "krylov");
  PetscCheck(proc->affinity != SANET_AFFINITY_FULL || proc->weight.type != SANET_WEIGHT_BINARY, proc->comm, PETSC_ERR_ARG_INCOMP, "-%saffinity full needs -%sweight gaussian or selftune", p ? p : "", p ? p : "");
  PetscCheck(proc->scalapack_min >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%snystrom_scalapack_min %" PetscInt_FMT " must be >= 1", p ? p : "", proc->scalapack_min);
  PetscCheck(proc->rounds >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%srounds %" PetscInt_FMT " must be >= 1", p ? p : "", proc->rounds);
  PetscCheck(proc->progress >= 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sprogress %g must be >= 0", p ? p : "", (double)proc->progress);
  PetscCheck(proc->k >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sk %" PetscInt_FMT " must be >= 1", p ? p : "", proc->k);
  PetscCheck(proc->neig >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig %" PetscInt_FMT " must be >= 1", p ? p : "", proc->neig);
  PetscCheck(proc->regularize >= 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sregularize %g must be >= 0", p ? p : "", (double)proc->regularize);
  PetscCheck(proc->eps_scale > 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%seps %g must be > 0", p ? p : "", (double)proc->eps_scale);
  PetscCheck(proc->weight.sigma > 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%ssigma %g must be > 0", p ? p : "", (double)proc->weight.sigma);
  PetscCheck(proc->weight.type != SANET_WEIGHT_SELFTUNE || (proc->weight.selftune >= 1 && proc->weight.selftune <= proc->k), proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sselftune_k %" PetscInt_FMT " must be in [1, k=%" PetscInt_FMT "]", p ? p : "", proc->weight.selftune, proc->k);
  if (proc->method == SANET_METHOD_KRYLOV) {
    PetscBool nev;
    EPS       eps;
    PetscCall(PetscOptionsHasName(NULL, p, "-eps_nev", &nev));
    PetscCheck(!nev, proc->comm, PETSC_ERR_ARG_WRONG, "-%seps_nev is not read: the eigenvector count is -%sneig", p ? p : "", p ? p : "");
    /* the solver reads its own options at every solve; reading them here as well makes a
       bad one fail before any work */
    PetscErrorCode ierr;
    PetscCall(EPSCreate(proc->comm, &eps));
    ierr = KrylovConfigure(proc, eps, proc->neig);
    PetscCall(EPSDestroy(&eps));
    if (ierr) return PetscError(proc->comm, __LINE__, PETSC_FUNCTION_NAME, __FILE__, ierr, PETSC_ERROR_INITIAL, "Procedure %s: an eigensolver option (-%seps_*, -%sst_*) is invalid: %s", p ? p : "", p ? p : "", p ? p : "", SanetErrorGetMessage());
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetNeighborNeeds(SanetProc proc, PetscInt *k, PetscBool *eta)
{
  PetscFunctionBegin;
  if (k) *k = proc->k;
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
  *flg = (PetscBool)(proc->affinity != SANET_AFFINITY_FULL);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcGetGraph(SanetProc proc, Mat *W)
{
  PetscFunctionBegin;
  *W = proc->graph;
  PetscFunctionReturn(0);
}

typedef struct {
  PetscReal lambda, res;
  Vec       x;
  PetscInt  rank; /* ties of lambda: components' vectors in their order, then the solver's */
} EigenPair;

static int EigenPairCompare(const void *a, const void *b)
{
  const EigenPair *x = (const EigenPair *)a, *y = (const EigenPair *)b;
  if (x->lambda != y->lambda) return x->lambda > y->lambda ? -1 : 1;
  return x->rank < y->rank ? -1 : (x->rank > y->rank);
}

/* Without degree regularization every connected component with an edge adds the
   eigenvalue 1 of S, with eigenvector D^1/2 1_C. A Krylov solver returns an arbitrary
   basis of that repeated eigenvalue, which moves with rounding and the rank count; these
   vectors are set explicitly instead, one per component in the order of
   SanetGraphComponentOrder (largest first), at most nwant of them. */
static PetscErrorCode ComponentVectors(SanetProc proc, Mat S, Vec dinv, PetscInt nwant, EigenPair pairs[], PetscInt *npairs)
{
  PetscInt          *order, nlocal, nedged = 0, ncomp;
  const PetscScalar *d;

  PetscFunctionBegin;
  PetscCall(MatGetLocalSize(S, &nlocal, NULL));
  PetscCall(PetscMalloc1(nlocal + 1, &order));
  PetscCall(SanetGraphComponentOrder(S, &ncomp, order));
  PetscCall(VecGetArrayRead(dinv, &d));
  /* components of isolated vertices (degree 0) give S the eigenvalue 0, not 1 */
  for (PetscInt i = 0; i < nlocal; i++)
    if (PetscRealPart(d[i]) > 0) nedged = PetscMax(nedged, order[i] + 1);
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &nedged, 1, MPIU_INT, MPI_MAX, proc->comm));
  *npairs = PetscMin(nedged, nwant);
  for (PetscInt c = 0; c < *npairs; c++) {
    PetscScalar *x;
    PetscCall(MatCreateVecs(S, &pairs[c].x, NULL));
    PetscCall(VecGetArray(pairs[c].x, &x));
    for (PetscInt i = 0; i < nlocal; i++) x[i] = order[i] == c && PetscRealPart(d[i]) > 0 ? 1 / PetscRealPart(d[i]) : 0; /* d = D^-1/2 */
    PetscCall(VecRestoreArray(pairs[c].x, &x));
    PetscCall(VecNormalize(pairs[c].x, NULL));
    pairs[c].lambda = 1;
    pairs[c].res    = 0;
    pairs[c].rank   = c;
  }
  PetscCall(VecRestoreArrayRead(dinv, &d));
  PetscCall(PetscFree(order));
  if (*npairs > 1) PetscCall(PetscPrintf(proc->comm, "  procedure %s: the graph has %" PetscInt_FMT " components with edges; the eigenvalue 1 repeats %" PetscInt_FMT " times, so its eigenvectors are the components' own (D^1/2 times the indicator, largest component first)%s\n", proc->prefix, nedged, nedged, nedged > nwant ? ", as many as wanted" : ""));
  PetscFunctionReturn(0);
}

/* The settings of every solve, then the user's -<prefix>eps_* options. */
static PetscErrorCode KrylovConfigure(SanetProc proc, EPS eps, PetscInt nwant)
{
  PetscFunctionBegin;
  PetscCall(EPSSetOptionsPrefix(eps, proc->prefix));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
  PetscCall(EPSSetDimensions(eps, nwant, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, 1e-6, 1000));
  PetscCall(EPSSetFromOptions(eps));
  PetscFunctionReturn(0);
}

typedef struct {
  const char    *prefix;
  PetscInt       nwant, maxit;
  PetscReal      interval;
  PetscMPIInt    rank;
  PetscLogDouble start, last;
} SolveProgress;

/* A line every interval seconds of a long solve: restarts, converged pairs, time, and a
   time left from the rate at which pairs converge so far. */
static PetscErrorCode ProgressMonitor(EPS eps, PetscInt its, PetscInt nconv, PetscScalar *eigr, PetscScalar *eigi, PetscReal *errest, PetscInt nest, void *ctx)
{
  SolveProgress *sp = (SolveProgress *)ctx;
  PetscLogDouble now;

  PetscFunctionBegin;
  if (sp->rank || sp->interval <= 0) PetscFunctionReturn(0);
  PetscCall(PetscTime(&now));
  if (now - sp->last < sp->interval) PetscFunctionReturn(0);
  sp->last = now;
  nconv    = PetscMin(nconv, sp->nwant);
  if (nconv > 0) PetscCall(PetscPrintf(PETSC_COMM_SELF, "  %s: eigensolver restart %" PetscInt_FMT " (at most %" PetscInt_FMT "), %" PetscInt_FMT " of %" PetscInt_FMT " eigenpairs converged after %.0f s, about %.0f s left\n", sp->prefix, its, sp->maxit, nconv, sp->nwant, now - sp->start, (now - sp->start) * (sp->nwant - nconv) / nconv));
  else PetscCall(PetscPrintf(PETSC_COMM_SELF, "  %s: eigensolver restart %" PetscInt_FMT " (at most %" PetscInt_FMT "), none of %" PetscInt_FMT " eigenpairs converged yet after %.0f s\n", sp->prefix, its, sp->maxit, sp->nwant, now - sp->start));
  PetscFunctionReturn(0);
}

/* One Krylov-Schur solve for the nwant largest eigenpairs of S orthogonal to defl. */
static PetscErrorCode KrylovSolveOnce(SanetProc proc, Mat S, Vec v0, PetscInt nwant, PetscInt ndefl, Vec defl[], EigenPair pairs[], PetscInt *npairs)
{
  EPS           eps;
  PetscInt      nconv, its, maxit;
  PetscReal     tol;
  SolveProgress sp;

  PetscFunctionBegin;
  PetscCall(EPSCreate(proc->comm, &eps));
  PetscCall(EPSSetOperators(eps, S, NULL));
  PetscCall(KrylovConfigure(proc, eps, nwant));
  {
    PetscReal t;
    PetscCall(EPSGetTolerances(eps, &t, &sp.maxit));
  }
  sp.prefix   = proc->prefix;
  sp.nwant    = nwant;
  sp.interval = proc->progress;
  PetscCallMPI(MPI_Comm_rank(proc->comm, &sp.rank));
  PetscCall(PetscTime(&sp.start));
  sp.last = sp.start;
  PetscCall(EPSMonitorSet(eps, ProgressMonitor, &sp, NULL));
  if (ndefl) PetscCall(EPSSetDeflationSpace(eps, ndefl, defl));
  PetscCall(EPSSetInitialSpace(eps, 1, &v0));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, &nconv));
  PetscCall(EPSGetIterationNumber(eps, &its));
  PetscCall(EPSGetTolerances(eps, &tol, &maxit));
  proc->its += its;
  proc->tol = tol;
  {
    PetscInt N;
    PetscCall(MatGetSize(S, &N, NULL));
    /* a small graph limits the Krylov space: more iterations do not help there */
    PetscCheck(nconv >= nwant || 4 * nwant < N, proc->comm, PETSC_ERR_NOT_CONVERGED, "Procedure %s: eigensolver converged %" PetscInt_FMT " of %" PetscInt_FMT " eigenpairs of a graph of only %" PetscInt_FMT " vertices; lower -%sneig or give more images", proc->prefix, nconv, nwant, N, proc->prefix);
  }
  PetscCheck(nconv >= nwant, proc->comm, PETSC_ERR_NOT_CONVERGED, "Procedure %s: eigensolver converged %" PetscInt_FMT " of %" PetscInt_FMT " eigenpairs in %" PetscInt_FMT " iterations (tol %g); raise -%seps_max_it or -%seps_ncv, or loosen -%seps_tol", proc->prefix, nconv, nwant, its, (double)tol, proc->prefix, proc->prefix, proc->prefix);
  for (PetscInt j = 0; j < nwant; j++) {
    PetscScalar lambda;
    PetscCall(MatCreateVecs(S, &pairs[j].x, NULL));
    PetscCall(EPSGetEigenpair(eps, j, &lambda, NULL, pairs[j].x, NULL));
    PetscCall(EPSComputeError(eps, j, EPS_ERROR_RELATIVE, &pairs[j].res));
    pairs[j].lambda = PetscRealPart(lambda);
  }
  *npairs = nwant;
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(0);
}

/* Writes feature column col from an eigenvector u of S (entry i at u[i*stride]): L_rw
   features are D^-1/2 u; the sign is fixed so that the third moment is positive, since
   binarization is not sign-invariant (a rule that does not depend on the rank count). */
static PetscErrorCode EmitFeature(SanetProc proc, PetscInt nlocal, const PetscScalar *u, PetscInt stride, const PetscScalar *dinv, PetscInt col, PetscReal *features)
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

/* Eigenvectors of S = D^-1/2 W D^-1/2 with the largest eigenvalues are those of L_sym
   with the smallest (L = I - S); L_rw's are D^-1/2 times them. A Krylov space from one
   start vector sees one direction of a repeated eigenvalue (a disconnected graph repeats
   1 once per component), so the solve is repeated with what was found deflated until
   no new eigenpair enters the wanted set. */
static PetscErrorCode ProcSolveKrylov(SanetProc proc, const SanetProcInput *in, Mat W, PetscReal *features, PetscReal *eigval)
{
  Vec        dinv, v0, *defl;
  PetscInt   nwant = proc->neig, nskip = 0, nkept = 0;
  EigenPair *pairs;

  PetscFunctionBegin;
  PetscCall(MatCreateVecs(W, &dinv, &v0));
  PetscCall(MatGetRowSum(W, dinv));
  {
    PetscScalar *d, dsum = 0;
    PetscReal    tau = 0, wsum;
    /* Regularized normalization (Qin & Rohe): D + tau I with tau a multiple of the mean
       degree; vertices of small degree no longer dominate the leading eigenvectors. */
    if (proc->regularize > 0) {
      PetscCall(VecSum(dinv, &dsum));
      tau = proc->regularize * PetscRealPart(dsum) / in->Nglobal;
    }
    PetscCall(VecNorm(dinv, NORM_1, &wsum));
    PetscCheck(wsum > 0, proc->comm, PETSC_ERR_FP, "Procedure %s: every edge weight of its graph is 0 (%s%g underflows for the patch distances, or all patches are identical and the weights are 0); raise -%ssigma or use -%sweight binary or selftune", proc->prefix, proc->weight.type == SANET_WEIGHT_GAUSSIAN ? "sigma " : "weight scale ", (double)proc->weight.sigma, proc->prefix, proc->prefix);
    PetscCall(VecGetArray(dinv, &d));
    for (PetscInt i = 0; i < in->nlocal; i++) d[i] = PetscRealPart(d[i]) + tau > 0 ? 1 / PetscSqrtReal(PetscRealPart(d[i]) + tau) : 0;
    PetscCall(VecRestoreArray(dinv, &d));
  }
  PetscCall(MatDiagonalScale(W, dinv, dinv));
  if (proc->drop_trivial) nwant += proc->ncomponents;
  PetscCheck(nwant < in->Nglobal, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig %" PetscInt_FMT " needs more graph vertices than the %" PetscInt_FMT " there are", proc->prefix, proc->neig, in->Nglobal);
  /* A start vector from the seed and the global vertex index: independent of ranks. */
  {
    PetscScalar *a;
    PetscCall(VecGetArray(v0, &a));
    for (PetscInt i = 0; i < in->nlocal; i++) a[i] = SanetRandUniform(proc->seed, 1000 + proc->stream, in->rstart + i) - 0.5;
    PetscCall(VecRestoreArray(v0, &a));
  }
  PetscCall(PetscMalloc2(2 * nwant, &pairs, nwant, &defl));
  proc->its = 0;
  if (proc->regularize == 0 && proc->ncomponents > 1) PetscCall(ComponentVectors(proc, W, dinv, nwant, pairs, &nkept));
  for (PetscInt round = 0; round < proc->rounds && !(round == 0 && nkept == nwant); round++) {
    PetscInt nnew = 0, entered = 0;
    for (PetscInt j = 0; j < nkept; j++) defl[j] = pairs[j].x;
    /* the first round finds what the component vectors leave; later ones look again */
    PetscCall(KrylovSolveOnce(proc, W, v0, round ? nwant : nwant - nkept, nkept, defl, pairs + nkept, &nnew));
    for (PetscInt j = nkept; j < nkept + nnew; j++) {
      pairs[j].res  = -1 - pairs[j].res; /* mark as new */
      pairs[j].rank = nwant + j;
    }
    qsort(pairs, nkept + nnew, sizeof(EigenPair), EigenPairCompare);
    for (PetscInt j = 0; j < nkept + nnew; j++) {
      if (pairs[j].res < 0) {
        if (j < nwant) entered++;
        pairs[j].res = -1 - pairs[j].res;
      }
      if (j >= nwant) PetscCall(VecDestroy(&pairs[j].x));
    }
    nkept = nwant;
    if (round > 0 && !entered) break;
  }
  proc->maxres = 0;
  for (PetscInt j = 0, col = 0; j < nwant; j++) {
    const PetscScalar *u, *d;
    if (col == proc->neig || (proc->drop_trivial && nskip < proc->ncomponents && pairs[j].lambda > 1 - 1e-8)) {
      nskip++;
      PetscCall(VecDestroy(&pairs[j].x));
      continue;
    }
    proc->maxres = PetscMax(proc->maxres, pairs[j].res);
    PetscCall(VecGetArrayRead(pairs[j].x, &u));
    PetscCall(VecGetArrayRead(dinv, &d));
    PetscCall(EmitFeature(proc, in->nlocal, u, 1, d, col, features));
    PetscCall(VecRestoreArrayRead(dinv, &d));
    PetscCall(VecRestoreArrayRead(pairs[j].x, &u));
    eigval[col++] = 1 - pairs[j].lambda;
    PetscCall(VecDestroy(&pairs[j].x));
  }
  /* EPS converged on its own criterion; a vector far off its eigenvalue is not an
     eigenvector, and features made of it would be noise */
  PetscCheck(proc->maxres <= 100 * proc->tol, proc->comm, PETSC_ERR_NOT_CONVERGED, "Procedure %s: an eigenvector has residual %.3g, over 100 times the tolerance %g; its graph (%" PetscInt_FMT " vertices, %" PetscInt_FMT " nonzeros, %" PetscInt_FMT " components) is degenerate: are the patches empty or identical?", proc->prefix, (double)proc->maxres, (double)proc->tol, in->Nglobal, proc->nnz, proc->ncomponents);
  PetscCall(PetscFree2(pairs, defl));
  PetscCall(VecDestroy(&v0));
  PetscCall(VecDestroy(&dinv));
  PetscFunctionReturn(0);
}

/* Fully connected Gaussian affinity, never formed: Nystrom, optionally refined by
   mini-batch ascent. Self-tuning scales come from the layer's neighbour lists. */
static PetscErrorCode ProcSolveDense(SanetProc proc, const SanetProcInput *in, PetscReal *features, PetscReal *eigval)
{
  SanetNystromSpec ny;
  PetscReal       *U, *lambda, *dinv, *sigma = NULL, bytes, gbytes;
  PetscInt         ncols = PetscMin(proc->ncols, in->Nglobal);

  PetscFunctionBegin;
  PetscCheck(proc->neig <= ncols, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig %" PetscInt_FMT " needs more graph vertices than the %" PetscInt_FMT " there are", proc->prefix, proc->neig, in->Nglobal);
  /* the factor G (N x ncols) and the candidate kernel blocks dominate */
  bytes = (PetscReal)in->nlocal * (ncols + 2.0 * proc->candidates + proc->neig) * sizeof(PetscReal);
  PetscCallMPI(MPI_Allreduce(&bytes, &gbytes, 1, MPIU_REAL, MPI_MAX, proc->comm));
  PetscCheck(gbytes <= in->budget_mb * 1048576.0, proc->comm, PETSC_ERR_MEM, "Procedure %s: Nystrom factors may need %.0f MB on one rank, past the budget of %.0f MB; lower -%sncols, use more ranks, or raise the layer's -graph_budget_mb", proc->prefix, gbytes / 1048576.0, (double)in->budget_mb, proc->prefix);
  PetscCall(PetscMalloc3((size_t)in->nlocal * proc->neig + 1, &U, proc->neig, &lambda, in->nlocal + 1, &dinv));
  if (proc->weight.type == SANET_WEIGHT_SELFTUNE) {
    /* duplicated points have sigma 0: floor at 1e-3 of the mean, as for sparse graphs */
    PetscReal sum = 0, gsum;
    PetscCall(PetscMalloc1(in->nlocal + 1, &sigma));
    for (PetscInt i = 0; i < in->nlocal; i++) sum += (sigma[i] = PetscSqrtReal(in->d2[i * in->kstride + proc->weight.selftune - 1]));
    PetscCallMPI(MPI_Allreduce(&sum, &gsum, 1, MPIU_REAL, MPI_SUM, proc->comm));
    for (PetscInt i = 0; i < in->nlocal; i++) sigma[i] = PetscMax(sigma[i], gsum > 0 ? 1e-3 * gsum / in->Nglobal : 1);
  }
  ny.ncols      = ncols;
  ny.candidates = proc->candidates;
  ny.select     = proc->landmarks;
  ny.weight     = proc->weight;
  ny.seed       = proc->seed;
  ny.stream     = proc->stream;
  /* the landmark eigenproblem */
  ny.eig           = proc->nystrom_eig;
  ny.scalapack_min = proc->scalapack_min;
  PetscCall(SanetNystrom(proc->comm, in->nlocal, in->rstart, in->dim, in->X, sigma, &ny, proc->neig, U, lambda, dinv));
  proc->its = 0;
  if (proc->method == SANET_METHOD_MINIBATCH) {
    SanetMiniBatchSpec mb;
    mb.batch     = proc->batch ? proc->batch : (PetscInt)PetscCeilReal(PetscSqrtReal((PetscReal)in->Nglobal));
    mb.max_steps = proc->mb_steps;
    mb.step      = proc->mb_step;
    mb.tol       = proc->mb_tol;
    mb.weight    = proc->weight;
    mb.seed      = proc->seed;
    mb.stream    = proc->stream;
    PetscCall(SanetMiniBatch(proc->comm, in->nlocal, in->rstart, in->dim, in->X, sigma, dinv, &mb, proc->neig, U, &proc->its));
  }
  proc->maxres = 0;
  for (PetscInt j = 0; j < proc->neig; j++) {
    PetscCall(EmitFeature(proc, in->nlocal, U + j, proc->neig, dinv, j, features));
    eigval[j] = 1 - lambda[j];
  }
  PetscCall(PetscFree(sigma));
  PetscCall(PetscFree3(U, lambda, dinv));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcApply(SanetProc proc, const SanetProcInput *in, PetscReal *features, PetscReal *eigval)
{
  Mat       W;
  PetscReal d2max = PETSC_MAX_REAL, bytes, gbytes;
  MatInfo   info;

  PetscFunctionBegin;
  PetscCheck(proc->k <= in->kstride, proc->comm, PETSC_ERR_PLIB, "Procedure %s wants %" PetscInt_FMT " neighbours, layer computed %" PetscInt_FMT, proc->prefix, proc->k, in->kstride);
  if (proc->affinity == SANET_AFFINITY_FULL) {
    proc->nnz = proc->ncomponents = proc->largest = 0;
    PetscCall(ProcSolveDense(proc, in, features, eigval));
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
  PetscCall(ProcSolveKrylov(proc, in, W, features, eigval));
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
  char graph[128] = "", weight[64] = "", reg[64] = "", epsbuf[32], autobuf[64] = "";

  PetscFunctionBegin;
  /* plain snprintf for %g: PETSc's printf appends a '.' to whole numbers ("1.") */
  snprintf(epsbuf, sizeof(epsbuf), "%g", (double)proc->eps_scale);
  if (proc->affinity == SANET_AFFINITY_EPS) PetscCall(PetscSNPrintf(graph, sizeof(graph), "eps %s eta, at most %" PetscInt_FMT " neighbours", epsbuf, proc->k));
  else if (proc->affinity == SANET_AFFINITY_FULL && proc->landmarks == SANET_LANDMARKS_SMGA) PetscCall(PetscSNPrintf(graph, sizeof(graph), "never formed; %" PetscInt_FMT " SMGA columns of %" PetscInt_FMT " candidates", proc->ncols, proc->candidates));
  else if (proc->affinity == SANET_AFFINITY_FULL) PetscCall(PetscSNPrintf(graph, sizeof(graph), "never formed; %" PetscInt_FMT " uniform columns", proc->ncols));
  else PetscCall(PetscSNPrintf(graph, sizeof(graph), "k %" PetscInt_FMT, proc->k));
  if (proc->weight.type == SANET_WEIGHT_GAUSSIAN) snprintf(weight, sizeof(weight), " (sigma %g)", (double)proc->weight.sigma);
  if (proc->weight.type == SANET_WEIGHT_SELFTUNE) PetscCall(PetscSNPrintf(weight, sizeof(weight), " (neighbour %" PetscInt_FMT ")", proc->weight.selftune));
  if (proc->neig_auto) PetscCall(PetscSNPrintf(autobuf, sizeof(autobuf), "automatic count of %" PetscInt_FMT " to ", proc->neig_range[0]));
  if (proc->regularize > 0) snprintf(reg, sizeof(reg), ", degrees + %g x mean", (double)proc->regularize);
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s: affinity %s (%s), weights %s%s, Laplacian L_%s, method %s, %s%" PetscInt_FMT " eigenvectors%s%s%s\n", proc->prefix, SanetAffinities[proc->affinity], graph, SanetWeights[proc->weight.type], weight, SanetLaplacians[proc->laplacian], SanetProcMethods[proc->method], autobuf, proc->neig, proc->drop_trivial ? ", trivial dropped" : "", proc->row_normalize ? ", rows normalized" : "", reg));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcEstimateMemory(SanetProc proc, PetscInt nlocal, PetscReal *bytes)
{
  const PetscReal n = (PetscReal)nlocal;

  PetscFunctionBegin;
  if (proc->affinity == SANET_AFFINITY_FULL) *bytes = n * (proc->ncols + 2.0 * proc->candidates + 2.0 * proc->neig + 2) * sizeof(PetscReal);
  else {
    const PetscReal nwant = proc->neig + (proc->drop_trivial ? 16 : 0);
    /* edge lists while symmetrizing (24 B per edge, both directions), the AIJ matrix
       (12 B per entry), the Krylov basis (SLEPc's default ncv) and kept eigenvectors */
    *bytes = n * (2.0 * proc->k * (2 * 24 + 12) + (PetscMax(2 * nwant, nwant + 15) + 2 * nwant + 4) * sizeof(PetscReal));
  }
  PetscFunctionReturn(0);
}

/* Krylov-Schur restarts assumed per solve: sanet's graphs have taken 18 to 66 */
#define WORK_KRYLOV_RESTARTS 50

PetscErrorCode SanetProcEstimateWork(SanetProc proc, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *work)
{
  const PetscReal n = PetscCeilReal(Nglobal / P);

  PetscFunctionBegin;
  if (proc->affinity == SANET_AFFINITY_FULL) {
    const PetscReal l = PetscMin(proc->ncols, Nglobal), nc = proc->landmarks == SANET_LANDMARKS_SMGA ? proc->candidates : 4, q = proc->neig;
    /* per landmark: the candidates' kernel columns (GEMM and an exp per entry) and their
       residual against the landmarks so far; then H^T H, its eigenproblem and U = H V */
    work->gemm   = l * 2 * n * nc * dim + n * nc * l * l + 2 * n * l * l + 10 * l * l * l + 2 * n * l * q;
    work->stream = 20 * l * n * nc;
    if (proc->method == SANET_METHOD_MINIBATCH) {
      const PetscReal b = proc->batch ? proc->batch : PetscCeilReal(PetscSqrtReal(Nglobal));
      /* every step (at most mb_steps): a kernel block of b columns, the gradient and a
         re-orthonormalization */
      work->gemm += proc->mb_steps * (2 * n * b * (dim + q) + 4 * n * q * q);
      work->stream += proc->mb_steps * 20 * n * b;
    }
  } else {
    const PetscReal nwant = proc->neig + (proc->drop_trivial ? 16 : 0), ncv = PetscMax(2 * nwant, nwant + 15);
    /* the symmetrized graph holds between k and 2k entries a row */
    const PetscReal nnz_local = 1.5 * proc->k * n, products = WORK_KRYLOV_RESTARTS * ncv / 2;
    /* each product: the sparse multiply and a Gram-Schmidt sweep over the basis; each
       restart: the basis times a small matrix; building the graph: sorting edge lists */
    work->stream = products * (3 * nnz_local + 4 * n * ncv) + 40 * n * proc->k;
    work->gemm   = WORK_KRYLOV_RESTARTS * 2 * n * ncv * ncv;
  }
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
  PetscCall(MatDestroy(&(*proc)->graph));
  PetscCall(PetscFree((*proc)->prefix));
  PetscCall(PetscFree(*proc));
  PetscFunctionReturn(0);
}
