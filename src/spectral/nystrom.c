#include "sanet.h"
#include <cblas.h>
#include <petscblaslapack.h>

const char *const SanetLandmarkTypes[]   = {"smga", "uniform", "SanetLandmarks", "SANET_LANDMARKS_", NULL};
const char *const SanetNystromEigTypes[] = {"auto", "lapack", "scalapack", "SanetNystromEig", "SANET_NYSTROM_EIG_", NULL};

/* ScaLAPACK and BLACS have no header in Debian. Their integers are Fortran INTEGERs, as
   wide as the BLAS's (PetscBLASInt). */
PetscBLASInt Csys2blacs_handle(MPI_Comm);
void         Cfree_blacs_system_handle(PetscBLASInt);
void         Cblacs_gridinit(PetscBLASInt *, const char *, PetscBLASInt, PetscBLASInt);
void         Cblacs_gridinfo(PetscBLASInt, PetscBLASInt *, PetscBLASInt *, PetscBLASInt *, PetscBLASInt *);
void         Cblacs_gridexit(PetscBLASInt);
PetscBLASInt numroc_(const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *);
void         descinit_(PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, PetscBLASInt *);
void         pdsyevr_(const char *, const char *, const char *, const PetscBLASInt *, PetscReal *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, const PetscReal *, const PetscReal *, const PetscBLASInt *, const PetscBLASInt *, PetscBLASInt *, PetscBLASInt *, PetscReal *, PetscReal *, const PetscBLASInt *, const PetscBLASInt *, const PetscBLASInt *, PetscReal *, const PetscBLASInt *, PetscBLASInt *, const PetscBLASInt *, PetscBLASInt *);

static PetscLogEvent SANET_NYSTROM_EIG_EVENT = 0;

/* Kernel values between the local rows and a set of broadcast rows (row-major). */
static void KernelBlock(PetscInt nlocal, PetscInt dim, const float X[], const PetscReal xnorm[], const PetscReal sigma[], PetscInt nc, const float Xc[], const PetscReal cnorm[], const PetscReal csigma[], const SanetWeightSpec *w, PetscReal *dot, PetscReal K[])
{
  float *tmp = (float *)dot; /* float GEMM output fits in the double buffer */
  if (nlocal > 0 && nc > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nlocal, (int)nc, (int)dim, 1.0f, X, (int)dim, Xc, (int)dim, 0.0f, tmp, (int)nc);
  for (PetscInt i = nlocal - 1; i >= 0; i--)
    for (PetscInt j = nc - 1; j >= 0; j--) {
      PetscReal d2 = PetscMax(xnorm[i] + cnorm[j] - 2.0 * tmp[i * nc + j], 0.0);
      K[i * nc + j] = SanetWeightValue(w, d2, w->type == SANET_WEIGHT_SELFTUNE ? sigma[i] * csigma[j] : 1);
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

/* The top neig eigenpairs of the l x l matrix H^T H, H (row-major) having nlocal rows on
   each rank: lambda descending, eigenvector e in V[e l .. e l + l) on every rank. Here
   summed on every rank and solved by LAPACK on each. */
static PetscErrorCode LandmarkEigLAPACK(MPI_Comm comm, PetscInt nlocal, PetscInt l, const PetscReal H[], PetscInt neig, PetscReal lambda[], PetscReal V[])
{
  PetscReal   *M, *evals, *work, wquery;
  PetscBLASInt bl, lwork = -1, info;
  PetscMPIInt  count;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1((size_t)l * l, &M));
  if (nlocal > 0) cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)l, (int)l, (int)nlocal, 1.0, H, (int)l, H, (int)l, 0.0, M, (int)l);
  PetscCall(PetscMPIIntCast(l * l, &count));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, M, count, MPIU_REAL, MPI_SUM, comm));
  PetscCall(PetscBLASIntCast(l, &bl));
  PetscCall(PetscMalloc1(l, &evals));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bl, M, &bl, evals, &wquery, &lwork, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_LIB, "LAPACK syev workspace query failed on the %" PetscInt_FMT "x%" PetscInt_FMT " Nystrom matrix (info %d)", l, l, (int)info);
  PetscCall(PetscBLASIntCast((PetscInt)wquery, &lwork));
  PetscCall(PetscMalloc1(lwork, &work));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bl, M, &bl, evals, work, &lwork, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_LIB, "LAPACK syev failed on the %" PetscInt_FMT "x%" PetscInt_FMT " Nystrom matrix (info %d)", l, l, (int)info);
  /* ascending eigenvalues, eigenvectors in the columns of the column-major M */
  for (PetscInt e = 0; e < neig; e++) {
    lambda[e] = evals[l - 1 - e];
    PetscCall(PetscArraycpy(V + (size_t)e * l, M + (size_t)(l - 1 - e) * l, l));
  }
  PetscCall(PetscFree(work));
  PetscCall(PetscFree(evals));
  PetscCall(PetscFree(M));
  PetscFunctionReturn(0);
}

