#include "sanet.h"
#include <cblas.h>
#include <petscblaslapack.h>

/* U <- U R^-1 with R^T R = U^T U (Cholesky QR): the retraction onto the Stiefel manifold. */
static PetscErrorCode Orthonormalize(MPI_Comm comm, PetscInt nlocal, PetscInt neig, PetscReal U[])
{
  PetscReal   *M;
  PetscBLASInt bn, info;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1(neig * neig, &M));
  if (nlocal > 0) cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)neig, (int)neig, (int)nlocal, 1.0, U, (int)neig, U, (int)neig, 0.0, M, (int)neig);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, M, (PetscMPIInt)(neig * neig), MPIU_REAL, MPI_SUM, comm));
  PetscCall(PetscBLASIntCast(neig, &bn));
  /* row-major M is the same symmetric matrix; potrf "L" in column-major leaves the
     upper factor R in the upper triangle of our row-major view, which is all trsm reads */
  PetscCallBLAS("LAPACKpotrf", LAPACKpotrf_("L", &bn, M, &bn, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_NOT_CONVERGED, "Mini-batch: the iterate lost rank (potrf info %d); lower the step size", (int)info);
  if (nlocal > 0) cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, (int)nlocal, (int)neig, 1.0, M, (int)neig, U, (int)neig);
  PetscCall(PetscFree(M));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetMiniBatch(MPI_Comm comm, PetscInt nlocal, PetscInt rstart, PetscInt dim, const float X[], const PetscReal sigma[], const PetscReal dinv[], const SanetMiniBatchSpec *spec, PetscInt neig, PetscReal U[], PetscInt *steps)
{
  PetscInt   Nglobal, b, per;
  PetscInt  *ids;
  PetscReal *buf, *xnorm, *S, *UB, *G, *A, change = 1;
  float     *XB, *dots;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(&nlocal, &Nglobal, 1, MPIU_INT, MPI_SUM, comm));
  b   = PetscMin(spec->batch, Nglobal);
  per = dim + 3 + neig;
  PetscCall(PetscMalloc4(b, &ids, (size_t)b * per, &buf, nlocal + 1, &xnorm, (size_t)nlocal * b + 1, &S));
  PetscCall(PetscMalloc4((size_t)b * neig, &UB, (size_t)nlocal * neig + 1, &G, neig * neig, &A, (size_t)b * dim, &XB));
  PetscCall(PetscMalloc1((size_t)nlocal * b + 1, &dots));
  for (PetscInt i = 0; i < nlocal; i++) {
    xnorm[i] = 0;
    for (PetscInt d = 0; d < dim; d++) xnorm[i] += (PetscReal)X[(size_t)i * dim + d] * X[(size_t)i * dim + d];
  }
  *steps = 0;
  for (PetscInt t = 0; t < spec->max_steps && change > spec->tol; t++) {
    const PetscReal eta = spec->step / (1 + (PetscReal)t / 50), scale = (PetscReal)Nglobal / b;
    PetscReal       dn = 0, un = 0;
    /* the batch: b global columns drawn from the seed, the same on every rank */
    for (PetscInt j = 0; j < b; j++) ids[j] = (PetscInt)(SanetRandUniform(spec->seed, 7000 + spec->stream, (unsigned long)(t * b + j)) * Nglobal);
    PetscCall(PetscArrayzero(buf, (size_t)b * per));
    for (PetscInt j = 0; j < b; j++) {
      PetscInt i = ids[j] - rstart;
      if (i < 0 || i >= nlocal) continue;
      for (PetscInt d = 0; d < dim; d++) buf[j * per + d] = X[(size_t)i * dim + d];
      buf[j * per + dim]     = xnorm[i];
      buf[j * per + dim + 1] = sigma ? sigma[i] : 1;
      buf[j * per + dim + 2] = dinv[i];
      for (PetscInt e = 0; e < neig; e++) buf[j * per + dim + 3 + e] = U[(size_t)i * neig + e];
    }
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, buf, (PetscMPIInt)(b * per), MPIU_REAL, MPI_SUM, comm));
    for (PetscInt j = 0; j < b; j++) {
      for (PetscInt d = 0; d < dim; d++) XB[(size_t)j * dim + d] = (float)buf[j * per + d];
      for (PetscInt e = 0; e < neig; e++) UB[j * neig + e] = buf[j * per + dim + 3 + e];
    }
    if (nlocal > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nlocal, (int)b, (int)dim, 1.0f, X, (int)dim, XB, (int)dim, 0.0f, dots, (int)b);
    for (PetscInt i = 0; i < nlocal; i++)
      for (PetscInt j = 0; j < b; j++) {
        PetscReal d2 = PetscMax(xnorm[i] + buf[j * per + dim] - 2.0 * dots[i * b + j], 0.0), k;
        k                = SanetWeightValue(&spec->weight, d2, spec->weight.type == SANET_WEIGHT_SELFTUNE ? sigma[i] * buf[j * per + dim + 1] : 1);
        S[i * b + j]     = dinv[i] * k * buf[j * per + dim + 2] * scale;
      }
    /* Euclidean gradient estimate G = S[:,B] U[B,:]; Riemannian: G - U sym(U^T G) */
    if (nlocal > 0) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nlocal, (int)neig, (int)b, 1.0, S, (int)b, UB, (int)neig, 0.0, G, (int)neig);
    PetscCall(PetscArrayzero(A, neig * neig));
    if (nlocal > 0) cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)neig, (int)neig, (int)nlocal, 1.0, U, (int)neig, G, (int)neig, 0.0, A, (int)neig);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, A, (PetscMPIInt)(neig * neig), MPIU_REAL, MPI_SUM, comm));
    for (PetscInt a = 0; a < neig; a++)
      for (PetscInt c = 0; c < a; c++) A[a * neig + c] = A[c * neig + a] = 0.5 * (A[a * neig + c] + A[c * neig + a]);
    if (nlocal > 0) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nlocal, (int)neig, (int)neig, -1.0, U, (int)neig, A, (int)neig, 1.0, G, (int)neig);
    for (size_t a = 0; a < (size_t)nlocal * neig; a++) {
      dn += G[a] * G[a];
      un += U[a] * U[a];
    }
    {
      PetscReal red[2] = {dn, un}, rel, cap;
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, red, 2, MPIU_REAL, MPI_SUM, comm));
      rel = PetscSqrtReal(red[0] / red[1]);
      /* a batch dominated by a few heavy columns (duplicated points) gives a huge, nearly
         rank-deficient estimate: the step never moves U by more than eta times its norm */
      cap = eta / PetscMax(1, rel);
      for (size_t a = 0; a < (size_t)nlocal * neig; a++) U[a] += cap * G[a];
      /* relative size of the Riemannian gradient, averaged over steps to damp noise */
      change = t ? 0.9 * change + 0.1 * rel : rel;
    }
    PetscCall(Orthonormalize(comm, nlocal, neig, U));
    *steps = t + 1;
  }
  PetscCall(PetscFree4(ids, buf, xnorm, S));
  PetscCall(PetscFree4(UB, G, A, XB));
  PetscCall(PetscFree(dots));
  PetscFunctionReturn(0);
}
