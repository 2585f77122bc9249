/* Test of SanetKMeans on Gaussian blobs generated from global row indices (so every
   rank count sees the same data), or on rows read from a text file (-data FILE: first
   line "N dim", then N rows).
   Checks: labels identical to a serial recomputation on rank 0 (same options), and,
   for blobs with -check_ari, perfect recovery of the truth (ARI = 1).
   Prints "kmeans: N=.. K=.. inertia=.. hash=.." for tests/kmeans_ranks.sh, which
   compares these lines across rank counts and the inertia with scikit-learn.
   -write FILE writes the data (rank 0), -labels_out FILE the labels, for those scripts. */
#include "sanet.h"
#include <time.h>

typedef struct {
  PetscInt  N, dim, K;
  PetscReal spread; /* standard deviation of each blob; centres lie in [-10,10]^dim */
} Blobs;

/* Row g: blob g % K, centre from stream 1, Box-Muller noise from stream 2. */
static void BlobRow(const Blobs *b, PetscInt g, PetscReal *x, PetscInt *truth)
{
  PetscInt j = g % b->K;

  for (PetscInt d = 0; d < b->dim; d++) {
    PetscReal c  = 20 * SanetRandUniform(11, 1, (unsigned long)(j * b->dim + d)) - 10;
    PetscReal u1 = SanetRandUniform(11, 2, 2 * (unsigned long)(g * b->dim + d));
    PetscReal u2 = SanetRandUniform(11, 2, 2 * (unsigned long)(g * b->dim + d) + 1);
    x[d]         = c + b->spread * PetscSqrtReal(-2 * PetscLogReal(1 - u1)) * PetscCosReal(2 * PETSC_PI * u2);
  }
  *truth = j;
}

