/* sanet-convert: public image formats to the sanet HDF5 input layout. */
#include "sanet_io.h"

static const char help[] = "Converts an image dataset to the sanet input layout (HDF5: /images [N,H,W,C] uint8, /labels [N] int32).\n"
                           "Usage: sanet-convert -format mnist|cifar10|cifar100|png -images INPUT[,INPUT...] [-labels FILE[,FILE...]] -o OUT.h5\n"
                           "  -format mnist     -images IDX images file(s) (plain or .gz), -labels IDX labels file(s) (optional); several\n"
                           "                    comma-separated files are joined in order (train,t10k gives the 70,000 digits)\n"
                           "  -format cifar10   -images batch file(s), comma-separated (data_batch_1.bin,...)\n"
                           "  -format cifar100  -images batch file(s), comma-separated (train.bin,...); fine labels are kept\n"
                           "  -format png       -images DIR with one subfolder of PNG files per class (sorted names give labels 0,1,...)\n"
                           "  -o OUT.h5         output file; written to OUT.h5.tmp and renamed, so it exists only when complete\n";

#define MAX_BATCHES 256

static const char *const known[] = {"-format", "-images", "-labels", "-o", NULL};

static PetscErrorCode Convert(void)
{
  char           format[64], images[PETSC_MAX_PATH_LEN], labels[PETSC_MAX_PATH_LEN], out[PETSC_MAX_PATH_LEN];
  char          *batches[MAX_BATCHES];
  PetscInt       nbatches = MAX_BATCHES;
  PetscBool      hasfmt, hasimg, haslab, hasout, ismnist, isc10, isc100, ispng;
  SanetRawImages raw;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-format", format, sizeof(format), &hasfmt));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-labels", labels, sizeof(labels), &haslab));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-o", out, sizeof(out), &hasout));
  PetscCheck(hasfmt, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -format is missing: give mnist, cifar10, cifar100 or png (see -help)");
  PetscCheck(hasout && out[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -o (output HDF5 file) is missing (see -help)");
  PetscCall(PetscStrcmp(format, "mnist", &ismnist));
  PetscCall(PetscStrcmp(format, "cifar10", &isc10));
  PetscCall(PetscStrcmp(format, "cifar100", &isc100));
  PetscCall(PetscStrcmp(format, "png", &ispng));
  PetscCheck(ismnist || isc10 || isc100 || ispng, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -format %s is not known: give mnist, cifar10, cifar100 or png", format);
  PetscCheck(ismnist || !haslab, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -labels is only used with -format mnist (format %s keeps labels with the images)", format);
  PetscCall(PetscOptionsHasName(NULL, NULL, "-images", &hasimg)); /* read below, by format */
  PetscCall(SanetOptionsCheckIntegers(PETSC_COMM_SELF));
  PetscCall(SanetOptionsCheckUnused(PETSC_COMM_SELF, NULL, known, "sanet-convert"));
  if (isc10 || isc100 || ismnist) {
    PetscCall(PetscOptionsGetStringArray(NULL, NULL, "-images", batches, &nbatches, &hasimg));
    PetscCheck(hasimg && nbatches > 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -images is missing: give the %s, comma-separated", ismnist ? "IDX images file(s)" : "CIFAR batch file(s)");
  }
  if (ismnist) {
    char    *labfiles[MAX_BATCHES];
    PetscInt nlabfiles = MAX_BATCHES;

    if (haslab) PetscCall(PetscOptionsGetStringArray(NULL, NULL, "-labels", labfiles, &nlabfiles, NULL));
    PetscCheck(!haslab || nlabfiles == nbatches, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -labels gives %" PetscInt_FMT " file(s) but -images %" PetscInt_FMT ": give one labels file per images file", nlabfiles, nbatches);
    PetscCall(PetscMemzero(&raw, sizeof(raw)));
    for (PetscInt i = 0; i < nbatches; i++) {
      SanetRawImages part;

      PetscErrorCode ierr = SanetReadMNIST(batches[i], haslab ? labfiles[i] : NULL, &part);

      if (ierr) PetscCall(SanetRawImagesDestroy(&raw)); /* the files before it */
      PetscCall(ierr);
      PetscCall(SanetRawImagesAppend(&raw, &part, batches[i]));
    }
    for (PetscInt i = 0; haslab && i < nlabfiles; i++) PetscCall(PetscFree(labfiles[i]));
  } else if (isc10 || isc100) {
    PetscCall(SanetReadCIFAR(nbatches, (const char *const *)batches, isc10 ? 1 : 2, isc10 ? 10 : 100, &raw));
  } else {
    PetscCall(PetscOptionsGetString(NULL, NULL, "-images", images, sizeof(images), &hasimg));
    PetscCheck(hasimg && images[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -images is missing: give the folder of class subfolders");
    PetscCall(SanetReadPNGFolder(images, &raw));
  }
  for (PetscInt i = 0; (isc10 || isc100 || ismnist) && i < nbatches; i++) PetscCall(PetscFree(batches[i]));
  PetscCall(SanetWriteDatasetFile(out, raw.N, raw.H, raw.W, raw.C, raw.pixels, raw.labels, raw.classes));
  if (raw.nalpha) PetscCall(PetscPrintf(PETSC_COMM_SELF, "sanet-convert: warning: %" PetscInt_FMT " of the %" PetscInt_FMT " images have transparency (an alpha channel or tRNS); it was dropped, the colour values kept\n", raw.nalpha, raw.N));
  if (raw.classes) { /* which folder became which label id */
    char    *copy, *name, *save = NULL;
    PetscInt id = 0;
    PetscCall(PetscStrallocpy(raw.classes, &copy));
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "sanet-convert: label ids (attribute classes of /labels):"));
    for (name = strtok_r(copy, "\n", &save); name; name = strtok_r(NULL, "\n", &save), id++) PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s %" PetscInt_FMT " = %s", id ? "," : "", id, name));
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n"));
    PetscCall(PetscFree(copy));
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "sanet-convert: wrote %s: %" PetscInt_FMT " images of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT "%s\n", out, raw.N, raw.H, raw.W, raw.C, raw.labels ? " with labels" : ""));
  PetscCall(SanetRawImagesDestroy(&raw));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscMPIInt size;
  PetscBool   hashelp;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCheck(size == 1, PETSC_COMM_WORLD, PETSC_ERR_SUP, "sanet-convert is serial: run it on 1 MPI rank, not %d", size);
  hashelp = SanetHelpRequested();
  if (!hashelp) PetscCall(Convert());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  return SanetMain(&argc, &argv, help, "sanet-convert", PETSC_FALSE, Run);
}
