static const char help[] = "Checks SanetKNNExact against a brute-force double-precision search.\n"
                           "  -n N -dim D -k K -seed S      problem (rows depend only on their global index)\n"
                           "  -data random|pool             random rows with zero rows and exact copies, or few distinct rows\n"
                           "  -pool P -offset O             distinct rows in pool mode; constant added to every value\n"
                           "  -check 0                      skip the brute force (timing runs)\n"
                           "  -view                         print every row's neighbours and distances\n"
                           "  -expect_error                 succeed only if SanetKNNExact rejects k\n";

#include "sanet.h"

typedef struct {
  PetscInt  Nglobal, dim, pool;
  PetscBool pooled;
  PetscReal offset;
  unsigned long seed;
} TestData;

/* Value l of global row g; depends only on (g, l), never on the rank layout. Random mode:
   rows g%10==3 are zero, rows g%10==7 and 9 are exact copies of row (g/10)*10+1. Pool mode:
   every 7th row is zero, the others repeat `pool` distinct rows (heavy exact ties). */
static float RowValue(const TestData *td, PetscInt g, PetscInt l)
{
  PetscInt base = g;
  if (td->pooled) {
    if (g % 7 == 0) return 0.0f;
    base = g % td->pool;
  } else {
    PetscInt m = g % 10;
    if (m == 3) return 0.0f;
    if (m == 7 || m == 9) base = (g / 10) * 10 + 1;
  }
  return (float)(td->offset + SanetRandUniform(td->seed, (unsigned long)base, (unsigned long)l));
}

/* Hash of one (slot, value) pair for the order-independent checksum. */
static uint64_t Mix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Same formula as the library's exact recompute, so exact ties stay exact. */
static PetscReal Dist2(PetscInt dim, const float *x, const float *y)
{
  PetscReal s = 0.0;
  for (PetscInt l = 0; l < dim; l++) {
    PetscReal e = (PetscReal)x[l] - (PetscReal)y[l];
    s += e * e;
  }
  return s;
}