/* Owner and local index of each of n global indices dealt in blocks of nb to nprocs. */
static void BlockCyclic(PetscInt n, PetscBLASInt nb, PetscBLASInt nprocs, PetscBLASInt owner[], PetscInt local[])
{
  for (PetscInt g = 0; g < n; g++) {
    owner[g] = (PetscBLASInt)((g / nb) % nprocs);
    local[g] = g / ((PetscInt)nb * nprocs) * nb + g % nb;
  }
}

/* The same by ScaLAPACK's MRRR solver (the wanted pairs only) on a BLACS grid over comm.
   The ranks' products are summed straight into the 2-D block-cyclic pieces of H^T H, so no
   rank holds the whole sum; only the l x neig eigenvectors are brought to every rank. */
static PetscErrorCode LandmarkEigScaLAPACK(MPI_Comm comm, PetscInt nlocal, PetscInt l, const PetscReal H[], PetscInt neig, PetscReal lambda[], PetscReal V[])
{
  PetscMPIInt   size, rank, *counts, count;
  PetscBLASInt  sysctxt, ctxt, nprow, npcol, myrow, mycol, n, nb, nwanted, zero = 0, one = 1, il, iu, found, nfound, lld, desc[9], lwork = -1, liwork = -1, iquery, info;
  PetscBLASInt *rowowner, *colowner, *nrowlocal, *ncollocal, *iwork;
  PetscInt     *rowlocal, *collocal;
  size_t       *displs;
  PetscReal    *send, *Alocal, *Zlocal, *W, *work, wquery, vl = 0, vu = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscBLASIntCast(l, &n));
  /* the squarest grid on all the ranks: nprow the largest divisor of size <= sqrt(size) */
  nprow = (PetscBLASInt)PetscSqrtReal((PetscReal)size);
  while (size % nprow) nprow--;
  npcol   = size / nprow;
  sysctxt = Csys2blacs_handle(comm);
  ctxt    = sysctxt;
  Cblacs_gridinit(&ctxt, "Row", nprow, npcol);
  Cblacs_gridinfo(ctxt, &nprow, &npcol, &myrow, &mycol);
  /* the reduce-scatter below sends rank r the piece of grid process (r / npcol, r % npcol) */
  PetscCheck(myrow * npcol + mycol == rank, PETSC_COMM_SELF, PETSC_ERR_LIB, "BLACS put rank %d at (%d,%d) of a %dx%d row-major grid for the %" PetscInt_FMT "x%" PetscInt_FMT " Nystrom matrix", rank, (int)myrow, (int)mycol, (int)nprow, (int)npcol, l, l);
  /* blocks of 64, smaller on small matrices so that every process holds a part */
  nb = (PetscBLASInt)PetscMin(64, (l + PetscMax(nprow, npcol) - 1) / PetscMax(nprow, npcol));
  PetscCall(PetscMalloc4(l, &rowowner, l, &rowlocal, l, &colowner, l, &collocal));
  PetscCall(PetscMalloc4(nprow, &nrowlocal, npcol, &ncollocal, size, &counts, size + 1, &displs));
  BlockCyclic(l, nb, nprow, rowowner, rowlocal);
  BlockCyclic(l, nb, npcol, colowner, collocal);
  for (PetscBLASInt p = 0; p < nprow; p++) nrowlocal[p] = numroc_(&n, &nb, &p, &zero, &nprow);
  for (PetscBLASInt p = 0; p < npcol; p++) ncollocal[p] = numroc_(&n, &nb, &p, &zero, &npcol);
  displs[0] = 0;
  for (PetscMPIInt r = 0; r < size; r++) {
    PetscCall(PetscMPIIntCast((PetscInt)nrowlocal[r / npcol] * ncollocal[r % npcol], &counts[r]));
    displs[r + 1] = displs[r] + (size_t)counts[r];
  }
  /* this rank's product, block by block into the column-major local pieces of the grid
     processes; the upper triangle only, all that pdsyevr reads */
  PetscCall(PetscCalloc1((size_t)l * l, &send));
  if (nlocal > 0)
    for (PetscInt bj = 0; bj < l; bj += nb)
      for (PetscInt bi = 0; bi <= bj; bi += nb) {
        PetscBLASInt prow = rowowner[bi], pcol = colowner[bj];
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)PetscMin(nb, l - bi), (int)PetscMin(nb, l - bj), (int)nlocal, 1.0, H + bi, (int)l, H + bj, (int)l, 0.0, send + displs[prow * npcol + pcol] + rowlocal[bi] + (size_t)collocal[bj] * nrowlocal[prow], (int)nrowlocal[prow]);
      }
  count = counts[rank];
  lld   = PetscMax(1, nrowlocal[myrow]);
  PetscCall(PetscMalloc1(count + 1, &Alocal));
  PetscCallMPI(MPI_Reduce_scatter(send, Alocal, counts, MPIU_REAL, MPI_SUM, comm));
  PetscCall(PetscFree(send));
  PetscCall(PetscMalloc2(count + 1, &Zlocal, l, &W));
  PetscCallBLAS("ScaLAPACKdescinit", descinit_(desc, &n, &n, &nb, &nb, &zero, &zero, &ctxt, &lld, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_LIB, "ScaLAPACK descinit failed on the %" PetscInt_FMT "x%" PetscInt_FMT " Nystrom matrix (info %d)", l, l, (int)info);
  /* pdsyevr sizes the workspace of its back-transformation (PDORMTR) from the number of
     pairs asked for, too small below the block size, and then returns info 0 all the same
     (ScaLAPACK 2.2): ask for at least nb pairs, of which the top neig are kept */
  nwanted = PetscMax(nb, (PetscBLASInt)neig);
  il      = n - nwanted + 1;
  iu      = n;
  PetscCallBLAS("ScaLAPACKpdsyevr", pdsyevr_("V", "I", "U", &n, Alocal, &one, &one, desc, &vl, &vu, &il, &iu, &found, &nfound, W, Zlocal, &one, &one, desc, &wquery, &lwork, &iquery, &liwork, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_LIB, "ScaLAPACK pdsyevr workspace query failed on the %" PetscInt_FMT "x%" PetscInt_FMT " Nystrom matrix (info %d)", l, l, (int)info);
  PetscCall(PetscBLASIntCast((PetscInt)wquery, &lwork));
  liwork = iquery;
  PetscCall(PetscMalloc2(lwork, &work, liwork, &iwork));
  PetscCallBLAS("ScaLAPACKpdsyevr", pdsyevr_("V", "I", "U", &n, Alocal, &one, &one, desc, &vl, &vu, &il, &iu, &found, &nfound, W, Zlocal, &one, &one, desc, work, &lwork, iwork, &liwork, &info));
  PetscCheck(info == 0, comm, PETSC_ERR_LIB, "ScaLAPACK pdsyevr failed on the %" PetscInt_FMT "x%" PetscInt_FMT " Nystrom matrix (info %d)", l, l, (int)info);
  PetscCheck(found == nwanted && nfound == nwanted, comm, PETSC_ERR_LIB, "ScaLAPACK pdsyevr found %d eigenvalues and %d eigenvectors of the %" PetscInt_FMT "x%" PetscInt_FMT " Nystrom matrix, not the %d asked for", (int)found, (int)nfound, l, l, (int)nwanted);
  /* ascending from pdsyevr: the largest is the last column of Z; each entry of V has one
     owner, so a sum brings V to every rank */
  PetscCall(PetscArrayzero(V, (size_t)l * neig));
  for (PetscInt e = 0; e < neig; e++) {
    PetscInt j = nwanted - 1 - e;
    lambda[e]  = W[j];
    if (colowner[j] != mycol) continue;
    for (PetscInt i = 0; i < l; i++)
      if (rowowner[i] == myrow) V[(size_t)e * l + i] = Zlocal[rowlocal[i] + (size_t)collocal[j] * lld];
  }
  PetscCall(PetscMPIIntCast(l * neig, &count));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, V, count, MPIU_REAL, MPI_SUM, comm));
  PetscCall(PetscInfo(NULL, "Nystrom: ScaLAPACK pdsyevr of the %" PetscInt_FMT "x%" PetscInt_FMT " landmark matrix on a %dx%d grid, blocks of %d\n", l, l, (int)nprow, (int)npcol, (int)nb));
  Cblacs_gridexit(ctxt);
  Cfree_blacs_system_handle(sysctxt);
  PetscCall(PetscFree2(work, iwork));
  PetscCall(PetscFree2(Zlocal, W));
  PetscCall(PetscFree(Alocal));
  PetscCall(PetscFree4(nrowlocal, ncollocal, counts, displs));
  PetscCall(PetscFree4(rowowner, rowlocal, colowner, collocal));
  PetscFunctionReturn(0);
}

