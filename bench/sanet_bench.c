/* sanet_bench: the "ours" side of `make bench` (bench/run.sh drives it).

   -mode info     OpenBLAS core name, config, OPENBLAS_CORETYPE / thread settings
   -mode gemm     single-precision GEMM rate (cblas_sgemm) at a few sizes, all ranks at once
   -mode knn      layer-1 patches of -input, SanetKNNExact (-k), writes patches/neighbours
   -mode knn_approx  the same, then SanetKNNIVF (-knn_nlist, -knn_nprobe; -exact 0 skips
                  the exact search), writes its lists too
   -mode eig      L_sym eigenvectors (-neig) of the binary kNN graph read from -prefix,
                  SLEPc Krylov-Schur as in src/spectral/proc.c; writes S for the peer;
                  SpMV bandwidth and a STREAM triad in the same run
   -mode scale    knn + graph + eig on -input, peak memory (ru_maxrss) per rank
   -mode kmeans   SanetKMeans on the raw pixels of -input, or on /features of -features

   Every timed phase starts after an MPI_Barrier and ends with one; the printed time is
   the wall time of rank 0. Lines meant for run.sh start with "bench-data:". */
#include <cblas.h>
#include <sys/resource.h>
#include "sanet/h5.h"

static PetscErrorCode Wall(MPI_Comm comm, PetscLogDouble *t)
{
  PetscFunctionBegin;
  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(PetscTime(t));
  PetscFunctionReturn(0);
}

static PetscErrorCode PrintPeakMemory(MPI_Comm comm, const char *tag)
{
  struct rusage ru;
  double        mb, *all = NULL, mx = 0, sum = 0;
  PetscMPIInt   size, rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  getrusage(RUSAGE_SELF, &ru);
  mb = ru.ru_maxrss / 1024.0;
  if (!rank) PetscCall(PetscMalloc1(size, &all));
  PetscCallMPI(MPI_Gather(&mb, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, comm));
  if (!rank) {
    char line[4096] = "";
    for (PetscMPIInt r = 0; r < size; r++) {
      char one[32];
      mx = PetscMax(mx, all[r]);
      sum += all[r];
      PetscCall(PetscSNPrintf(one, sizeof(one), "%s%.1f", r ? "," : "", all[r]));
      PetscCall(PetscStrlcat(line, one, sizeof(line)));
    }
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "bench-data: mem %s P=%d max_mb=%.1f mean_mb=%.1f per_rank_mb=%s\n", tag, size, mx, sum / size, line));
    PetscCall(PetscFree(all));
  }
  PetscFunctionReturn(0);
}

/* ---------------------------------- info / gemm ------------------------------------- */
static PetscErrorCode ModeInfo(void)
{
  const char *ct = getenv("OPENBLAS_CORETYPE"), *nt = getenv("OPENBLAS_NUM_THREADS");

  PetscFunctionBegin;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "bench-data: openblas corename=%s coretype_env=%s num_threads_env=%s config=\"%s\"\n", openblas_get_corename(), ct ? ct : "(unset)", nt ? nt : "(unset)", openblas_get_config()));
  PetscFunctionReturn(0);
}

