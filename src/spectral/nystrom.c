#include "sanet.h"
#include <cblas.h>
#include <petscblaslapack.h>

const char *const SanetLandmarkTypes[] = {"smga", "uniform", "SanetLandmarks", "SANET_LANDMARKS_", NULL};

/* Kernel values between the local rows and a set of broadcast rows (row-major). */
static void KernelBlock(PetscInt nlocal, PetscInt dim, const float X[], const PetscReal xnorm[], const PetscReal sigma[], PetscInt nc, const float Xc[], const PetscReal cnorm[], const PetscReal csigma[], const SanetWeightSpec *w, PetscReal *dot, PetscReal K[])
{
  float *tmp = (float *)dot; /* float GEMM output fits in the double buffer */
  if (nlocal > 0 && nc > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nlocal, (int)nc, (int)dim, 1.0f, X, (int)dim, Xc, (int)dim, 0.0f, tmp, (int)nc);
  for (PetscInt i = nlocal - 1; i >= 0; i--)
    for (PetscInt j = nc - 1; j >= 0; j--) {
      PetscReal d2 = PetscMax(xnorm[i] + cnorm[j] - 2.0 * tmp[i * nc + j], 0.0);
      K[i * nc + j] = w->type == SANET_WEIGHT_SELFTUNE ? PetscExpReal(-d2 / (sigma[i] * csigma[j])) : PetscExpReal(-d2 / (2 * w->sigma * w->sigma));
    }
}

