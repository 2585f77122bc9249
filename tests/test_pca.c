static const char help[] = "PCA of rows with known principal directions, at any rank count.\n";
#include "sanet.h"

/* Rows x = 10 a u1 + 3 b u2 + 0.01 noise + offset, u1 = e0, u2 = (e1 + e2)/sqrt(2). */
int main(int argc, char **argv)
{
  const PetscInt dim = 12, D = 2;
  PetscInt       N = 5000, nlocal = PETSC_DECIDE, rstart;
  PetscReal     *X, mean[12], W[24], kept;
  PetscMPIInt    rank;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &nlocal, &N));
  PetscCallMPI(MPI_Exscan(&nlocal, &rstart, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  if (!rank) rstart = 0;
  PetscCall(PetscMalloc1((size_t)nlocal * dim + 1, &X));
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscInt  g = rstart + i;
    PetscReal a = SanetRandUniform(1, 0, g) - 0.5, b = SanetRandUniform(1, 1, g) - 0.5;
    for (PetscInt d = 0; d < dim; d++) X[i * dim + d] = 5 + 0.01 * (SanetRandUniform(1, 2 + d, g) - 0.5);
    X[i * dim + 0] += 10 * a;
    X[i * dim + 1] += 3 * b / PetscSqrtReal(2);
    X[i * dim + 2] += 3 * b / PetscSqrtReal(2);
  }
  PetscCall(SanetPCAFit(PETSC_COMM_WORLD, nlocal, dim, X, D, mean, W, &kept));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "kept %.8f, w1 = (%.6f %.6f %.6f), w2 = (%.6f %.6f %.6f)\n", (double)kept, (double)W[0], (double)W[2], (double)W[4], (double)W[1], (double)W[3], (double)W[5]));
  for (PetscInt d = 0; d < dim; d++) PetscCheck(PetscAbsReal(mean[d] - 5) < 0.2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "mean[%" PetscInt_FMT "] = %g", d, (double)mean[d]);
  PetscCheck(PetscAbsReal(PetscAbsReal(W[0 * D + 0]) - 1) < 1e-4, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "first direction is not e0");
  PetscCheck(PetscAbsReal(PetscAbsReal(W[1 * D + 1]) - 1 / PetscSqrtReal(2)) < 1e-3 && PetscAbsReal(W[1 * D + 1] - W[2 * D + 1]) < 1e-3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "second direction is not (e1+e2)/sqrt(2)");
  PetscCheck(kept > 0.9999 && kept <= 1, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "kept variance %g", (double)kept);
  PetscCall(PetscFree(X));
  PetscCall(PetscFinalize());
  return 0;
}
