static const char help[] = "Checks SanetKNNIVF against SanetKNNExact on the layer-1 patches of an image file.\n"
                           "  -input FILE -patch P -stride S   rows: the padded, centred P x P patches (11, 5)\n"
                           "  -k K                             neighbours (17)\n"
                           "  -knn_nlist L -knn_nprobe P       the IVF search (0 = about sqrt(rows); 8)\n"
                           "  -recall_min R                    recall@k at -knn_nprobe must be >= R\n"
                           "  -sweep P1,P2,...                 recall at each nprobe: must not fall, the last >= -recall_min\n"
                           "  -expect_exact                    the result must be SanetKNNExact's, bit for bit\n"
                           "  prints a digest of the last lists (ids and distance bits) for rank-count comparisons\n"
                           "  -expect_error TEXT               SanetKNNIVF (or its options) must fail with TEXT in the message\n";

#include "sanet.h"

/* recall@k: the fraction of the exact neighbour ids that the approximate lists hold. */
static PetscErrorCode Recall(MPI_Comm comm, PetscInt nlocal, PetscInt k, const PetscInt *exact, const PetscInt *approx, PetscReal *recall)
{
  PetscReal hit = 0, Nglobal, loc[2], glob[2];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt a = 0; a < k; a++)
      for (PetscInt b = 0; b < k; b++)
        if (approx[i * k + a] == exact[i * k + b]) {
          hit += 1;
          break;
        }
  loc[0] = hit;
  loc[1] = nlocal;
  PetscCall(MPIU_Allreduce(loc, glob, 2, MPIU_REAL, MPIU_SUM, comm));
  Nglobal = glob[1];
  *recall = glob[0] / (Nglobal * k);
  PetscFunctionReturn(0);
}

/* Every list sorted by (d2, index), no self, no repeats: the output format of SanetKNNExact. */
static PetscErrorCode CheckFormat(MPI_Comm comm, PetscInt nlocal, PetscInt rstart, PetscInt Nglobal, PetscInt k, const PetscInt *nbr, const PetscReal *d2)
{
  PetscInt bad = 0, gbad;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt a = 0; a < k; a++) {
      const PetscInt j = nbr[i * k + a];
      if (j < 0 || j >= Nglobal || j == rstart + i || !(d2[i * k + a] >= 0) || !PetscIsNormalReal(d2[i * k + a] + 1)) bad++;
      if (a > 0 && (d2[i * k + a - 1] > d2[i * k + a] || (d2[i * k + a - 1] == d2[i * k + a] && nbr[i * k + a - 1] >= j))) bad++;
    }
  PetscCall(MPIU_Allreduce(&bad, &gbad, 1, MPIU_INT, MPI_SUM, comm));
  PetscCheck(!gbad, comm, PETSC_ERR_PLIB, "%" PetscInt_FMT " neighbour entries out of range, the row itself, not finite or out of (d2, index) order", gbad);
  PetscFunctionReturn(0);
}

/* FNV-1a of every row's (global index, ids, distance bits), summed over rows: the same
   lists give the same digest whatever the rank layout. */