/* Whole data set (N x dim) on the calling rank, from blobs or from a file. */
static PetscErrorCode LoadAll(const char file[], Blobs *b, PetscReal **X, PetscInt **truth)
{
  PetscFunctionBegin;
  if (file[0]) {
    FILE *fp;
    int   n, dim;

    PetscCall(PetscFOpen(PETSC_COMM_SELF, file, "r", &fp));
    PetscCheck(fscanf(fp, "%d %d", &n, &dim) == 2 && n > 0 && dim > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-data %s: first line must be \"N dim\" with positive values", file);
    b->N   = n;
    b->dim = dim;
    PetscCall(PetscMalloc1((size_t)n * dim, X));
    for (size_t k = 0; k < (size_t)n * dim; k++) {
      double v;
      PetscCheck(fscanf(fp, "%lf", &v) == 1, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-data %s: value %zu of %d x %d is missing or not a number", file, k, n, dim);
      (*X)[k] = v;
    }
    PetscCall(PetscFClose(PETSC_COMM_SELF, fp));
    *truth = NULL;
  } else {
    PetscCall(PetscMalloc1((size_t)b->N * b->dim, X));
    PetscCall(PetscMalloc1(b->N, truth));
    for (PetscInt g = 0; g < b->N; g++) BlobRow(b, g, *X + (size_t)g * b->dim, *truth + g);
  }
  PetscFunctionReturn(0);
}

/* FNV-1a over the labels in global order */
static unsigned long long Hash(PetscInt n, const PetscInt lab[])
{
  unsigned long long h = 1469598103934665603ULL;
  for (PetscInt i = 0; i < n; i++) {
    h ^= (unsigned long long)lab[i];
    h *= 1099511628211ULL;
  }
  return h;
}

int main(int argc, char **argv)
{
  Blobs        b = {2000, 5, 4, 0.5};
  char         data[PETSC_MAX_PATH_LEN] = "", wfile[PETSC_MAX_PATH_LEN] = "", lfile[PETSC_MAX_PATH_LEN] = "";
  PetscBool    check_ari = PETSC_FALSE, serial = PETSC_TRUE, replicated = PETSC_FALSE;
  PetscReal   *Xrep = NULL, serial_inertia = -1;
  PetscMPIInt  rank, size;
  PetscInt     nlocal, rstart = 0, *lab, *all = NULL, *truth = NULL;
  PetscReal   *X = NULL, inertia;
  PetscLogDouble t0, t1, c0, c1;
  SanetKMeans  km;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "k-means test"));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "k-means test", NULL);
  PetscCall(PetscOptionsInt("-n", "Blob rows", NULL, b.N, &b.N, NULL));
  PetscCall(PetscOptionsInt("-dim", "Blob dimension", NULL, b.dim, &b.dim, NULL));
  PetscCall(PetscOptionsInt("-k", "Blobs (and the default cluster count)", NULL, b.K, &b.K, NULL));
  PetscCall(PetscOptionsReal("-spread", "Blob standard deviation", NULL, b.spread, &b.spread, NULL));
  PetscCall(PetscOptionsString("-data", "Text file of rows instead of blobs", NULL, data, data, sizeof(data), NULL));
  PetscCall(PetscOptionsString("-write", "Write the data as text (rank 0)", NULL, wfile, wfile, sizeof(wfile), NULL));
  PetscCall(PetscOptionsString("-labels_out", "Write the labels as text (rank 0)", NULL, lfile, lfile, sizeof(lfile), NULL));
  PetscCall(PetscOptionsBool("-check_ari", "Require ARI = 1 against the blob truth", NULL, check_ari, &check_ari, NULL));
  PetscCall(PetscOptionsBool("-serial_check", "Compare with a serial recomputation on rank 0", NULL, serial, &serial, NULL));
  PetscCall(PetscOptionsBool("-replicated", "Every rank holds all rows: SanetKMeansApplyReplicated (restarts shared over ranks)", NULL, replicated, &replicated, NULL));
  PetscOptionsEnd();
  PetscCheck(b.N >= 1 && b.dim >= 1 && b.K >= 1 && b.spread >= 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-n, -dim, -k must be >= 1 and -spread >= 0");

  /* every rank builds the whole (small) data set and keeps its block: simple and
     identical for every rank count */
  {
    PetscReal *Xall;
    PetscInt  *tall;

    PetscCall(LoadAll(data, &b, &Xall, &tall));
    nlocal = PETSC_DECIDE;
    PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &nlocal, &b.N));
    PetscCallMPI(MPI_Exscan(&nlocal, &rstart, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
    if (rank == 0) rstart = 0;
    PetscCall(PetscMalloc1((size_t)nlocal * b.dim, &X));
    PetscCall(PetscArraycpy(X, Xall + (size_t)rstart * b.dim, (size_t)nlocal * b.dim));
    if (wfile[0] && rank == 0) {
      FILE *fp;
      PetscCall(PetscFOpen(PETSC_COMM_SELF, wfile, "w", &fp));
      PetscCall(PetscFPrintf(PETSC_COMM_SELF, fp, "%" PetscInt_FMT " %" PetscInt_FMT "\n", b.N, b.dim));
      for (PetscInt g = 0; g < b.N; g++)
        for (PetscInt d = 0; d < b.dim; d++) PetscCall(PetscFPrintf(PETSC_COMM_SELF, fp, "%.17g%s", (double)Xall[(size_t)g * b.dim + d], d + 1 < b.dim ? " " : "\n"));
      PetscCall(PetscFClose(PETSC_COMM_SELF, fp));
    }
    if (rank == 0) truth = tall;
    else PetscCall(PetscFree(tall));
    if (rank == 0 && serial) {
      /* serial recomputation with the same options, on the full data */
      SanetKMeans ks;
      PetscInt   *ls;
      PetscReal   is;

      PetscCall(PetscMalloc1(b.N, &ls));
      PetscCall(SanetKMeansCreate(PETSC_COMM_SELF, &ks));
      PetscCall(SanetKMeansSetOptionsPrefix(ks, "kmeans_"));
      PetscCall(SanetKMeansSetClusters(ks, b.K));
      PetscCall(SanetKMeansSetFromOptions(ks));
      PetscCall(SanetKMeansApply(ks, b.N, b.dim, Xall, ls, &is));
      PetscCall(SanetKMeansDestroy(&ks));
      serial_inertia = is;
      all = ls; /* compared below with the parallel labels */
    }
    if (replicated) Xrep = Xall;
    else PetscCall(PetscFree(Xall));
  }

  PetscCall(SanetKMeansCreate(PETSC_COMM_WORLD, &km));
  PetscCall(SanetKMeansSetOptionsPrefix(km, "kmeans_"));
  PetscCall(SanetKMeansSetClusters(km, b.K));
  PetscCall(SanetKMeansSetFromOptions(km));
  PetscCall(PetscMalloc1(nlocal, &lab));
  PetscCall(PetscTime(&t0));
  c0 = (PetscLogDouble)clock() / CLOCKS_PER_SEC; /* process CPU time: the machine may be shared */
  if (replicated) {
    PetscInt *lall;
    PetscCall(PetscMalloc1(b.N, &lall));
    PetscCall(SanetKMeansApplyReplicated(km, b.N, b.dim, Xrep, lall, &inertia));
    PetscCall(PetscArraycpy(lab, lall + rstart, nlocal));
    PetscCall(PetscFree(lall));
    /* the winner is one serial restart: its inertia is bitwise the serial run's */
    PetscCheck(!(rank == 0 && serial) || inertia == serial_inertia, PETSC_COMM_SELF, PETSC_ERR_PLIB, "replicated inertia %.17g, serial %.17g", (double)inertia, (double)serial_inertia);
  } else PetscCall(SanetKMeansApply(km, nlocal, b.dim, X, lab, &inertia));
  PetscCall(PetscTime(&t1));
  c1 = (PetscLogDouble)clock() / CLOCKS_PER_SEC;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "kmeans: apply %.3f s wall, %.3f s CPU on rank 0, %d ranks\n", t1 - t0, c1 - c0, size));
  PetscCall(SanetKMeansView(km, PETSC_VIEWER_STDOUT_WORLD));

  /* gather the parallel labels in global order on rank 0 */
  {
    PetscMPIInt *counts = NULL, *displs = NULL, nl;
    PetscInt    *glab   = NULL;

    PetscCall(PetscMPIIntCast(nlocal, &nl));
    if (rank == 0) {
      PetscCall(PetscMalloc3(size, &counts, size, &displs, b.N, &glab));
    }
    PetscCallMPI(MPI_Gather(&nl, 1, MPI_INT, counts, 1, MPI_INT, 0, PETSC_COMM_WORLD));
    if (rank == 0) {
      displs[0] = 0;
      for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
    }
    PetscCallMPI(MPI_Gatherv(lab, nl, MPIU_INT, glab, counts, displs, MPIU_INT, 0, PETSC_COMM_WORLD));
    if (rank == 0) {
      PetscInt nk = 0;

      for (PetscInt i = 0; i < b.N; i++) {
        PetscCheck(glab[i] >= 0 && glab[i] < b.K, PETSC_COMM_SELF, PETSC_ERR_PLIB, "label %" PetscInt_FMT " of row %" PetscInt_FMT " outside 0..%" PetscInt_FMT, glab[i], i, b.K - 1);
        nk = PetscMax(nk, glab[i] + 1);
      }
      if (all) {
        PetscInt ndiff = 0;
        for (PetscInt i = 0; i < b.N; i++) ndiff += glab[i] != all[i];
        PetscCheck(ndiff == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " of %" PetscInt_FMT " labels on %d ranks differ from the serial recomputation", ndiff, b.N, size);
        PetscCall(PetscPrintf(PETSC_COMM_SELF, "kmeans: labels on %d ranks identical to the serial run\n", size));
      }
      if (truth) {
        SanetMetrics m;

        PetscCall(SanetMetricsCompute(b.N, truth, glab, &m));
        PetscCall(PetscPrintf(PETSC_COMM_SELF, "kmeans: vs truth ACC=%.6f NMI=%.6f ARI=%.6f FS=%.6f\n", (double)m.acc, (double)m.nmi, (double)m.ari, (double)m.fs));
        PetscCheck(!check_ari || m.ari == 1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "well separated blobs not recovered: ARI %.17g", (double)m.ari);
        PetscCall(SanetMetricsDestroy(&m));
      }
      if (lfile[0]) {
        FILE *fp;
        PetscCall(PetscFOpen(PETSC_COMM_SELF, lfile, "w", &fp));
        for (PetscInt i = 0; i < b.N; i++) PetscCall(PetscFPrintf(PETSC_COMM_SELF, fp, "%" PetscInt_FMT "\n", glab[i]));
        PetscCall(PetscFClose(PETSC_COMM_SELF, fp));
      }
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "kmeans: N=%" PetscInt_FMT " K=%" PetscInt_FMT " used=%" PetscInt_FMT " inertia=%.12e hash=%016llx\n", b.N, b.K, nk, (double)inertia, Hash(b.N, glab)));
      PetscCall(PetscFree3(counts, displs, glab));
    }
  }
  PetscCall(SanetKMeansDestroy(&km));
  PetscCall(PetscFree(lab));
  PetscCall(PetscFree(X));
  PetscCall(PetscFree(Xrep));
  PetscCall(PetscFree(all));
  PetscCall(PetscFree(truth));
  PetscCall(PetscFinalize());
  return 0;
}