/* Every rank runs sgemm at the same time; the rate is the sum over ranks. */
static PetscErrorCode ModeGemm(MPI_Comm comm)
{
  const PetscInt shapes[][3] = {
    {512,  512,  512 },
    {1024, 1024, 1024},
    {2048, 2048, 2048},
    {256,  1024, 121 }, /* the kNN tile: 256 queries x 1024 references x 121 dims */
    {256,  1024, 363 }, /* same tile at CIFAR layer-1 dimension */
  };
  PetscMPIInt size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
    const PetscInt m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    float         *A, *B, *C;
    PetscLogDouble t0, t1, best = 1e30, flops = 2.0 * m * n * k;
    PetscInt       reps;

    PetscCall(PetscMalloc3((size_t)m * k, &A, (size_t)n * k, &B, (size_t)m * n, &C));
    for (size_t i = 0; i < (size_t)m * k; i++) A[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < (size_t)n * k; i++) B[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    reps = (PetscInt)PetscMax(1.0, 2e9 / flops);
    /* warm-up, then best of 5 timings of reps calls (the kNN layout: C = A B^T) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, -2.0f, A, k, B, k, 0.0f, C, n);
    for (int t = 0; t < 5; t++) {
      PetscCall(Wall(comm, &t0));
      for (PetscInt r = 0; r < reps; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, -2.0f, A, k, B, k, 0.0f, C, n);
      PetscCall(Wall(comm, &t1));
      best = PetscMin(best, (t1 - t0) / reps);
    }
    PetscCall(PetscPrintf(comm, "bench-data: gemm m=%" PetscInt_FMT " n=%" PetscInt_FMT " k=%" PetscInt_FMT " ranks=%d gflops_total=%.2f gflops_per_rank=%.2f\n", m, n, k, size, size * flops / best / 1e9, flops / best / 1e9));
    PetscCall(PetscFree3(A, B, C));
  }
  PetscFunctionReturn(0);
}

/* ------------------------------------- patches -------------------------------------- */
/* Layer-1 patches exactly as src/layer/layer.c makes them for -sal1_patch 11 -sal1_stride 5
   (padding and centring on for the first layer), as floats like the layer hands to kNN. */
static PetscErrorCode LoadPatches(MPI_Comm comm, const char *input, PetscInt ph, PetscInt stride, PetscInt *nlocal, PetscInt *dim, PetscInt *rstart, PetscInt *Nglobal, float **Xf)
{
  PetscInt n;

  PetscFunctionBegin;
  PetscCall(SanetPatchesLoad(comm, input, ph, stride, &n, dim, Xf));
  *nlocal = n;
  PetscCallMPI(MPI_Allreduce(&n, Nglobal, 1, MPIU_INT, MPI_SUM, comm));
  PetscCallMPI(MPI_Exscan(&n, rstart, 1, MPIU_INT, MPI_SUM, comm));
  {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    if (!rank) *rstart = 0;
  }
  PetscFunctionReturn(0);
}

/* Writes the rows [rstart, rstart+n) of a global row-major array of rowbytes per row into
   path with MPI-IO (one file, global order). */
static PetscErrorCode WriteRows(MPI_Comm comm, const char *path, const void *buf, PetscInt n, PetscInt rstart, size_t rowbytes)
{
  MPI_File fh;

  PetscFunctionBegin;
  PetscCallMPI(MPI_File_open(comm, path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh));
  PetscCallMPI(MPI_File_set_size(fh, 0));
  PetscCallMPI(MPI_File_write_at_all(fh, (MPI_Offset)rstart * rowbytes, buf, (int)(n * rowbytes), MPI_BYTE, MPI_STATUS_IGNORE));
  PetscCallMPI(MPI_File_close(&fh));
  PetscFunctionReturn(0);
}

static PetscErrorCode ReadRows(MPI_Comm comm, const char *path, void *buf, PetscInt n, PetscInt rstart, size_t rowbytes)
{
  MPI_File fh;

  PetscFunctionBegin;
  PetscCallMPI(MPI_File_open(comm, path, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh));
  PetscCallMPI(MPI_File_read_at_all(fh, (MPI_Offset)rstart * rowbytes, buf, (int)(n * rowbytes), MPI_BYTE, MPI_STATUS_IGNORE));
  PetscCallMPI(MPI_File_close(&fh));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunKNN(MPI_Comm comm, PetscInt n, PetscInt dim, PetscInt N, const float *Xf, PetscInt k, PetscInt **nbr, PetscReal **d2, PetscLogDouble *sec)
{
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2((size_t)n * k + 1, nbr, (size_t)n * k + 1, d2));
  PetscCall(Wall(comm, &t0));
  PetscCall(SanetKNNExact(comm, NULL, n, dim, Xf, k, *nbr, *d2));
  PetscCall(Wall(comm, &t1));
  *sec = t1 - t0;
  PetscFunctionReturn(0);
}

/* Neighbour lists as PREFIX.SUFFIX.{nbr.i32,d2.f64} in global row order. */
static PetscErrorCode WriteNeighbors(MPI_Comm comm, const char *prefix, const char *suffix, PetscInt n, PetscInt rstart, PetscInt k, const PetscInt *nbr, const PetscReal *d2)
{
  int32_t *nb32;
  char     path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(PetscMalloc1((size_t)n * k + 1, &nb32));
  for (size_t i = 0; i < (size_t)n * k; i++) nb32[i] = (int32_t)nbr[i];
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s%s.nbr.i32", prefix, suffix));
  PetscCall(WriteRows(comm, path, nb32, n, rstart, sizeof(int32_t) * k));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s%s.d2.f64", prefix, suffix));
  PetscCall(WriteRows(comm, path, d2, n, rstart, sizeof(PetscReal) * k));
  PetscCall(PetscFree(nb32));
  PetscFunctionReturn(0);
}

/* The patches (PREFIX.patches.f32) and their exact neighbours (PREFIX.nbr.i32, .d2.f64). */
static PetscErrorCode WriteExact(MPI_Comm comm, const char *prefix, PetscInt n, PetscInt rstart, PetscInt N, PetscInt dim, const float *Xf, PetscInt k, const PetscInt *nbr, const PetscReal *d2)
{
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s.patches.f32", prefix));
  PetscCall(WriteRows(comm, path, Xf, n, rstart, sizeof(float) * dim));
  PetscCall(WriteNeighbors(comm, prefix, "", n, rstart, k, nbr, d2));
  PetscCall(PetscPrintf(comm, "bench-data: knn-files %s.{patches.f32,nbr.i32,d2.f64} rows=%" PetscInt_FMT " dim=%" PetscInt_FMT " k=%" PetscInt_FMT "\n", prefix, N, dim, k));
  PetscFunctionReturn(0);
}

static PetscErrorCode ModeKNN(MPI_Comm comm, const char *input, const char *prefix, PetscInt k)
{
  PetscInt       n, dim, rstart, N, *nbr;
  PetscReal     *d2;
  float         *Xf;
  PetscLogDouble sec;
  PetscMPIInt    size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(LoadPatches(comm, input, 11, 5, &n, &dim, &rstart, &N, &Xf));
  PetscCall(RunKNN(comm, n, dim, N, Xf, k, &nbr, &d2, &sec));
  PetscCall(PetscPrintf(comm, "bench-data: knn ranks=%d N=%" PetscInt_FMT " dim=%" PetscInt_FMT " k=%" PetscInt_FMT " seconds=%.3f gflops=%.2f\n", size, N, dim, k, sec, 2.0 * N * (double)N * dim / sec / 1e9));
  if (prefix[0]) PetscCall(WriteExact(comm, prefix, n, rstart, N, dim, Xf, k, nbr, d2));
  PetscCall(PetscFree2(nbr, d2));
  PetscCall(PetscFree(Xf));
  PetscFunctionReturn(0);
}

/* ----------------------------------- knn_approx ------------------------------------- */
/* SanetKNNIVF (-knn_nlist, -knn_nprobe) on the same patches, after the exact search
   unless -exact 0 (then PREFIX.nbr.i32 of an earlier run is the reference); writes the
   IVF lists as PREFIX.ivf.{nbr.i32,d2.f64} for peers.py, which computes every side's
   recall against the exact lists. */
static PetscErrorCode ModeKNNApprox(MPI_Comm comm, const char *input, const char *prefix, PetscInt k, PetscBool exact)
{
  PetscInt       n, dim, rstart, N, *nbr;
  PetscReal     *d2;
  float         *Xf;
  PetscLogDouble sec = 0, t0, t1;
  PetscMPIInt    size;
  SanetKNNSpec   spec;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(SanetKNNSpecSetFromOptions(comm, NULL, 0, 0, &spec));
  PetscCall(LoadPatches(comm, input, 11, 5, &n, &dim, &rstart, &N, &Xf));
  if (exact) {
    PetscCall(RunKNN(comm, n, dim, N, Xf, k, &nbr, &d2, &sec));
    if (prefix[0]) PetscCall(WriteExact(comm, prefix, n, rstart, N, dim, Xf, k, nbr, d2));
  } else PetscCall(PetscMalloc2((size_t)n * k + 1, &nbr, (size_t)n * k + 1, &d2));
  PetscCall(Wall(comm, &t0));
  PetscCall(SanetKNNIVF(comm, &spec, n, dim, Xf, k, nbr, d2));
  PetscCall(Wall(comm, &t1));
  PetscCall(PetscPrintf(comm, "bench-data: knn-approx ranks=%d N=%" PetscInt_FMT " dim=%" PetscInt_FMT " k=%" PetscInt_FMT " nlist=%" PetscInt_FMT " nprobe=%" PetscInt_FMT " exact_seconds=%.3f seconds=%.3f\n", size, N, dim, k, spec.nlist, spec.nprobe, sec, t1 - t0));
  if (prefix[0]) PetscCall(WriteNeighbors(comm, prefix, ".ivf", n, rstart, k, nbr, d2));
  PetscCall(PetscFree2(nbr, d2));
  PetscCall(PetscFree(Xf));
  PetscFunctionReturn(0);
}

/* --------------------------------------- eig ---------------------------------------- */
/* S = D^-1/2 W D^-1/2 of the binary symmetrized kNN graph (SanetGraphFromNeighbors). */
static PetscErrorCode BuildS(MPI_Comm comm, PetscInt n, PetscInt k, const PetscInt *nbr, const PetscReal *d2, Mat *S)
{
  SanetWeightSpec ws = {SANET_WEIGHT_BINARY, 0.1, 7};
  Vec             dinv;
  PetscScalar    *d;

  PetscFunctionBegin;
  PetscCall(SanetGraphFromNeighbors(comm, n, k, k, nbr, d2, PETSC_MAX_REAL, &ws, S));
  PetscCall(MatCreateVecs(*S, &dinv, NULL));
  PetscCall(MatGetRowSum(*S, dinv));
  PetscCall(VecGetArray(dinv, &d));
  for (PetscInt i = 0; i < n; i++) d[i] = PetscRealPart(d[i]) > 0 ? 1 / PetscSqrtReal(PetscRealPart(d[i])) : 0;
  PetscCall(VecRestoreArray(dinv, &d));
  PetscCall(MatDiagonalScale(*S, dinv, dinv));
  PetscCall(VecDestroy(&dinv));
  PetscFunctionReturn(0);
}

/* One Krylov-Schur solve as KrylovSolveOnce in src/spectral/proc.c (largest real of S,
   tol 1e-6 unless -eps_tol, start vector from SanetRandUniform). */
static PetscErrorCode SolveS(MPI_Comm comm, Mat S, PetscInt neig, PetscReal tol, PetscLogDouble *sec, PetscInt *its, PetscInt *nconv, PetscReal *maxres, PetscReal *lmin, PetscInt *ncv)
{
  EPS            eps;
  Vec            v0, x;
  PetscInt       rstart, rend, mpd;
  PetscScalar   *a;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(MatCreateVecs(S, &v0, &x));
  PetscCall(MatGetOwnershipRange(S, &rstart, &rend));
  PetscCall(VecGetArray(v0, &a));
  for (PetscInt i = rstart; i < rend; i++) a[i - rstart] = SanetRandUniform(0, 1000, i) - 0.5;
  PetscCall(VecRestoreArray(v0, &a));
  PetscCall(EPSCreate(comm, &eps));
  PetscCall(EPSSetOperators(eps, S, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
  PetscCall(EPSSetDimensions(eps, neig, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, tol, 1000));
  PetscCall(EPSSetFromOptions(eps));
  PetscCall(EPSSetInitialSpace(eps, 1, &v0));
  PetscCall(Wall(comm, &t0));
  PetscCall(EPSSolve(eps));
  PetscCall(Wall(comm, &t1));
  *sec = t1 - t0;
  PetscCall(EPSGetConverged(eps, nconv));
  PetscCall(EPSGetIterationNumber(eps, its));
  PetscCall(EPSGetDimensions(eps, NULL, ncv, &mpd));
  *maxres = 0;
  *lmin   = 1;
  for (PetscInt j = 0; j < PetscMin(*nconv, neig); j++) {
    PetscScalar l;
    PetscReal   r;
    PetscCall(EPSGetEigenpair(eps, j, &l, NULL, x, NULL));
    PetscCall(EPSComputeError(eps, j, EPS_ERROR_RELATIVE, &r));
    *maxres = PetscMax(*maxres, r);
    *lmin   = PetscMin(*lmin, PetscRealPart(l));
  }
  PetscCall(EPSDestroy(&eps));
  PetscCall(VecDestroy(&v0));
  PetscCall(VecDestroy(&x));
  PetscFunctionReturn(0);
}

/* SpMV bandwidth: bytes of the CSR arrays (8-byte values, 4-byte column indices, row
   offsets) plus x read once and y written once, per MatMult. */
static PetscErrorCode SpMVBandwidth(MPI_Comm comm, Mat S)
{
  Vec            x, y;
  MatInfo        info;
  PetscInt       N, reps = 50;
  PetscLogDouble t0, t1, bytes;

  PetscFunctionBegin;
  PetscCall(MatCreateVecs(S, &x, &y));
  PetscCall(VecSet(x, 1.0));
  PetscCall(MatGetInfo(S, MAT_GLOBAL_SUM, &info));
  PetscCall(MatGetSize(S, &N, NULL));
  bytes = info.nz_used * (8.0 + 4.0) + N * 4.0 + 2.0 * N * 8.0;
  PetscCall(MatMult(S, x, y));
  PetscCall(Wall(comm, &t0));
  for (PetscInt r = 0; r < reps; r++) PetscCall(MatMult(S, x, y));
  PetscCall(Wall(comm, &t1));
  PetscCall(PetscPrintf(comm, "bench-data: spmv N=%" PetscInt_FMT " nnz=%.0f seconds_per_mult=%.5f gbytes_per_s=%.2f\n", N, info.nz_used, (t1 - t0) / reps, bytes * reps / (t1 - t0) / 1e9));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscFunctionReturn(0);
}

/* STREAM triad a = b + s c on 3 arrays of 16M doubles per rank (384 MB), best of 10. */
static PetscErrorCode Triad(MPI_Comm comm)
{
  const size_t   n = (size_t)1 << 24;
  double        *a, *b, *c, best = 1e30;
  PetscLogDouble t0, t1;
  PetscMPIInt    size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc3(n, &a, n, &b, n, &c));
  for (size_t i = 0; i < n; i++) {
    a[i] = 0;
    b[i] = 1;
    c[i] = 2;
  }
  for (int t = 0; t < 10; t++) {
    PetscCall(Wall(comm, &t0));
    for (size_t i = 0; i < n; i++) a[i] = b[i] + 3.0 * c[i];
    PetscCall(Wall(comm, &t1));
    best = PetscMin(best, t1 - t0);
  }
  PetscCall(PetscPrintf(comm, "bench-data: triad ranks=%d gbytes_per_s=%.2f (check %g)\n", size, size * 24.0 * n / best / 1e9, a[n / 2]));
  PetscCall(PetscFree3(a, b, c));
  PetscFunctionReturn(0);
}

/* Neighbour block of this rank from the files ModeKNN wrote (rows split as PETSc does). */
static PetscErrorCode ReadNeighbors(MPI_Comm comm, const char *prefix, PetscInt N, PetscInt k, PetscInt *n, PetscInt **nbr, PetscReal **d2)
{
  PetscInt    rstart = 0;
  int32_t *nb32;
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  *n = PETSC_DECIDE;
  PetscCall(PetscSplitOwnership(comm, n, &N));
  PetscCallMPI(MPI_Exscan(n, &rstart, 1, MPIU_INT, MPI_SUM, comm));
  {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    if (!rank) rstart = 0;
  }
  PetscCall(PetscMalloc1((size_t)*n * k + 1, &nb32));
  PetscCall(PetscMalloc2((size_t)*n * k + 1, nbr, (size_t)*n * k + 1, d2));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s.nbr.i32", prefix));
  PetscCall(ReadRows(comm, path, nb32, *n, rstart, sizeof(int32_t) * k));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s.d2.f64", prefix));
  PetscCall(ReadRows(comm, path, *d2, *n, rstart, sizeof(PetscReal) * k));
  for (size_t i = 0; i < (size_t)*n * k; i++) (*nbr)[i] = nb32[i];
  PetscCall(PetscFree(nb32));
  PetscFunctionReturn(0);
}

static PetscErrorCode ReportEig(MPI_Comm comm, const char *tag, Mat S, PetscInt neig, PetscReal tol)
{
  PetscLogDouble sec = 0;
  PetscInt       its = 0, nconv = 0, N, ncv = 0;
  PetscReal      maxres = 0, lmin = 0;
  MatInfo        info;
  PetscMPIInt    size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(MatGetSize(S, &N, NULL));
  PetscCall(MatGetInfo(S, MAT_GLOBAL_SUM, &info));
  PetscCall(SolveS(comm, S, neig, tol, &sec, &its, &nconv, &maxres, &lmin, &ncv));
  PetscCall(PetscPrintf(comm, "bench-data: %s ranks=%d N=%" PetscInt_FMT " nnz=%.0f neig=%" PetscInt_FMT " tol=%g ncv=%" PetscInt_FMT " seconds=%.3f its=%" PetscInt_FMT " nconv=%" PetscInt_FMT " maxres=%.3e lambda_min=%.8f\n", tag, size, N, info.nz_used, neig, (double)tol, ncv, sec, its, nconv, (double)maxres, (double)lmin));
  PetscFunctionReturn(0);
}

static PetscErrorCode ModeEig(MPI_Comm comm, const char *prefix, PetscInt N, PetscInt k, PetscInt neig, PetscReal tol, PetscBool hw)
{
  PetscInt       n, *nbr;
  PetscReal     *d2;
  Mat            S;
  PetscLogDouble t0, t1;
  char           path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(ReadNeighbors(comm, prefix, N, k, &n, &nbr, &d2));
  PetscCall(Wall(comm, &t0));
  PetscCall(BuildS(comm, n, k, nbr, d2, &S));
  PetscCall(Wall(comm, &t1));
  PetscCall(PetscPrintf(comm, "bench-data: graph seconds=%.3f\n", t1 - t0));
  {
    PetscViewer v;
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s.S.petsc", prefix));
    PetscCall(PetscViewerBinaryOpen(comm, path, FILE_MODE_WRITE, &v));
    PetscCall(MatView(S, v));
    PetscCall(PetscViewerDestroy(&v));
  }
  PetscCall(ReportEig(comm, "eig", S, neig, tol));
  if (hw) {
    PetscCall(SpMVBandwidth(comm, S));
    PetscCall(Triad(comm));
  }
  PetscCall(MatDestroy(&S));
  PetscCall(PetscFree2(nbr, d2));
  PetscFunctionReturn(0);
}

/* ------------------------------------- scale ---------------------------------------- */
static PetscErrorCode ModeScale(MPI_Comm comm, const char *input, PetscInt k, PetscInt neig, PetscReal tol)
{
  PetscInt       n, dim, rstart, N, *nbr;
  PetscReal     *d2;
  float         *Xf;
  PetscLogDouble sec, t0, t1;
  Mat            S;
  PetscMPIInt    size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PrintPeakMemory(comm, "start"));
  PetscCall(LoadPatches(comm, input, 11, 5, &n, &dim, &rstart, &N, &Xf));
  PetscCall(RunKNN(comm, n, dim, N, Xf, k, &nbr, &d2, &sec));
  PetscCall(PetscFree(Xf));
  PetscCall(PetscPrintf(comm, "bench-data: scale-knn ranks=%d N=%" PetscInt_FMT " dim=%" PetscInt_FMT " seconds=%.3f\n", size, N, dim, sec));
  PetscCall(PrintPeakMemory(comm, "after-knn"));
  PetscCall(Wall(comm, &t0));
  PetscCall(BuildS(comm, n, k, nbr, d2, &S));
  PetscCall(Wall(comm, &t1));
  PetscCall(PetscFree2(nbr, d2));
  PetscCall(PetscPrintf(comm, "bench-data: scale-graph ranks=%d seconds=%.3f\n", size, t1 - t0));
  PetscCall(ReportEig(comm, "scale-eig", S, neig, tol));
  PetscCall(MatDestroy(&S));
  PetscCall(PrintPeakMemory(comm, "end"));
  PetscFunctionReturn(0);
}

/* ------------------------------------- kmeans --------------------------------------- */
static PetscErrorCode ReadFeatures(MPI_Comm comm, const char *path, PetscInt *n, PetscInt *dim, PetscReal **X)
{
  hid_t       f, d, sp;
  hsize_t     dims[2], start[2], count[2];
  PetscInt    N, rstart = 0;
  hid_t       ms;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  SanetCallHDF5Id(f, H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT));
  SanetCallHDF5Id(d, H5Dopen2(f, "/features", H5P_DEFAULT));
  SanetCallHDF5Id(sp, H5Dget_space(d));
  PetscCheck(H5Sget_simple_extent_ndims(sp) == 2, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: /features must be 2-D", path);
  SanetCallHDF5(H5Sget_simple_extent_dims(sp, dims, NULL));
  N    = (PetscInt)dims[0];
  *dim = (PetscInt)dims[1];
  *n   = PETSC_DECIDE;
  PetscCall(PetscSplitOwnership(comm, n, &N));
  PetscCallMPI(MPI_Exscan(n, &rstart, 1, MPIU_INT, MPI_SUM, comm));
  if (!rank) rstart = 0;
  start[0] = (hsize_t)rstart;
  start[1] = 0;
  count[0] = (hsize_t)*n;
  count[1] = dims[1];
  PetscCall(PetscMalloc1((size_t)*n * *dim + 1, X));
  SanetCallHDF5Id(ms, H5Screate_simple(2, count, NULL));
  SanetCallHDF5(H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL));
  SanetCallHDF5(H5Dread(d, H5T_NATIVE_DOUBLE, ms, sp, H5P_DEFAULT, *X));
  SanetCallHDF5(H5Sclose(ms));
  SanetCallHDF5(H5Sclose(sp));
  SanetCallHDF5(H5Dclose(d));
  SanetCallHDF5(H5Fclose(f));
  PetscFunctionReturn(0);
}

static PetscErrorCode ModeKMeans(MPI_Comm comm, const char *input, const char *features, PetscInt K)
{
  SanetImages    img;
  SanetKMeans    km;
  PetscInt       n = 0, dim = 0, *labels;
  PetscReal     *X, inertia;
  PetscLogDouble t0, t1;
  PetscMPIInt    size;
  PetscBool      own = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (features[0]) {
    PetscCall(ReadFeatures(comm, features, &n, &dim, &X));
    own = PETSC_TRUE;
  } else {
    PetscCall(SanetImagesLoad(comm, input, &img));
    n   = img.maps.nlocal;
    dim = img.maps.m * img.maps.n * img.maps.c;
    X   = img.maps.data;
  }
  PetscCall(PetscMalloc1(n + 1, &labels));
  PetscCall(SanetKMeansCreate(comm, &km));
  PetscCall(SanetKMeansSetOptionsPrefix(km, "km_"));
  PetscCall(SanetKMeansSetClusters(km, K));
  PetscCall(SanetKMeansSetFromOptions(km));
  PetscCall(Wall(comm, &t0));
  PetscCall(SanetKMeansApply(km, n, dim, X, labels, &inertia));
  PetscCall(Wall(comm, &t1));
  PetscCall(PetscPrintf(comm, "bench-data: kmeans ranks=%d dim=%" PetscInt_FMT " K=%" PetscInt_FMT " seconds=%.3f inertia=%.10g\n", size, dim, K, t1 - t0, (double)inertia));
  PetscCall(SanetKMeansView(km, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(SanetKMeansDestroy(&km));
  PetscCall(PetscFree(labels));
  if (own) PetscCall(PetscFree(X));
  else PetscCall(SanetImagesDestroy(&img));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  char      mode[64] = "info", input[PETSC_MAX_PATH_LEN] = "", prefix[PETSC_MAX_PATH_LEN] = "", features[PETSC_MAX_PATH_LEN] = "";
  PetscInt  k = 17, neig = 64, N = 0, K = 10;
  PetscReal tol = 1e-6;
  PetscBool hw = PETSC_TRUE, exact = PETSC_TRUE;
  MPI_Comm  comm;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  comm = PETSC_COMM_WORLD;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-mode", mode, sizeof(mode), NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-input", input, sizeof(input), NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-prefix", prefix, sizeof(prefix), NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-features", features, sizeof(features), NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-k", &k, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-neig", &neig, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-rows", &N, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-clusters", &K, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-tol", &tol, NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-hw", &hw, NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-exact", &exact, NULL));
  if (!strcmp(mode, "info")) PetscCall(ModeInfo());
  else if (!strcmp(mode, "gemm")) PetscCall(ModeGemm(comm));
  else if (!strcmp(mode, "knn")) PetscCall(ModeKNN(comm, input, prefix, k));
  else if (!strcmp(mode, "knn_approx")) PetscCall(ModeKNNApprox(comm, input, prefix, k, exact));
  else if (!strcmp(mode, "eig")) PetscCall(ModeEig(comm, prefix, N, k, neig, tol, hw));
  else if (!strcmp(mode, "scale")) PetscCall(ModeScale(comm, input, k, neig, tol));
  else if (!strcmp(mode, "kmeans")) PetscCall(ModeKMeans(comm, input, features, K));
  else SETERRQ(comm, PETSC_ERR_ARG_WRONG, "unknown -mode %s", mode);
  PetscCall(SlepcFinalize());
  return 0;
}
