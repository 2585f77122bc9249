#include "sanet/private/procimpl.h"

/* minibatch: Nystrom's eigenvectors refined by mini-batch Riemannian ascent on the full
   affinity, never formed (src/spectral/minibatch.c). */

typedef struct {
  SanetProc_Nystrom ny; /* the start */
  PetscInt          batch, steps;
  PetscReal         step, tol;
} SanetProc_MiniBatch;

static PetscErrorCode SanetProcSetFromOptions_MiniBatch(SanetProc proc, PetscOptionItems *PetscOptionsObject)
{
  SanetProc_MiniBatch *mb = (SanetProc_MiniBatch *)proc->data;

  PetscFunctionBegin;
  PetscCall(SanetProcNystromSetFromOptions(proc, &mb->ny, PetscOptionsObject));
  PetscCall(PetscOptionsInt("-batch", "Mini-batch: columns per step (default sqrt of the vertex count)", NULL, mb->batch, &mb->batch, NULL));
  PetscCall(PetscOptionsInt("-mb_steps", "Mini-batch: most steps", NULL, mb->steps, &mb->steps, NULL));
  PetscCall(PetscOptionsReal("-mb_step", "Mini-batch: initial step size", NULL, mb->step, &mb->step, NULL));
  PetscCall(PetscOptionsReal("-mb_tol", "Mini-batch: stop when the averaged relative Riemannian gradient is below this", NULL, mb->tol, &mb->tol, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcSetUp_MiniBatch(SanetProc proc)
{
  SanetProc_MiniBatch *mb = (SanetProc_MiniBatch *)proc->data;
  const char          *p  = proc->prefix ? proc->prefix : "";

  PetscFunctionBegin;
  PetscCall(SanetProcNystromSetUp(proc, &mb->ny));
  PetscCheck(mb->step > 0 && mb->steps >= 0 && mb->batch >= 0, proc->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%smb_step %g must be > 0, -%smb_steps %" PetscInt_FMT " and -%sbatch %" PetscInt_FMT " >= 0", p, (double)mb->step, p, mb->steps, p, mb->batch);
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcSolve_MiniBatch(SanetProc proc, const SanetProcInput *in, Mat W, PetscReal *features, PetscReal *eigval)
{
  SanetProc_MiniBatch *mb = (SanetProc_MiniBatch *)proc->data;
  SanetMiniBatchSpec   spec;
  PetscReal           *U, *lambda, *dinv, *sigma;

  PetscFunctionBegin;
  PetscCall(SanetProcNystromFactor(proc, &mb->ny, in, &U, &lambda, &dinv, &sigma));
  spec.batch     = mb->batch ? mb->batch : (PetscInt)PetscCeilReal(PetscSqrtReal((PetscReal)in->Nglobal));
  spec.max_steps = mb->steps;
  spec.step      = mb->step;
  spec.tol       = mb->tol;
  spec.weight    = proc->weight;
  spec.seed      = proc->seed;
  spec.stream    = proc->stream;
  PetscCall(SanetMiniBatch(proc->comm, in->nlocal, in->rstart, in->dim, in->X, sigma, dinv, &spec, proc->neig, U, &proc->its));
  PetscCall(SanetProcNystromFinish(proc, in->nlocal, U, lambda, dinv, sigma, features, eigval));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcEstimateMemory_MiniBatch(SanetProc proc, PetscReal n, PetscReal *bytes)
{
  PetscFunctionBegin;
  PetscCall(SanetProcNystromEstimateMemory(proc, &((SanetProc_MiniBatch *)proc->data)->ny, n, bytes));
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcEstimateWork_MiniBatch(SanetProc proc, PetscReal Nglobal, PetscInt dim, PetscMPIInt P, SanetWork *work)
{
  SanetProc_MiniBatch *mb = (SanetProc_MiniBatch *)proc->data;
  const PetscReal      n = PetscCeilReal(Nglobal / P), b = mb->batch ? mb->batch : PetscCeilReal(PetscSqrtReal(Nglobal)), q = proc->neig;

  PetscFunctionBegin;
  PetscCall(SanetProcNystromEstimateWork(proc, &mb->ny, Nglobal, dim, P, work));
  /* every step (at most mb_steps): a kernel block of b columns, the gradient and a
     re-orthonormalization */
  work->gemm += mb->steps * (2 * n * b * (dim + q) + 4 * n * q * q);
  work->stream += mb->steps * 20 * n * b;
  PetscFunctionReturn(0);
}

static PetscErrorCode SanetProcDescribe_MiniBatch(SanetProc proc, size_t len, char buf[])
{
  SanetProc_MiniBatch *mb = (SanetProc_MiniBatch *)proc->data;
  char                 start[96];

  PetscFunctionBegin;
  PetscCall(SanetProcNystromDescribe(proc, &mb->ny, sizeof(start), start));
  PetscCall(PetscSNPrintf(buf, len, "%s, then at most %" PetscInt_FMT " mini-batch steps", start, mb->steps));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetProcCreate_MiniBatch(SanetProc proc)
{
  SanetProc_MiniBatch *mb;

  PetscFunctionBegin;
  PetscCall(PetscNew(&mb));
  SanetProcNystromDefaults(&mb->ny);
  mb->steps                 = 100;
  mb->step                  = 0.5;
  mb->tol                   = 1e-3;
  proc->data                = mb;
  proc->ops->setfromoptions = SanetProcSetFromOptions_MiniBatch;
  proc->ops->setup          = SanetProcSetUp_MiniBatch;
  proc->ops->solve          = SanetProcSolve_MiniBatch;
  proc->ops->estimatememory = SanetProcEstimateMemory_MiniBatch;
  proc->ops->estimatework   = SanetProcEstimateWork_MiniBatch;
  proc->ops->describe       = SanetProcDescribe_MiniBatch;
  PetscFunctionReturn(0);
}
