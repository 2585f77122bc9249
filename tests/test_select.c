static const char help[] = "SanetModularity against closed forms and a serial reference.\n";
/* m cliques of s vertices joined in a ring by one edge of weight eps between consecutive
   cliques. Partitioned by clique, the modularity has a closed form; one cluster gives 0;
   a random partition is checked against a dense serial sum on every rank. */
#include "sanet.h"

static PetscErrorCode Build(PetscInt m, PetscInt s, PetscReal eps, Mat *W, PetscReal **dense)
{
  PetscInt N = m * s, rs, re;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1((size_t)N * N, dense));
  for (PetscInt c = 0; c < m; c++) {
    for (PetscInt a = 0; a < s; a++)
      for (PetscInt b = 0; b < s; b++)
        if (a != b) (*dense)[(c * s + a) * N + c * s + b] = 1;
    if (m > 1) {
      PetscInt u = c * s + s - 1, v = ((c + 1) % m) * s; /* last of c to first of c+1 */
      (*dense)[u * N + v] += eps;
      (*dense)[v * N + u] += eps;
    }
  }
  PetscCall(MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, N, N, s + 2, NULL, s + 2, NULL, W));
  PetscCall(MatGetOwnershipRange(*W, &rs, &re));
  for (PetscInt i = rs; i < re; i++)
    for (PetscInt j = 0; j < N; j++)
      if ((*dense)[i * N + j] != 0) PetscCall(MatSetValue(*W, i, j, (*dense)[i * N + j], INSERT_VALUES));
  PetscCall(MatAssemblyBegin(*W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(*W, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(0);
}

static PetscReal DenseModularity(PetscInt N, const PetscReal *A, const PetscInt *lab, PetscInt K)
{
  PetscReal vol = 0, Q = 0, *d;

  d = (PetscReal *)calloc((size_t)N, sizeof(PetscReal));
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++) d[i] += A[i * N + j];
  for (PetscInt i = 0; i < N; i++) vol += d[i];
  for (PetscInt c = 0; c < K; c++) {
    PetscReal in = 0, vc = 0;
    for (PetscInt i = 0; i < N; i++) {
      if (lab[i] != c) continue;
      vc += d[i];
      for (PetscInt j = 0; j < N; j++)
        if (lab[j] == c) in += A[i * N + j];
    }
    Q += in / vol - (vc / vol) * (vc / vol);
  }
  free(d);
  return Q;
}

int main(int argc, char **argv)
{
  const PetscInt  m = 5, s = 7, N = m * s;
  const PetscReal eps = 0.5;
  Mat             W;
  PetscReal      *A, Q, ref;
  PetscInt       *lab, rs, re;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(Build(m, s, eps, &W, &A));
  PetscCall(MatGetOwnershipRange(W, &rs, &re));
  PetscCall(PetscMalloc1(N, &lab));
  /* by clique: vol = m (s(s-1) + 2 eps), each clique holds s(s-1) inside and vol/m */
  for (PetscInt i = 0; i < N; i++) lab[i] = i / s;
  PetscCall(SanetModularity(W, re - rs, lab + rs, m, &Q));
  ref = (PetscReal)(s * (s - 1)) / (s * (s - 1) + 2 * eps) - 1.0 / m;
  PetscCheck(PetscAbsReal(Q - ref) < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "cliques: modularity %.15g, closed form %.15g", (double)Q, (double)ref);
  /* one cluster: everything inside, minus everything expected: 0 */
  for (PetscInt i = 0; i < N; i++) lab[i] = 0;
  PetscCall(SanetModularity(W, re - rs, lab + rs, 1, &Q));
  PetscCheck(PetscAbsReal(Q) < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "one cluster: modularity %.15g, expected 0", (double)Q);
  /* a scrambled partition into 3 clusters against the dense sum */
  for (PetscInt i = 0; i < N; i++) lab[i] = (i * 7 + 3) % 3;
  PetscCall(SanetModularity(W, re - rs, lab + rs, 3, &Q));
  ref = DenseModularity(N, A, lab, 3);
  PetscCheck(PetscAbsReal(Q - ref) < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "scrambled: modularity %.15g, dense %.15g", (double)Q, (double)ref);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "modularity: cliques, one cluster and a scrambled partition match\n"));
  PetscCall(PetscFree(lab));
  PetscCall(PetscFree(A));
  PetscCall(MatDestroy(&W));
  PetscCall(PetscFinalize());
  return 0;
}
