static const char help[] = "Nystrom eigenvectors against the exact dense normalized affinity.\n";
#include "sanet.h"
#include <petscblaslapack.h>

/* Clustered points: -n rows of -dim around -centers centres, the same for any rank count. */
static void Point(PetscInt i, PetscInt dim, PetscInt ncenters, float *x)
{
  PetscInt c = i % ncenters;
  for (PetscInt d = 0; d < dim; d++) x[d] = (float)(2.0 * SanetRandUniform(7, 1, (unsigned long)(c * dim + d)) + 0.35 * (SanetRandUniform(7, 2, (unsigned long)(i * dim + d)) - 0.5));
}

/* Top neig eigenvectors of D^-1/2 K D^-1/2 of all N points, on one process. */
static PetscErrorCode ExactEigenvectors(PetscInt N, PetscInt dim, const float *X, PetscReal sigma, PetscInt neig, PetscReal *Uex)
{
  PetscReal   *K, *d, *w, *work;
  PetscBLASInt bn, lwork, info;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4((size_t)N * N, &K, N, &d, N, &w, 3 * N, &work));
  for (PetscInt i = 0; i < N; i++) {
    d[i] = 0;
    for (PetscInt j = 0; j < N; j++) {
      PetscReal s = 0;
      for (PetscInt a = 0; a < dim; a++) s += PetscSqr((PetscReal)X[i * dim + a] - X[j * dim + a]);
      K[i * N + j] = PetscExpReal(-s / (2 * sigma * sigma));
      d[i] += K[i * N + j];
    }
  }
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++) K[i * N + j] /= PetscSqrtReal(d[i] * d[j]);
  PetscCall(PetscBLASIntCast(N, &bn));
  PetscCall(PetscBLASIntCast(3 * N, &lwork));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bn, K, &bn, w, work, &lwork, &info));
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "syev %d", (int)info);
  for (PetscInt e = 0; e < neig; e++)
    for (PetscInt i = 0; i < N; i++) Uex[i * neig + e] = K[(size_t)(N - 1 - e) * N + i];
  PetscCall(PetscFree4(K, d, w, work));
  PetscFunctionReturn(0);
}

/* 1 - ||Uex^T U||_F^2 / neig: 0 when the two spans agree. */
static PetscReal SubspaceError(PetscInt N, PetscInt neig, const PetscReal *Uex, const PetscReal *U)
{
  PetscReal f = 0;
  for (PetscInt a = 0; a < neig; a++)
    for (PetscInt b = 0; b < neig; b++) {
      PetscReal s = 0;
      for (PetscInt i = 0; i < N; i++) s += Uex[i * neig + a] * U[i * neig + b];
      f += s * s;
    }
  return 1 - f / neig;
}

/* ||(I - A A^T) B||_F for orthonormal A and B: the sines of the principal angles between
   their spans, computed without the cancellation of 1 - cos^2. */
