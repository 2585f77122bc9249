#include "sanet/private/procimpl.h"
#include <stdlib.h>

/* krylov: the leading eigenvectors of S = D^-1/2 W D^-1/2 of a formed sparse affinity (kNN
   or eps) by SLEPc's Krylov-Schur, with what a disconnected graph needs done explicitly. */

typedef struct {
  PetscBool drop_trivial;
  PetscInt  rounds;     /* most Krylov solves (deflating what was found) */
  PetscReal progress;   /* seconds between progress lines of a solve (0: none) */
  PetscReal regularize; /* degrees D + tau I, tau = regularize * mean degree (0: off) */
} SanetProc_Krylov;

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
  SanetProc_Krylov *kr = (SanetProc_Krylov *)proc->data;
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
  sp.interval = kr->progress;
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

/* Eigenvectors of S = D^-1/2 W D^-1/2 with the largest eigenvalues are those of L_sym
   with the smallest (L = I - S); L_rw's are D^-1/2 times them. A Krylov space from one
   start vector sees one direction of a repeated eigenvalue (a disconnected graph repeats
   1 once per component), so the solve is repeated with what was found deflated until
   no new eigenpair enters the wanted set. */
static PetscErrorCode SanetProcSolve_Krylov(SanetProc proc, const SanetProcInput *in, Mat W, PetscReal *features, PetscReal *eigval)
{
  SanetProc_Krylov *kr = (SanetProc_Krylov *)proc->data;
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
    if (kr->regularize > 0) {
      PetscCall(VecSum(dinv, &dsum));
      tau = kr->regularize * PetscRealPart(dsum) / in->Nglobal;
    }
    PetscCall(VecNorm(dinv, NORM_1, &wsum));
    PetscCheck(wsum > 0, proc->comm, PETSC_ERR_FP, "Procedure %s: every edge weight of its graph is 0 (%s%g underflows for the patch distances, or all patches are identical and the weights are 0); raise -%ssigma or use -%sweight binary or selftune", proc->prefix, proc->weight.type == SANET_WEIGHT_GAUSSIAN ? "sigma " : "weight scale ", (double)proc->weight.sigma, proc->prefix, proc->prefix);
    PetscCall(VecGetArray(dinv, &d));
    for (PetscInt i = 0; i < in->nlocal; i++) d[i] = PetscRealPart(d[i]) + tau > 0 ? 1 / PetscSqrtReal(PetscRealPart(d[i]) + tau) : 0;
    PetscCall(VecRestoreArray(dinv, &d));
  }
  PetscCall(MatDiagonalScale(W, dinv, dinv));
  if (kr->drop_trivial) nwant += proc->ncomponents;
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
  if (kr->regularize == 0 && proc->ncomponents > 1) PetscCall(ComponentVectors(proc, W, dinv, nwant, pairs, &nkept));
  for (PetscInt round = 0; round < kr->rounds && !(round == 0 && nkept == nwant); round++) {
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
    if (col == proc->neig || (kr->drop_trivial && nskip < proc->ncomponents && pairs[j].lambda > 1 - 1e-8)) {
      nskip++;
      PetscCall(VecDestroy(&pairs[j].x));
      continue;
    }
    proc->maxres = PetscMax(proc->maxres, pairs[j].res);
    PetscCall(VecGetArrayRead(pairs[j].x, &u));
    PetscCall(VecGetArrayRead(dinv, &d));
    PetscCall(SanetProcEmitFeature(proc, in->nlocal, u, 1, d, col, features));
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

static PetscErrorCode SanetProcSetFromOptions_Krylov(SanetProc proc, PetscOptionItems *PetscOptionsObject)
{
  SanetProc_Krylov *kr = (SanetProc_Krylov *)proc->data;

  PetscFunctionBegin;
  PetscCall(PetscOptionsBool("-drop_trivial", "Drop eigenvectors of eigenvalue 0 (one per connected component)", NULL, kr->drop_trivial, &kr->drop_trivial, NULL));
  PetscCall(PetscOptionsReal("-regularize", "Degree regularization: normalize by D + tau I with tau = this times the mean degree (0: off); damps eigenvectors localized on small near-disconnected groups", NULL, kr->regularize, &kr->regularize, NULL));
  PetscCall(PetscOptionsInt("-rounds", "Most eigensolves, each deflating the eigenvectors found so far (repeated eigenvalues)", NULL, kr->rounds, &kr->rounds, NULL));
  PetscCall(PetscOptionsReal("-progress", "Seconds between progress lines of a long eigensolve (0: none)", NULL, kr->progress, &kr->progress, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcSetUp_Krylov(SanetProc proc)
{
  SanetProc_Krylov *kr = (SanetProc_Krylov *)proc->data;
  const char       *p  = proc->prefix ? proc->prefix : "";
  PetscBool         nev;
  EPS               eps;
  PetscErrorCode    ierr;

  PetscFunctionBegin;
  PetscCheck(kr->rounds >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%srounds %" PetscInt_FMT " must be >= 1", p, kr->rounds);
  PetscCheck(kr->progress >= 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sprogress %g must be >= 0", p, (double)kr->progress);
  PetscCheck(kr->regularize >= 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sregularize %g must be >= 0", p, (double)kr->regularize);
  PetscCall(PetscOptionsHasName(NULL, p, "-eps_nev", &nev));
  PetscCheck(!nev, proc->comm, PETSC_ERR_ARG_WRONG, "-%seps_nev is not read: the eigenvector count is -%sneig", p, p);
  /* the solver reads its own options at every solve; reading them here as well makes a
     bad one fail before any work */
  PetscCall(EPSCreate(proc->comm, &eps));
  ierr = KrylovConfigure(proc, eps, proc->neig);
  PetscCall(EPSDestroy(&eps));
  if (ierr) return PetscError(proc->comm, __LINE__, PETSC_FUNCTION_NAME, __FILE__, ierr, PETSC_ERROR_INITIAL, "Procedure %s: an eigensolver option (-%seps_*, -%sst_*) is invalid: %s", p, p, p, SanetErrorGetMessage());
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcGetNumComputed_Krylov(SanetProc proc, PetscInt *n)
{
  PetscFunctionBegin;
  /* dropped trivial vectors: one per component, 16 assumed for the estimates */
  *n = proc->neig + (((SanetProc_Krylov *)proc->data)->drop_trivial ? 16 : 0);
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcEstimateMemory_Krylov(SanetProc proc, PetscReal n, PetscReal *bytes)
{
  PetscInt nwant;

  PetscFunctionBegin;
  PetscCall(SanetProcGetNumComputed_Krylov(proc, &nwant));
  /* edge lists while symmetrizing (24 B per edge, both directions), the AIJ matrix
     (12 B per entry), the Krylov basis (SLEPc's default ncv) and kept eigenvectors */
  *bytes = n * (2.0 * proc->k * (2 * 24 + 12) + (PetscMax(2 * nwant, nwant + 15) + 2 * nwant + 4) * sizeof(PetscReal));
  PetscFunctionReturn(0);
}

/* Krylov-Schur restarts assumed per solve: sanet's graphs have taken 18 to 66 */
#define WORK_KRYLOV_RESTARTS 50

static PetscErrorCode SanetProcEstimateWork_Krylov(SanetProc proc, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *work)
{
  const PetscReal n = PetscCeilReal(Nglobal / P);
  PetscInt        nwant;
  PetscReal       ncv, nnz_local, products;

  PetscFunctionBegin;
  PetscCall(SanetProcGetNumComputed_Krylov(proc, &nwant));
  ncv = PetscMax(2 * nwant, nwant + 15);
  /* the symmetrized graph holds between k and 2k entries a row */
  nnz_local = 1.5 * proc->k * n;
  products  = WORK_KRYLOV_RESTARTS * ncv / 2;
  /* each product: the sparse multiply and a Gram-Schmidt sweep over the basis; each
     restart: the basis times a small matrix; building the graph: sorting edge lists */
  work->stream = products * (3 * nnz_local + 4 * n * ncv) + 40 * n * proc->k;
  work->gemm   = WORK_KRYLOV_RESTARTS * 2 * n * ncv * ncv;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcDescribe_Krylov(SanetProc proc, size_t len, char buf[])
{
  SanetProc_Krylov *kr = (SanetProc_Krylov *)proc->data;
  char              reg[64] = "";

  PetscFunctionBegin;
  /* plain snprintf for %g: PETSc's printf appends a '.' to whole numbers ("1.") */
  if (kr->regularize > 0) snprintf(reg, sizeof(reg), ", degrees + %g x mean", (double)kr->regularize);
  PetscCall(PetscSNPrintf(buf, len, "%s%s", kr->drop_trivial ? ", trivial dropped" : "", reg));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcCreate_Krylov(SanetProc proc)
{
  SanetProc_Krylov *kr;

  PetscFunctionBegin;
  PetscCall(PetscNew(&kr));
  kr->rounds                = 3;
  kr->progress              = 30;
  proc->data                = kr;
  proc->sparse              = PETSC_TRUE;
  proc->ops->setfromoptions = SanetProcSetFromOptions_Krylov;
  proc->ops->setup          = SanetProcSetUp_Krylov;
  proc->ops->solve          = SanetProcSolve_Krylov;
  proc->ops->getnumcomputed = SanetProcGetNumComputed_Krylov;
  proc->ops->estimatememory = SanetProcEstimateMemory_Krylov;
  proc->ops->estimatework   = SanetProcEstimateWork_Krylov;
  proc->ops->describe       = SanetProcDescribe_Krylov;
  PetscFunctionReturn(0);
}
