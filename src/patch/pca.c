#include "sanet.h"
#include <cblas.h>
#include <petscblaslapack.h>

PetscErrorCode SanetPCAFit(MPI_Comm comm, PetscInt nlocal, PetscInt dim, const PetscReal X[], PetscInt D, PetscReal mean[], PetscReal W[], PetscReal *kept)
{
  PetscInt    Nglobal;
  PetscReal  *C, *Xc, total = 0;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCheck(D >= 1 && D <= dim, comm, PETSC_ERR_ARG_OUTOFRANGE, "PCA dimension %" PetscInt_FMT " must be in [1, %" PetscInt_FMT "]", D, dim);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Allreduce(&nlocal, &Nglobal, 1, MPIU_INT, MPI_SUM, comm));
  PetscCheck(Nglobal > 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "PCA needs at least 2 rows, got %" PetscInt_FMT, Nglobal);
  PetscCall(PetscArrayzero(mean, dim));
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt d = 0; d < dim; d++) mean[d] += X[(size_t)i * dim + d];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, mean, (PetscMPIInt)dim, MPIU_REAL, MPI_SUM, comm));
  for (PetscInt d = 0; d < dim; d++) mean[d] /= Nglobal;
  /* centred rows in blocks, so the data is never copied whole */
  PetscCall(PetscMalloc1((size_t)PetscMin(nlocal, 1024) * dim + 1, &Xc));
  PetscCall(PetscCalloc1((size_t)dim * dim, &C));
  for (PetscInt i0 = 0; i0 < nlocal; i0 += 1024) {
    PetscInt nb = PetscMin(1024, nlocal - i0);
    for (PetscInt i = 0; i < nb; i++)
      for (PetscInt d = 0; d < dim; d++) Xc[(size_t)i * dim + d] = X[(size_t)(i0 + i) * dim + d] - mean[d];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)dim, (int)nb, 1.0, Xc, (int)dim, 1.0, C, (int)dim);
  }
  PetscCall(PetscFree(Xc));
  /* the sum lands on rank 0 only: the eigenproblem is solved there */
  PetscCallMPI(MPI_Reduce(rank ? C : MPI_IN_PLACE, C, (PetscMPIInt)(dim * dim), MPIU_REAL, MPI_SUM, 0, comm));
  if (!rank) {
    PetscBLASInt n, il, iu, m, lwork, info, *iwork, *ifail;
    PetscReal    vl = 0, vu = 0, abstol = 0, *w, *Z, *work;
    for (PetscInt d = 0; d < dim; d++) total += C[(size_t)d * dim + d];
    PetscCall(PetscBLASIntCast(dim, &n));
    PetscCall(PetscBLASIntCast(dim - D + 1, &il));
    iu = n;
    PetscCall(PetscBLASIntCast(8 * dim, &lwork));
    PetscCall(PetscMalloc5(dim, &w, (size_t)dim * D, &Z, 8 * dim, &work, 5 * dim, &iwork, dim, &ifail));
    /* row-major upper = column-major lower */
    PetscCallBLAS("LAPACKsyevx", LAPACKsyevx_("V", "I", "L", &n, C, &n, &vl, &vu, &il, &iu, &abstol, &m, w, Z, &n, work, &lwork, iwork, ifail, &info));
    PetscCheck(info == 0 && m == (PetscBLASInt)D, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK syevx failed on the %" PetscInt_FMT "-dimensional covariance (info %d)", dim, (int)info);
    /* ascending eigenvalues; W column e = eigenvector of the e-th largest */
    *kept = 0;
    for (PetscInt e = 0; e < D; e++) {
      const PetscReal *z = Z + (size_t)(D - 1 - e) * dim;
      for (PetscInt d = 0; d < dim; d++) W[(size_t)d * D + e] = z[d];
      *kept += w[D - 1 - e];
    }
    *kept = total > 0 ? *kept / total : 1;
    PetscCall(PetscFree5(w, Z, work, iwork, ifail));
  }
  PetscCall(PetscFree(C));
  PetscCallMPI(MPI_Bcast(W, (PetscMPIInt)(dim * D), MPIU_REAL, 0, comm));
  PetscCallMPI(MPI_Bcast(kept, 1, MPIU_REAL, 0, comm));
  PetscFunctionReturn(0);
}