static PetscErrorCode Digest(MPI_Comm comm, PetscInt nlocal, PetscInt rstart, PetscInt k, const PetscInt *nbr, const PetscReal *d2)
{
  uint64_t sum = 0, gsum;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nlocal; i++) {
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(rstart + i);
    for (PetscInt t = 0; t < k; t++) {
      uint64_t bits;
      memcpy(&bits, &d2[i * k + t], sizeof(bits));
      h = (h ^ (uint64_t)nbr[i * k + t]) * 1099511628211ULL;
      h = (h ^ bits) * 1099511628211ULL;
    }
    sum += h;
  }
  PetscCallMPI(MPI_Allreduce(&sum, &gsum, 1, MPI_UINT64_T, MPI_SUM, comm));
  PetscCall(PetscPrintf(comm, "digest %016llx\n", (unsigned long long)gsum));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunIVF(MPI_Comm comm, const SanetKNNSpec *spec, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, PetscInt *nbr, PetscReal *d2, PetscLogDouble *sec)
{
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(PetscTime(&t0));
  PetscCall(SanetKNNIVF(comm, spec, nlocal, dim, X, k, nbr, d2));
  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(PetscTime(&t1));
  *sec = t1 - t0;
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  MPI_Comm       comm;
  SanetKNNSpec   spec;
  char           input[PETSC_MAX_PATH_LEN] = "", errtext[256] = "";
  PetscInt       patch = 11, stride = 5, k = 17, nlocal, dim, rstart = 0, Nglobal, *nbrE, *nbrA, sweep[16], nsweep = 16;
  PetscReal     *d2E, *d2A, recall_min = 0, recall = 0, prev = -1;
  PetscBool      expect_exact = PETSC_FALSE, has_sweep, has_error;
  float         *X;
  PetscLogDouble t0, t1, sec = 0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  comm = PETSC_COMM_WORLD;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-input", input, sizeof(input), NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-patch", &patch, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-stride", &stride, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-k", &k, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-recall_min", &recall_min, NULL));
  PetscCall(PetscOptionsGetIntArray(NULL, NULL, "-sweep", sweep, &nsweep, &has_sweep));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-expect_exact", &expect_exact, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-expect_error", errtext, sizeof(errtext), &has_error));
  PetscCheck(input[0], comm, PETSC_ERR_USER_INPUT, "give -input FILE");

  PetscCall(SanetPatchesLoad(comm, input, patch, stride, &nlocal, &dim, &X));
  PetscCallMPI(MPI_Allreduce(&nlocal, &Nglobal, 1, MPIU_INT, MPI_SUM, comm));
  PetscCallMPI(MPI_Exscan(&nlocal, &rstart, 1, MPIU_INT, MPI_SUM, comm));
  {
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    if (!rank) rstart = 0;
  }
  PetscCall(PetscMalloc4((size_t)nlocal * k + 1, &nbrE, (size_t)nlocal * k + 1, &d2E, (size_t)nlocal * k + 1, &nbrA, (size_t)nlocal * k + 1, &d2A));

  if (has_error) {
    const char *text;
    char       *specific = NULL;
    /* the return handler neither prints nor aborts: we check the message */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SanetKNNSpecSetFromOptions(comm, NULL, 0, 0, &spec);
    if (!ierr) ierr = SanetKNNIVF(comm, &spec, nlocal, dim, X, k, nbrA, d2A);
    PetscCall(PetscPopErrorHandler());
    PetscCheck(ierr, comm, PETSC_ERR_PLIB, "expected an error naming \"%s\", got none", errtext);
    PetscCall(PetscErrorMessage(ierr, &text, &specific));
    PetscCheck(specific && strstr(specific, errtext), comm, PETSC_ERR_PLIB, "error message does not contain \"%s\": %s", errtext, specific ? specific : "(none)");
    PetscCall(PetscPrintf(comm, "rejected as expected: %s\n", specific));
  } else {
    PetscCall(SanetKNNSpecSetFromOptions(comm, NULL, 0, 0, &spec));
    PetscCallMPI(MPI_Barrier(comm));
    PetscCall(PetscTime(&t0));
    PetscCall(SanetKNNExact(comm, &spec, nlocal, dim, X, k, nbrE, d2E));
    PetscCallMPI(MPI_Barrier(comm));
    PetscCall(PetscTime(&t1));
    PetscCall(PetscPrintf(comm, "rows %" PetscInt_FMT " of %" PetscInt_FMT " dims, k %" PetscInt_FMT ": exact %.2f s\n", Nglobal, dim, k, t1 - t0));
    if (!has_sweep) {
      sweep[0] = spec.nprobe;
      nsweep   = 1;
    }
    for (PetscInt s = 0; s < nsweep; s++) {
      spec.nprobe = sweep[s];
      PetscCall(RunIVF(comm, &spec, nlocal, dim, X, k, nbrA, d2A, &sec));
      PetscCall(CheckFormat(comm, nlocal, rstart, Nglobal, k, nbrA, d2A));
      PetscCall(Recall(comm, nlocal, k, nbrE, nbrA, &recall));
      PetscCall(PetscPrintf(comm, "nprobe %" PetscInt_FMT ": recall@%" PetscInt_FMT " %.4f in %.2f s\n", spec.nprobe, k, (double)recall, sec));
      PetscCheck(recall >= prev, comm, PETSC_ERR_PLIB, "recall fell from %.4f to %.4f when nprobe rose to %" PetscInt_FMT, (double)prev, (double)recall, spec.nprobe);
      prev = recall;
    }
    PetscCheck(recall >= recall_min, comm, PETSC_ERR_PLIB, "recall@%" PetscInt_FMT " %.4f at nprobe %" PetscInt_FMT " is below the floor %.4f", k, (double)recall, spec.nprobe, (double)recall_min);
    if (expect_exact) {
      PetscInt diff = 0, gdiff;
      for (PetscInt a = 0; a < nlocal * k; a++) diff += (nbrA[a] != nbrE[a] || d2A[a] != d2E[a]);
      PetscCall(MPIU_Allreduce(&diff, &gdiff, 1, MPIU_INT, MPI_SUM, comm));
      PetscCheck(!gdiff, comm, PETSC_ERR_PLIB, "IVF at nprobe %" PetscInt_FMT " differs from the exact search in %" PetscInt_FMT " of %" PetscInt_FMT " entries", spec.nprobe, gdiff, Nglobal * k);
      PetscCall(PetscPrintf(comm, "IVF at nprobe %" PetscInt_FMT " equals the exact search (ids and distances, every entry)\n", spec.nprobe));
    }
    PetscCall(Digest(comm, nlocal, rstart, k, nbrA, d2A));
  }
  PetscCall(PetscFree4(nbrE, d2E, nbrA, d2A));
  PetscCall(PetscFree(X));
  PetscCall(PetscFinalize());
  return 0;
}