PetscErrorCode SanetNystrom(MPI_Comm comm, PetscInt nlocal, PetscInt rstart, PetscInt dim, const float X[], const PetscReal sigma[], const SanetNystromSpec *spec, PetscInt neig, PetscReal U[], PetscReal lambda[], PetscReal dinv[])
{
  const PetscInt l = spec->ncols;
  PetscInt       Nglobal, nc, *picked, *cand, lused = l;
  PetscReal     *xnorm, *G, *Gc, *cnorm, *csigma, *R, *dot, *score, *colsum, *V;
  float         *Xc;
  PetscMPIInt    size;
  PetscBool      scalapack;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  if (!SANET_NYSTROM_EIG_EVENT) PetscCall(PetscLogEventRegister("NystromEig", PETSC_OBJECT_CLASSID, &SANET_NYSTROM_EIG_EVENT));
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
  PetscCall(PetscMalloc1((size_t)l * neig, &V));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  /* LAPACK repeats the whole O(l^3) solve on every rank; ScaLAPACK shares it out, at a
     cost in messages that pays on large matrices only */
  scalapack = (PetscBool)(spec->eig == SANET_NYSTROM_EIG_SCALAPACK || (spec->eig == SANET_NYSTROM_EIG_AUTO && size > 1 && l >= spec->scalapack_min));
  PetscCall(PetscTime(&t0));
  PetscCall(PetscLogEventBegin(SANET_NYSTROM_EIG_EVENT, 0, 0, 0, 0));
  if (scalapack) PetscCall(LandmarkEigScaLAPACK(comm, nlocal, l, G, neig, lambda, V));
  else PetscCall(LandmarkEigLAPACK(comm, nlocal, l, G, neig, lambda, V));
  PetscCall(PetscLogEventEnd(SANET_NYSTROM_EIG_EVENT, 0, 0, 0, 0));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscInfo(NULL, "Nystrom: %s eigensolve of the %" PetscInt_FMT "x%" PetscInt_FMT " landmark matrix on %d ranks: %.3f s\n", scalapack ? "ScaLAPACK" : "LAPACK", l, l, size, (double)(t1 - t0)));
  /* U = H V Lambda^-1/2, largest first */
  for (PetscInt e = 0; e < neig; e++) {
    PetscReal        s = lambda[e] > 1e-14 ? 1 / PetscSqrtReal(lambda[e]) : 0;
    const PetscReal *v = V + (size_t)e * l;
    for (PetscInt i = 0; i < nlocal; i++) {
      PetscReal u = 0;
      for (PetscInt a = 0; a < l; a++) u += G[(size_t)i * l + a] * v[a];
      U[(size_t)i * neig + e] = u * s;
    }
  }
  PetscCall(PetscFree(V));
  PetscCall(PetscFree(colsum));
  PetscCall(PetscFree(cand));
  PetscCall(PetscFree4(R, dot, score, picked));
  PetscCall(PetscFree4(Xc, cnorm, csigma, Gc));
  PetscCall(PetscFree(G));
  PetscCall(PetscFree(xnorm));
  PetscFunctionReturn(0);
}
