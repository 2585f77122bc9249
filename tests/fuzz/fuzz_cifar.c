/* libFuzzer harness of the CIFAR batch reader (plain or gzip): the input is read as a
   CIFAR-10 batch and as a CIFAR-100 batch. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char           path[512];
  const char    *files[2];
  SanetRawImages raw;

  FuzzWrite("input.bin", data, size, path, sizeof(path));
  files[0] = files[1] = path;
  for (int cifar100 = 0; cifar100 < 2; cifar100++) {
    PetscInt nclasses = cifar100 ? 100 : 10;

    /* the same batch once and twice: concatenation */
    for (PetscInt nfiles = 1; nfiles <= 2; nfiles++) {
      if (SanetReadCIFAR(nfiles, files, cifar100 ? 2 : 1, nclasses, &raw)) continue;
      if (raw.N <= 0 || raw.H != 32 || raw.W != 32 || raw.C != 3 || !raw.pixels || !raw.labels) abort();
      for (PetscInt i = 0; i < raw.N; i++)
        if (raw.labels[i] < 0 || raw.labels[i] >= nclasses) abort();
      raw.pixels[raw.N * 3072 - 1] ^= 1;
      if (SanetRawImagesDestroy(&raw)) abort();
    }
  }
  return 0;
}
