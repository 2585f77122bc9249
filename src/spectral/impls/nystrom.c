#include "sanet/private/procimpl.h"

/* nystrom: the full Gaussian affinity, never formed, approximated through ncols landmark
   columns (SMGA or uniform selection; src/spectral/nystrom.c) whose small eigenproblem
   gives the leading eigenvectors of S. */

void SanetProcNystromDefaults(SanetProc_Nystrom *ny)
{
  ny->ncols         = 0; /* 4 neig */
  ny->candidates    = 59;
  ny->scalapack_min = 1024;
  ny->landmarks     = SANET_LANDMARKS_SMGA;
  ny->eig           = SANET_NYSTROM_EIG_AUTO;
}

PetscErrorCode SanetProcNystromSetFromOptions(SanetProc proc, SanetProc_Nystrom *ny, PetscOptionItems *PetscOptionsObject)
{
  PetscFunctionBegin;
  PetscCall(PetscOptionsInt("-ncols", "Nystrom: landmark columns (at least -neig; default 4 neig)", NULL, ny->ncols, &ny->ncols, NULL));
  PetscCall(PetscOptionsEnum("-landmarks", "Nystrom: landmark selection", NULL, SanetLandmarkTypes, (PetscEnum)ny->landmarks, (PetscEnum *)&ny->landmarks, NULL));
  PetscCall(PetscOptionsInt("-candidates", "Nystrom SMGA: random candidate columns scored per landmark", NULL, ny->candidates, &ny->candidates, NULL));
  PetscCall(PetscOptionsEnum("-nystrom_eigensolver", "Nystrom: solver of the ncols x ncols landmark eigenproblem (lapack: on every rank; scalapack: distributed over the ranks; auto: scalapack from -nystrom_scalapack_min columns on more than one rank)", NULL, SanetNystromEigTypes, (PetscEnum)ny->eig, (PetscEnum *)&ny->eig, NULL));
  PetscCall(PetscOptionsInt("-nystrom_scalapack_min", "Nystrom, eigensolver auto: fewest landmark columns solved by ScaLAPACK (>= 1)", NULL, ny->scalapack_min, &ny->scalapack_min, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcNystromSetUp(SanetProc proc, SanetProc_Nystrom *ny)
{
  const char *p = proc->prefix ? proc->prefix : "";

  PetscFunctionBegin;
  if (!ny->ncols) ny->ncols = 4 * proc->neig;
  PetscCheck(ny->ncols >= proc->neig, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sncols %" PetscInt_FMT " must be at least -%sneig %" PetscInt_FMT, p, ny->ncols, p, proc->neig);
  PetscCheck(ny->candidates >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%scandidates %" PetscInt_FMT " must be > 0", p, ny->candidates);
  PetscCheck(ny->scalapack_min >= 1, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%snystrom_scalapack_min %" PetscInt_FMT " must be >= 1", p, ny->scalapack_min);
  PetscCheck(!proc->sparse, proc->comm, PETSC_ERR_PLIB, "a dense method marked sparse");
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcNystromFactor(SanetProc proc, const SanetProc_Nystrom *ny, const SanetProcInput *in, PetscReal **U, PetscReal **lambda, PetscReal **dinv, PetscReal **sigma)
{
  SanetNystromSpec spec;
  PetscReal        bytes, gbytes;
  PetscInt         ncols = PetscMin(ny->ncols, in->Nglobal);

  PetscFunctionBegin;
  PetscCheck(proc->neig <= ncols, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sneig %" PetscInt_FMT " needs more graph vertices than the %" PetscInt_FMT " there are", proc->prefix, proc->neig, in->Nglobal);
  /* the factor G (N x ncols) and the candidate kernel blocks dominate */
  bytes = (PetscReal)in->nlocal * (ncols + 2.0 * ny->candidates + proc->neig) * sizeof(PetscReal);
  PetscCallMPI(MPI_Allreduce(&bytes, &gbytes, 1, MPIU_REAL, MPI_MAX, proc->comm));
  PetscCheck(gbytes <= in->budget_mb * 1048576.0, proc->comm, PETSC_ERR_MEM, "Procedure %s: Nystrom factors may need %.0f MB on one rank, past the budget of %.0f MB; lower -%sncols, use more ranks, or raise the layer's -graph_budget_mb", proc->prefix, gbytes / 1048576.0, (double)in->budget_mb, proc->prefix);
  PetscCall(PetscMalloc3((size_t)in->nlocal * proc->neig + 1, U, proc->neig, lambda, in->nlocal + 1, dinv));
  *sigma = NULL;
  if (proc->weight.type == SANET_WEIGHT_SELFTUNE) {
    /* duplicated points have sigma 0: floor at 1e-3 of the mean, as for sparse graphs */
    PetscReal sum = 0, gsum;
    PetscCall(PetscMalloc1(in->nlocal + 1, sigma));
    for (PetscInt i = 0; i < in->nlocal; i++) sum += ((*sigma)[i] = PetscSqrtReal(in->d2[i * in->kstride + proc->weight.selftune - 1]));
    PetscCallMPI(MPI_Allreduce(&sum, &gsum, 1, MPIU_REAL, MPI_SUM, proc->comm));
    for (PetscInt i = 0; i < in->nlocal; i++) (*sigma)[i] = PetscMax((*sigma)[i], gsum > 0 ? 1e-3 * gsum / in->Nglobal : 1);
  }
  spec.ncols         = ncols;
  spec.candidates    = ny->candidates;
  spec.select        = ny->landmarks;
  spec.weight        = proc->weight;
  spec.seed          = proc->seed;
  spec.stream        = proc->stream;
  spec.eig           = ny->eig;
  spec.scalapack_min = ny->scalapack_min;
  PetscCall(SanetNystrom(proc->comm, in->nlocal, in->rstart, in->dim, in->X, *sigma, &spec, proc->neig, *U, *lambda, *dinv));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcNystromFinish(SanetProc proc, PetscInt nlocal, PetscReal *U, PetscReal *lambda, PetscReal *dinv, PetscReal *sigma, PetscReal *features, PetscReal *eigval)
{
  PetscFunctionBegin;
  proc->maxres = 0;
  for (PetscInt j = 0; j < proc->neig; j++) {
    PetscCall(SanetProcEmitFeature(proc, nlocal, U + j, proc->neig, dinv, j, features));
    eigval[j] = 1 - lambda[j];
  }
  PetscCall(PetscFree(sigma));
  PetscCall(PetscFree3(U, lambda, dinv));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcNystromEstimateMemory(SanetProc proc, const SanetProc_Nystrom *ny, PetscReal n, PetscReal *bytes)
{
  PetscFunctionBegin;
  *bytes = n * (ny->ncols + 2.0 * ny->candidates + 2.0 * proc->neig + 2) * sizeof(PetscReal);
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcNystromEstimateWork(SanetProc proc, const SanetProc_Nystrom *ny, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *work)
{
  const PetscReal n = PetscCeilReal(Nglobal / P), l = PetscMin(ny->ncols, Nglobal), nc = ny->landmarks == SANET_LANDMARKS_SMGA ? ny->candidates : 4, q = proc->neig;

  PetscFunctionBegin;
  /* per landmark: the candidates' kernel columns (GEMM and an exp per entry) and their
     residual against the landmarks so far; then H^T H, its eigenproblem and U = H V */
  work->gemm   = l * 2 * n * nc * dim + n * nc * l * l + 2 * n * l * l + 10 * l * l * l + 2 * n * l * q;
  work->stream = 20 * l * n * nc;
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcNystromDescribe(SanetProc proc, const SanetProc_Nystrom *ny, size_t len, char buf[])
{
  PetscFunctionBegin;
  if (ny->landmarks == SANET_LANDMARKS_SMGA) PetscCall(PetscSNPrintf(buf, len, "; %" PetscInt_FMT " SMGA columns of %" PetscInt_FMT " candidates", ny->ncols, ny->candidates));
  else PetscCall(PetscSNPrintf(buf, len, "; %" PetscInt_FMT " uniform columns", ny->ncols));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcSetFromOptions_Nystrom(SanetProc proc, PetscOptionItems *PetscOptionsObject)
{
  PetscFunctionBegin;
  PetscCall(SanetProcNystromSetFromOptions(proc, (SanetProc_Nystrom *)proc->data, PetscOptionsObject));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcSetUp_Nystrom(SanetProc proc)
{
  PetscFunctionBegin;
  PetscCall(SanetProcNystromSetUp(proc, (SanetProc_Nystrom *)proc->data));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcSolve_Nystrom(SanetProc proc, const SanetProcInput *in, Mat W, PetscReal *features, PetscReal *eigval)
{
  PetscReal *U, *lambda, *dinv, *sigma;

  PetscFunctionBegin;
  PetscCall(SanetProcNystromFactor(proc, (SanetProc_Nystrom *)proc->data, in, &U, &lambda, &dinv, &sigma));
  proc->its = 0;
  PetscCall(SanetProcNystromFinish(proc, in->nlocal, U, lambda, dinv, sigma, features, eigval));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcEstimateMemory_Nystrom(SanetProc proc, PetscReal n, PetscReal *bytes)
{
  PetscFunctionBegin;
  PetscCall(SanetProcNystromEstimateMemory(proc, (SanetProc_Nystrom *)proc->data, n, bytes));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcEstimateWork_Nystrom(SanetProc proc, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *work)
{
  PetscFunctionBegin;
  PetscCall(SanetProcNystromEstimateWork(proc, (SanetProc_Nystrom *)proc->data, Nglobal, dim, P, work));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcDescribe_Nystrom(SanetProc proc, size_t len, char buf[])
{
  PetscFunctionBegin;
  PetscCall(SanetProcNystromDescribe(proc, (SanetProc_Nystrom *)proc->data, len, buf));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcCreate_Nystrom(SanetProc proc)
{
  SanetProc_Nystrom *ny;

  PetscFunctionBegin;
  PetscCall(PetscNew(&ny));
  SanetProcNystromDefaults(ny);
  proc->data                = ny;
  proc->ops->setfromoptions = SanetProcSetFromOptions_Nystrom;
  proc->ops->setup          = SanetProcSetUp_Nystrom;
  proc->ops->solve          = SanetProcSolve_Nystrom;
  proc->ops->estimatememory = SanetProcEstimateMemory_Nystrom;
  proc->ops->estimatework   = SanetProcEstimateWork_Nystrom;
  proc->ops->describe       = SanetProcDescribe_Nystrom;
  PetscFunctionReturn(0);
}
