/* libFuzzer harness of the HDF5 input validation: the input is loaded as a sanet input
   file by SanetImagesLoad on one rank (PETSC_COMM_SELF). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char        path[512];
  SanetImages img;

  FuzzWrite("input.h5", data, size, path, sizeof(path));
  if (!SanetImagesLoad(PETSC_COMM_SELF, path, &img)) {
    SanetMaps *m = &img.maps;
    size_t     n = (size_t)m->nlocal * m->m * m->n * m->c;

    if (m->Nglobal <= 0 || m->nlocal != m->Nglobal || n == 0) abort();
    for (size_t i = 0; i < n; i++)
      if (!(m->data[i] >= 0 && m->data[i] <= 1)) abort();
    if (img.labels)
      for (PetscInt i = 0; i < m->nlocal; i++)
        if (img.labels[i] < 0 || img.labels[i] >= img.nclasses) abort();
    if (SanetImagesDestroy(&img)) abort();
  }
  return 0;
}