static PetscErrorCode SinAngles(PetscInt N, PetscInt neig, const PetscReal *A, const PetscReal *B, PetscReal *sines)
{
  PetscReal f = 0, *C;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(neig * neig, &C));
  for (PetscInt a = 0; a < neig; a++)
    for (PetscInt b = 0; b < neig; b++) {
      C[a * neig + b] = 0;
      for (PetscInt i = 0; i < N; i++) C[a * neig + b] += A[i * neig + a] * B[i * neig + b];
    }
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt b = 0; b < neig; b++) {
      PetscReal r = B[i * neig + b];
      for (PetscInt a = 0; a < neig; a++) r -= A[i * neig + a] * C[a * neig + b];
      f += r * r;
    }
  *sines = PetscSqrtReal(f);
  PetscCall(PetscFree(C));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscInt         N = 1200, dim = 6, ncenters = 5, neig = 5, nlocal = PETSC_DECIDE, rstart, cols[] = {10, 40, 160};
  PetscReal        sigma = 0.5;
  PetscMPIInt      rank, size;
  float           *X, *Xall;
  PetscReal       *U, *Uall, *Uscal, *Uex, *lambda, *lscal, *dinv, err[2][3];
  PetscMPIInt     *counts, *displs;
  SanetNystromSpec spec;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &nlocal, &N));
  PetscCallMPI(MPI_Exscan(&nlocal, &rstart, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  if (!rank) rstart = 0;
  PetscCall(PetscMalloc4((size_t)N * dim, &Xall, (size_t)N * neig, &Uall, (size_t)N * neig, &Uex, neig, &lambda));
  PetscCall(PetscMalloc3((size_t)nlocal * neig + 1, &U, nlocal + 1, &dinv, size, &counts));
  PetscCall(PetscMalloc3(size, &displs, (size_t)N * neig, &Uscal, neig, &lscal));
  for (PetscInt i = 0; i < N; i++) Point(i, dim, ncenters, Xall + i * dim);
  X = Xall + (size_t)rstart * dim;
  PetscCall(ExactEigenvectors(N, dim, Xall, sigma, neig, Uex));
  {
    PetscMPIInt n = (PetscMPIInt)(nlocal * neig);
    PetscCallMPI(MPI_Allgather(&n, 1, MPI_INT, counts, 1, MPI_INT, PETSC_COMM_WORLD));
    displs[0] = 0;
    for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  }
  spec.candidates    = 32;
  spec.weight.type   = SANET_WEIGHT_GAUSSIAN;
  spec.weight.sigma  = sigma;
  spec.seed          = 3;
  spec.stream        = 0;
  spec.eig           = SANET_NYSTROM_EIG_LAPACK;
  spec.scalapack_min = 1024;
  for (PetscInt s = 0; s < 2; s++)
    for (PetscInt c = 0; c < 3; c++) {
      spec.select = s ? SANET_LANDMARKS_UNIFORM : SANET_LANDMARKS_SMGA;
      spec.ncols  = cols[c];
      PetscCall(SanetNystrom(PETSC_COMM_WORLD, nlocal, rstart, dim, X, NULL, &spec, neig, U, lambda, dinv));
      PetscCallMPI(MPI_Allgatherv(U, counts[rank], MPIU_REAL, Uall, counts, displs, MPIU_REAL, PETSC_COMM_WORLD));
      err[s][c] = SubspaceError(N, neig, Uex, Uall);
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s columns %3" PetscInt_FMT ": subspace error %.3e, top eigenvalues %.6f %.6f\n", s ? "uniform" : "smga   ", cols[c], (double)err[s][c], (double)lambda[0], (double)lambda[neig - 1]));
      PetscCheck(PetscAbsReal(lambda[0] - 1) < 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "largest eigenvalue %g, want 1", (double)lambda[0]);
      /* ScaLAPACK forced on this small problem must agree with LAPACK: eigenvalues, span,
         and so the error against the exact span */
      {
        PetscReal dl = 0, sines, escal;
        spec.eig = SANET_NYSTROM_EIG_SCALAPACK;
        PetscCall(SanetNystrom(PETSC_COMM_WORLD, nlocal, rstart, dim, X, NULL, &spec, neig, U, lscal, dinv));
        spec.eig = SANET_NYSTROM_EIG_LAPACK;
        PetscCallMPI(MPI_Allgatherv(U, counts[rank], MPIU_REAL, Uscal, counts, displs, MPIU_REAL, PETSC_COMM_WORLD));
        for (PetscInt e = 0; e < neig; e++) dl = PetscMax(dl, PetscAbsReal(lscal[e] - lambda[e]) / PetscAbsReal(lambda[e]));
        PetscCall(SinAngles(N, neig, Uall, Uscal, &sines));
        escal = SubspaceError(N, neig, Uex, Uscal);
        PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  scalapack: eigenvalues %.1e relative from lapack's, subspace sines %.1e, error %.3e\n", (double)dl, (double)sines, (double)escal));
        PetscCheck(dl < 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "ScaLAPACK and LAPACK eigenvalues differ by %g relative", (double)dl);
        PetscCheck(sines < 1e-8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "ScaLAPACK and LAPACK spans differ: sines %g", (double)sines);
        PetscCheck(PetscAbsReal(escal - err[s][c]) < 1e-8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "ScaLAPACK error %g against the exact span, LAPACK %g", (double)escal, (double)err[s][c]);
      }
      /* the same computation on one process must give the same span */
      if (size > 1 && c == 2) {
        PetscReal *Userial, *ls, *ds;
        PetscCall(PetscMalloc3((size_t)N * neig, &Userial, neig, &ls, N, &ds));
        PetscCall(SanetNystrom(PETSC_COMM_SELF, N, 0, dim, Xall, NULL, &spec, neig, Userial, ls, ds));
        PetscCheck(SubspaceError(N, neig, Userial, Uall) < 1e-8, PETSC_COMM_SELF, PETSC_ERR_PLIB, "distributed and serial Nystrom spans differ by %g", (double)SubspaceError(N, neig, Userial, Uall));
        PetscCall(PetscFree3(Userial, ls, ds));
      }
      /* ScaLAPACK on a sub-communicator: each half of the ranks solves the whole problem */
      if (size > 1 && c == 2) {
        MPI_Comm    half;
        PetscInt    hlocal = PETSC_DECIDE, hstart = 0, Nhalf = N;
        PetscMPIInt hrank;
        PetscReal  *Uhalf, *Ulocal, *lh, *dh, sines;
        PetscCallMPI(MPI_Comm_split(PETSC_COMM_WORLD, rank < size / 2, rank, &half));
        PetscCallMPI(MPI_Comm_rank(half, &hrank));
        PetscCall(PetscSplitOwnership(half, &hlocal, &Nhalf));
        PetscCallMPI(MPI_Exscan(&hlocal, &hstart, 1, MPIU_INT, MPI_SUM, half));
        if (!hrank) hstart = 0;
        PetscCall(PetscCalloc4((size_t)N * neig, &Uhalf, (size_t)hlocal * neig + 1, &Ulocal, neig, &lh, hlocal + 1, &dh));
        spec.eig = SANET_NYSTROM_EIG_SCALAPACK;
        PetscCall(SanetNystrom(half, hlocal, hstart, dim, Xall + (size_t)hstart * dim, NULL, &spec, neig, Ulocal, lh, dh));
        spec.eig = SANET_NYSTROM_EIG_LAPACK;
        PetscCall(PetscArraycpy(Uhalf + (size_t)hstart * neig, Ulocal, hlocal * neig));
        PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, Uhalf, (PetscMPIInt)(N * neig), MPIU_REAL, MPI_SUM, half));
        PetscCall(SinAngles(N, neig, Uall, Uhalf, &sines));
        PetscCheck(sines < 1e-8, PETSC_COMM_SELF, PETSC_ERR_PLIB, "ScaLAPACK on half the ranks and LAPACK on all differ: sines %g", (double)sines);
        PetscCall(PetscFree4(Uhalf, Ulocal, lh, dh));
        PetscCallMPI(MPI_Comm_free(&half));
      }
    }
  for (PetscInt s = 0; s < 2; s++) {
    PetscCheck(err[s][2] < err[s][0], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "error does not fall with more columns: %g at %" PetscInt_FMT ", %g at %" PetscInt_FMT, (double)err[s][0], cols[0], (double)err[s][2], cols[2]);
    PetscCheck(err[s][2] < 1e-2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "error %g at %" PetscInt_FMT " columns", (double)err[s][2], cols[2]);
  }
  PetscCheck(err[0][1] <= err[1][1] * 1.05, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "SMGA (%g) less accurate than uniform (%g) at %" PetscInt_FMT " columns", (double)err[0][1], (double)err[1][1], cols[1]);
  /* mini-batch ascent from a coarse Nystrom start must move towards the exact span */
  {
    SanetMiniBatchSpec mb;
    PetscInt           steps;
    PetscReal          before, after;
    spec.select = SANET_LANDMARKS_UNIFORM;
    spec.ncols  = cols[0];
    PetscCall(SanetNystrom(PETSC_COMM_WORLD, nlocal, rstart, dim, X, NULL, &spec, neig, U, lambda, dinv));
    PetscCallMPI(MPI_Allgatherv(U, counts[rank], MPIU_REAL, Uall, counts, displs, MPIU_REAL, PETSC_COMM_WORLD));
    before       = SubspaceError(N, neig, Uex, Uall);
    mb.batch     = 200;
    mb.max_steps = 300;
    mb.step      = 0.5;
    mb.tol       = 0;
    mb.weight    = spec.weight;
    mb.seed      = 3;
    mb.stream    = 0;
    PetscCall(SanetMiniBatch(PETSC_COMM_WORLD, nlocal, rstart, dim, X, NULL, dinv, &mb, neig, U, &steps));
    PetscCallMPI(MPI_Allgatherv(U, counts[rank], MPIU_REAL, Uall, counts, displs, MPIU_REAL, PETSC_COMM_WORLD));
    after = SubspaceError(N, neig, Uex, Uall);
    for (PetscInt a = 0; a < neig; a++) /* the iterate stays on the Stiefel manifold */
      for (PetscInt c = 0; c < neig; c++) {
        PetscReal g = 0;
        for (PetscInt i = 0; i < N; i++) g += Uall[i * neig + a] * Uall[i * neig + c];
        PetscCheck(PetscAbsReal(g - (a == c)) < 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "mini-batch iterate not orthonormal: (U^T U)[%" PetscInt_FMT "][%" PetscInt_FMT "] = %g", a, c, (double)g);
      }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "mini-batch: %" PetscInt_FMT " steps of %" PetscInt_FMT " columns, subspace error %.3e -> %.3e\n", steps, mb.batch, (double)before, (double)after));
    PetscCheck(after < 0.5 * before, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "mini-batch did not improve the Nystrom start: %g -> %g", (double)before, (double)after);
  }
  PetscCall(PetscFree4(Xall, Uall, Uex, lambda));
  PetscCall(PetscFree3(U, dinv, counts));
  PetscCall(PetscFree3(displs, Uscal, lscal));
  PetscCall(PetscFinalize());
  return 0;
}
