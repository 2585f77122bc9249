/* Loads a dataset on all ranks and checks each rank's block against a whole-file load
   on that rank alone; prints global sums that a reference reader can reproduce. */
#include "sanet.h"

static const char help[] = "test_images_load -input DATA.h5: parallel vs serial SanetImagesLoad.\n";

static PetscErrorCode Run(void)
{
  char        path[PETSC_MAX_PATH_LEN];
  PetscBool   has;
  SanetImages par, ser;
  size_t      per;
  long long   sums[3] = {0, 0, 0}; /* mismatches, sum of round(255*pixel), sum of labels */
  PetscInt    cnt[2];

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-input", path, sizeof(path), &has));
  PetscCheck(has, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT, "Option -input is missing");
  PetscCall(SanetImagesLoad(PETSC_COMM_WORLD, path, &par));
  PetscCall(SanetImagesLoad(PETSC_COMM_SELF, path, &ser));
  per = (size_t)par.maps.m * par.maps.n * par.maps.c;
  PetscCheck(ser.maps.Nglobal == par.maps.Nglobal && ser.maps.nlocal == ser.maps.Nglobal && ser.nclasses == par.nclasses && (!ser.labels) == (!par.labels), PETSC_COMM_SELF, PETSC_ERR_PLIB, "Serial and parallel loads of %s disagree on sizes", path);
  for (size_t k = 0; k < (size_t)par.maps.nlocal * per; k++) {
    PetscReal v = par.maps.data[k];

    if (v != ser.maps.data[par.maps.istart * per + k]) sums[0]++;
    sums[1] += (long long)round(v * 255.0);
  }
  for (PetscInt i = 0; par.labels && i < par.maps.nlocal; i++) {
    if (par.labels[i] != ser.labels[par.maps.istart + i]) sums[0]++;
    sums[2] += par.labels[i];
  }
  cnt[0] = par.maps.nlocal;
  cnt[1] = par.maps.istart == 0 ? 0 : 1; /* blocks must tile 0..N-1 */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 3, MPI_LONG_LONG, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, cnt, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCheck(cnt[0] == par.maps.Nglobal, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "Local image counts add up to %" PetscInt_FMT ", not %" PetscInt_FMT, cnt[0], par.maps.Nglobal);
  PetscCheck(sums[0] == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%lld values differ between the parallel and the serial load of %s", sums[0], path);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "images: N=%" PetscInt_FMT " H=%" PetscInt_FMT " W=%" PetscInt_FMT " C=%" PetscInt_FMT " nclasses=%" PetscInt_FMT " pixelsum255=%lld labelsum=%lld\n", par.maps.Nglobal, par.maps.m, par.maps.n, par.maps.c, par.nclasses, sums[1], sums[2]));
  PetscCall(SanetImagesDestroy(&ser));
  PetscCall(SanetImagesDestroy(&par));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(Run());
  PetscCall(PetscFinalize());
  return 0;
}