/* Broadcasts the rows with the given global ids (owner fills, everyone sums). */
static PetscErrorCode GatherRows(MPI_Comm comm, PetscInt rstart, PetscInt nlocal, PetscInt dim, const float X[], const PetscReal xnorm[], const PetscReal sigma[], PetscInt t, const PetscReal G[], PetscInt ldg, PetscInt nc, const PetscInt ids[], float Xc[], PetscReal cnorm[], PetscReal csigma[], PetscReal Gc[])
{
  PetscReal *buf;
  size_t     per = (size_t)dim + 2 + t, n = per * nc;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1(n + 1, &buf));
  for (PetscInt j = 0; j < nc; j++) {
    PetscInt i = ids[j] - rstart;
    if (i < 0 || i >= nlocal) continue;
    for (PetscInt d = 0; d < dim; d++) buf[j * per + d] = X[(size_t)i * dim + d];
    buf[j * per + dim]     = xnorm[i];
    buf[j * per + dim + 1] = sigma ? sigma[i] : 1;
    for (PetscInt a = 0; a < t; a++) buf[j * per + dim + 2 + a] = G[(size_t)i * ldg + a];
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, buf, (PetscMPIInt)n, MPIU_REAL, MPI_SUM, comm));
  for (PetscInt j = 0; j < nc; j++) {
    for (PetscInt d = 0; d < dim; d++) Xc[(size_t)j * dim + d] = (float)buf[j * per + d];
    cnorm[j]  = buf[j * per + dim];
    csigma[j] = buf[j * per + dim + 1];
    for (PetscInt a = 0; a < t; a++) Gc[(size_t)j * ldg + a] = buf[j * per + dim + 2 + a];
  }
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNystrom(MPI_Comm comm, PetscInt nlocal, PetscInt rstart, PetscInt dim, const float X[], const PetscReal sigma[], const SanetNystromSpec *spec, PetscInt neig, PetscReal U[], PetscReal lambda[], PetscReal dinv[])
{
  const PetscInt l = spec->ncols;
  PetscInt       Nglobal, nc, *picked, *cand, lused = l;
  PetscReal     *xnorm, *G, *Gc, *cnorm, *csigma, *R, *dot, *score, *colsum, *M, *evals, *work;
  float         *Xc;
  PetscBLASInt   bl, lwork, info;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(&nlocal, &Nglobal, 1, MPIU_INT, MPI_SUM, comm));
  PetscCheck(neig <= l && l <= Nglobal, comm, PETSC_ERR_ARG_OUTOFRANGE, "Nystrom needs eigenvectors (%" PetscInt_FMT ") <= columns (%" PetscInt_FMT ") <= rows (%" PetscInt_FMT ")", neig, l, Nglobal);
  /* uniform selection still draws a few candidates: duplicated rows (flat patches) have
     nothing left to add once one of them is a landmark, and are passed over */
  nc = PetscMin(spec->select == SANET_LANDMARKS_SMGA ? spec->candidates : 4, Nglobal);
  PetscCall(PetscMalloc1(nlocal + 1, &xnorm));
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscReal s = 0;
    for (PetscInt d = 0; d < dim; d++) s += (PetscReal)X[(size_t)i * dim + d] * X[(size_t)i * dim + d];
    xnorm[i] = s;
  }
  PetscCall(PetscCalloc1((size_t)nlocal * l + 1, &G));
  PetscCall(PetscMalloc4((size_t)nc * dim, &Xc, nc, &cnorm, nc, &csigma, (size_t)nc * l, &Gc));
  PetscCall(PetscMalloc4((size_t)nlocal * nc + 1, &R, (size_t)nlocal * nc + 1, &dot, nc, &score, l, &picked));
  PetscCall(PetscMalloc1(nc, &cand));

  /* Incremental Cholesky: column t of G is the residual kernel column of landmark t,
     scaled by its residual diagonal, so G G^T = C W^-1 C^T on the chosen landmarks. */
  for (PetscInt t = 0; t < l; t++) {
    PetscInt  best = 0;
    PetscReal diag;
    for (PetscInt j = 0; j < nc; j++) {
      PetscBool fresh;
      unsigned long draw = (unsigned long)(t * nc + j);
      do { /* a random global row not yet picked, the same on every rank */
        cand[j] = (PetscInt)(SanetRandUniform(spec->seed, 5000 + spec->stream, draw) * Nglobal);
        draw += (unsigned long)l * nc;
        fresh = PETSC_TRUE;
        for (PetscInt a = 0; a < t; a++) fresh = (PetscBool)(fresh && picked[a] != cand[j]);
        for (PetscInt a = 0; a < j; a++) fresh = (PetscBool)(fresh && cand[a] != cand[j]);
      } while (!fresh);
    }
    PetscCall(GatherRows(comm, rstart, nlocal, dim, X, xnorm, sigma, t, G, l, nc, cand, Xc, cnorm, csigma, Gc));
    KernelBlock(nlocal, dim, X, xnorm, sigma, nc, Xc, cnorm, csigma, &spec->weight, dot, R);
    if (t > 0 && nlocal > 0) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nlocal, (int)nc, (int)t, -1.0, G, (int)l, Gc, (int)l, 1.0, R, (int)nc);
    if (spec->select == SANET_LANDMARKS_UNIFORM) {
      for (best = 0; best < nc - 1; best++) {
        PetscReal g2 = 0;
        for (PetscInt a = 0; a < t; a++) g2 += Gc[best * l + a] * Gc[best * l + a];
        if (1 - g2 > 1e-8) break;
      }
    } else {
      /* SMGA score: squared residual column norm over residual diagonal */
      for (PetscInt j = 0; j < nc; j++) score[j] = 0;
      for (PetscInt i = 0; i < nlocal; i++)
        for (PetscInt j = 0; j < nc; j++) score[j] += R[i * nc + j] * R[i * nc + j];
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, score, (PetscMPIInt)nc, MPIU_REAL, MPI_SUM, comm));
      for (PetscInt j = 0; j < nc; j++) {
        PetscReal g2 = 0;
        for (PetscInt a = 0; a < t; a++) g2 += Gc[j * l + a] * Gc[j * l + a];
        score[j] = 1 - g2 > 1e-10 ? score[j] / (1 - g2) : 0;
        if (score[j] > score[best]) best = j;
      }
    }
    diag = 1;
    for (PetscInt a = 0; a < t; a++) diag -= Gc[best * l + a] * Gc[best * l + a];
    if (diag <= 1e-8) { /* the data have no more independent directions */
      lused = t;
      break;
    }
    picked[t] = cand[best];
    diag      = 1 / PetscSqrtReal(diag);
    for (PetscInt i = 0; i < nlocal; i++) G[(size_t)i * l + t] = R[i * nc + best] * diag;
  }

  PetscCheck(lused >= neig, comm, PETSC_ERR_ARG_OUTOFRANGE, "Nystrom: the kernel has rank %" PetscInt_FMT " on these rows, fewer than the %" PetscInt_FMT " eigenvectors wanted", lused, neig);
  if (lused < l) PetscCall(PetscInfo(NULL, "Nystrom: kernel exhausted after %" PetscInt_FMT " of %" PetscInt_FMT " columns\n", lused, l));
  /* Degrees of the approximate affinity: d = G (G^T 1). Approximation can make a few
     degrees tiny or negative; those rows get D^-1/2 = 0 (no features). */
  PetscCall(PetscCalloc1(l, &colsum));
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt a = 0; a < l; a++) colsum[a] += G[(size_t)i * l + a];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, colsum, (PetscMPIInt)l, MPIU_REAL, MPI_SUM, comm));
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscReal d = 0;
    for (PetscInt a = 0; a < l; a++) d += G[(size_t)i * l + a] * colsum[a];
    dinv[i] = d > 1e-12 ? 1 / PetscSqrtReal(d) : 0;
    for (PetscInt a = 0; a < l; a++) G[(size_t)i * l + a] *= dinv[i];
  }
  /* H = D^-1/2 G; H H^T and H^T H share their nonzero eigenvalues. */
  PetscCall(PetscCalloc3((size_t)l * l, &M, l, &evals, 3 * l, &work));
  if (nlocal > 0) cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)l, (int)l, (int)nlocal, 1.0, G, (int)l, G, (int)l, 0.0, M, (int)l);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, M, (PetscMPIInt)(l * l), MPIU_REAL, MPI_SUM, comm));
  PetscCall(PetscBLASIntCast(l, &bl));
  PetscCall(PetscBLASIntCast(3 * l, &lwork));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bl, M, &bl, evals, work, &lwork, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_LIB, "LAPACK syev failed on the %" PetscInt_FMT "x%" PetscInt_FMT " Nystrom matrix (info %d)", l, l, (int)info);
  /* syev: ascending eigenvalues, eigenvectors in the columns of the column-major M
     (rows of our row-major view). U = H V Lambda^-1/2, largest first. */
  for (PetscInt e = 0; e < neig; e++) {
    PetscInt        src = l - 1 - e;
    PetscReal       s   = evals[src] > 1e-14 ? 1 / PetscSqrtReal(evals[src]) : 0;
    const PetscReal *v  = M + (size_t)src * l;
    lambda[e]           = evals[src];
    for (PetscInt i = 0; i < nlocal; i++) {
      PetscReal u = 0;
      for (PetscInt a = 0; a < l; a++) u += G[(size_t)i * l + a] * v[a];
      U[(size_t)i * neig + e] = u * s;
    }
  }
  PetscCall(PetscFree3(M, evals, work));
  PetscCall(PetscFree(colsum));
  PetscCall(PetscFree(cand));
  PetscCall(PetscFree4(R, dot, score, picked));
  PetscCall(PetscFree4(Xc, cnorm, csigma, Gc));
  PetscCall(PetscFree(G));
  PetscCall(PetscFree(xnorm));
  PetscFunctionReturn(0);
}