/* Brute force over all gathered rows for the local queries; order (d2, index). */
static PetscErrorCode BruteForce(PetscInt Nglobal, PetscInt dim, const float *Xall, PetscInt rstart, PetscInt nlocal, PetscInt k, PetscInt *nbr, PetscReal *d2)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < nlocal; i++) {
    PetscInt   gi = rstart + i, cnt = 0, *n = nbr + i * k;
    PetscReal *d  = d2 + i * k;
    for (PetscInt j = 0; j < Nglobal; j++) {
      PetscReal v;
      PetscInt  b;
      if (j == gi) continue;
      v = Dist2(dim, Xall + (size_t)gi * dim, Xall + (size_t)j * dim);
      if (cnt == k && !(v < d[k - 1])) continue; /* j ascends, so equal d2 loses */
      b = (cnt < k) ? cnt++ : k - 1;
      while (b > 0 && d[b - 1] > v) {
        d[b] = d[b - 1];
        n[b] = n[b - 1];
        b--;
      }
      d[b] = v;
      n[b] = j;
    }
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  MPI_Comm       comm;
  TestData       td = {600, 13, 5, PETSC_FALSE, 0.0, 1};
  PetscInt       k = 7, nlocal = PETSC_DECIDE, rstart = 0, *nbr, *nbrref, nbad = 0, gbad;
  PetscReal     *d2, *d2ref;
  PetscBool      check = PETSC_TRUE, view = PETSC_FALSE, expect_error = PETSC_FALSE;
  SanetKNNSpec   spec;
  char           data[32] = "random";
  float         *X;
  PetscLogDouble t0, t1;
  uint64_t       sum[2] = {0, 0}, gsum[2];
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  comm = PETSC_COMM_WORLD;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &td.Nglobal, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-dim", &td.dim, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-k", &k, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-pool", &td.pool, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-offset", &td.offset, NULL));
  {
    PetscInt seed = 1;
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-seed", &seed, NULL));
    td.seed = (unsigned long)seed;
  }
  PetscCall(PetscOptionsGetString(NULL, NULL, "-data", data, sizeof(data), NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-check", &check, NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-view", &view, NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-expect_error", &expect_error, NULL));
  PetscCheck(!strcmp(data, "random") || !strcmp(data, "pool"), comm, PETSC_ERR_ARG_WRONG, "-data must be random or pool, got %s", data);
  td.pooled = (PetscBool)!strcmp(data, "pool");
  PetscCheck(td.Nglobal >= 1 && td.dim >= 1 && td.pool >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-n, -dim, -pool must be >= 1");

  PetscCall(PetscSplitOwnership(comm, &nlocal, &td.Nglobal));
  PetscCallMPI(MPI_Exscan(&nlocal, &rstart, 1, MPIU_INT, MPI_SUM, comm));
  {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    if (!rank) rstart = 0; /* MPI_Exscan leaves rank 0's result undefined */
  }
  PetscCall(PetscMalloc1((size_t)nlocal * td.dim, &X));
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt l = 0; l < td.dim; l++) X[(size_t)i * td.dim + l] = RowValue(&td, rstart + i, l);
  PetscCall(PetscMalloc4((size_t)nlocal * k, &nbr, (size_t)nlocal * k, &d2, (size_t)nlocal * k, &nbrref, (size_t)nlocal * k, &d2ref));

  PetscCall(SanetKNNSpecSetFromOptions(comm, NULL, 0, 0, &spec)); /* -knn_tile_*, -knn_extra */
  if (expect_error) {
    const char *text;
    char       *specific, want[64];
    /* The return handler neither prints nor aborts the other ranks (the default handler
       would, for an error on a multi-rank communicator); we check code and message. */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SanetKNNExact(comm, &spec, nlocal, td.dim, X, k, nbr, d2);
    PetscCall(PetscPopErrorHandler());
    PetscCheck(ierr == PETSC_ERR_ARG_OUTOFRANGE, comm, PETSC_ERR_PLIB, "expected SanetKNNExact to reject k = %" PetscInt_FMT " for %" PetscInt_FMT " rows with PETSC_ERR_ARG_OUTOFRANGE, got error code %d", k, td.Nglobal, (int)ierr);
    PetscCall(PetscErrorMessage(ierr, &text, &specific));
    PetscCall(PetscSNPrintf(want, sizeof(want), "k = %" PetscInt_FMT ", rows = %" PetscInt_FMT, k, td.Nglobal));
    PetscCheck(specific && strstr(specific, want), comm, PETSC_ERR_PLIB, "error message does not name k and the row count (want \"%s\"): %s", want, specific ? specific : "(none)");
    PetscCall(PetscPrintf(comm, "rejected as expected: %s\n", specific));
    PetscCall(PetscFree4(nbr, d2, nbrref, d2ref));
    PetscCall(PetscFree(X));
    PetscCall(PetscFinalize());
    return 0;
  }

  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(PetscTime(&t0));
  PetscCall(SanetKNNExact(comm, &spec, nlocal, td.dim, X, k, nbr, d2));
  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscInfo(NULL, "kNN %" PetscInt_FMT " x %" PetscInt_FMT " k=%" PetscInt_FMT ": %g s, %g GFLOP/s\n", td.Nglobal, td.dim, k, t1 - t0, 2.0 * td.Nglobal * (double)td.Nglobal * td.dim / (t1 - t0) / 1e9));
  if (!check) PetscCall(PetscPrintf(comm, "kNN time %.3f s, %.1f GFLOP/s (2 N^2 dim)\n", t1 - t0, 2.0 * td.Nglobal * (double)td.Nglobal * td.dim / (t1 - t0) / 1e9));

  if (check) {
    float       *Xall;
    PetscMPIInt  size, *cnt, *dsp;
    PetscInt     nshow = 0;
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(PetscMalloc3((size_t)td.Nglobal * td.dim, &Xall, size, &cnt, size, &dsp));
    {
      PetscMPIInt mine;
      PetscCall(PetscMPIIntCast(nlocal * td.dim, &mine));
      PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, comm));
      dsp[0] = 0;
      for (PetscMPIInt r = 1; r < size; r++) dsp[r] = dsp[r - 1] + cnt[r - 1];
      PetscCallMPI(MPI_Allgatherv(X, mine, MPI_FLOAT, Xall, cnt, dsp, MPI_FLOAT, comm));
    }
    PetscCall(BruteForce(td.Nglobal, td.dim, Xall, rstart, nlocal, k, nbrref, d2ref));
    for (PetscInt i = 0; i < nlocal * k; i++) {
      PetscBool ok = (PetscBool)(nbr[i] == nbrref[i] && PetscAbsReal(d2[i] - d2ref[i]) <= 1e-9 * d2ref[i]);
      if (!ok) {
        nbad++;
        if (nshow++ < 10) PetscCall(PetscPrintf(PETSC_COMM_SELF, "row %" PetscInt_FMT " slot %" PetscInt_FMT ": got %" PetscInt_FMT " (%.17g), expected %" PetscInt_FMT " (%.17g)\n", rstart + i / k, i % k, nbr[i], (double)d2[i], nbrref[i], (double)d2ref[i]));
      }
    }
    PetscCall(PetscFree3(Xall, cnt, dsp));
    PetscCall(MPIU_Allreduce(&nbad, &gbad, 1, MPIU_INT, MPI_SUM, comm));
    PetscCheck(gbad == 0, comm, PETSC_ERR_PLIB, "kNN differs from brute force in %" PetscInt_FMT " of %" PetscInt_FMT " entries", gbad, td.Nglobal * k);
    PetscCall(PetscPrintf(comm, "kNN matches brute force: %" PetscInt_FMT " rows, dim %" PetscInt_FMT ", k %" PetscInt_FMT "\n", td.Nglobal, td.dim, k));
  }

  /* Rank-count independent checksum: integer sums commute exactly. */
  for (PetscInt i = 0; i < nlocal; i++) {
    for (PetscInt t = 0; t < k; t++) {
      uint64_t bits;
      double   v = (double)d2[i * k + t];
      memcpy(&bits, &v, sizeof(bits));
      uint64_t slot = (uint64_t)(rstart + i) * (uint64_t)k + (uint64_t)t;
      sum[0] += Mix64(slot * 0x9e3779b97f4a7c15ULL ^ (uint64_t)nbr[i * k + t]);
      sum[1] += Mix64(slot * 0xc2b2ae3d27d4eb4fULL ^ bits);
    }
  }
  PetscCallMPI(MPI_Allreduce(sum, gsum, 2, MPI_UINT64_T, MPI_SUM, comm));
  PetscCall(PetscPrintf(comm, "checksum %016llx %016llx\n", (unsigned long long)gsum[0], (unsigned long long)gsum[1]));

  if (view) {
    for (PetscInt i = 0; i < nlocal; i++) {
      PetscCall(PetscSynchronizedPrintf(comm, "%" PetscInt_FMT ":", rstart + i));
      for (PetscInt t = 0; t < k; t++) PetscCall(PetscSynchronizedPrintf(comm, " %" PetscInt_FMT "(%.17g)", nbr[i * k + t], (double)d2[i * k + t]));
      PetscCall(PetscSynchronizedPrintf(comm, "\n"));
    }
    PetscCall(PetscSynchronizedFlush(comm, PETSC_STDOUT));
  }

  PetscCall(PetscFree4(nbr, d2, nbrref, d2ref));
  PetscCall(PetscFree(X));
  PetscCall(PetscFinalize());
  return 0;
}
