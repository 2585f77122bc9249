#include "sanet.h"

PetscErrorCode SanetPatchSetUp(SanetPatchSpec *spec, PetscInt m, PetscInt n, PetscInt c)
{
  PetscFunctionBegin;
  PetscCheck(spec->ph >= 1 && spec->pw >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Patch size %" PetscInt_FMT "x%" PetscInt_FMT " must be at least 1x1", spec->ph, spec->pw);
  PetscCheck(spec->stride >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Patch stride %" PetscInt_FMT " must be at least 1", spec->stride);
  if (spec->pad) {
    spec->mo = (m + spec->stride - 1) / spec->stride;
    spec->no = (n + spec->stride - 1) / spec->stride;
  } else {
    PetscCheck(spec->ph <= m && spec->pw <= n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Patch %" PetscInt_FMT "x%" PetscInt_FMT " is larger than its %" PetscInt_FMT "x%" PetscInt_FMT " input and padding is off", spec->ph, spec->pw, m, n);
    spec->mo = (m - spec->ph) / spec->stride + 1;
    spec->no = (n - spec->pw) / spec->stride + 1;
  }
  spec->dim = spec->ph * spec->pw * c;
  PetscFunctionReturn(0);
}

/* Top-left corner of patch i along an axis of length len. With padding the centres are
   spread symmetrically over the axis so both borders are treated alike. */
static PetscInt PatchStart(const SanetPatchSpec *spec, PetscInt i, PetscInt len, PetscInt plen, PetscInt count)
{
  if (!spec->pad) return i * spec->stride;
  PetscInt offset = ((len - 1) - (count - 1) * spec->stride) / 2;
  return offset + i * spec->stride - (plen - 1) / 2;
}

PetscErrorCode SanetPatchExtract(const SanetPatchSpec *spec, const SanetMaps *in, PetscReal *X)
{
  const PetscInt m = in->m, n = in->n, c = in->c, dim = spec->dim;

  PetscFunctionBegin;
  for (PetscInt img = 0; img < in->nlocal; img++) {
    const PetscReal *src = in->data + (size_t)img * m * n * c;
    for (PetscInt pi = 0; pi < spec->mo; pi++) {
      const PetscInt r0 = PatchStart(spec, pi, m, spec->ph, spec->mo);
      for (PetscInt pj = 0; pj < spec->no; pj++) {
        const PetscInt c0  = PatchStart(spec, pj, n, spec->pw, spec->no);
        PetscReal     *row = X + ((size_t)(img * spec->mo + pi) * spec->no + pj) * dim;
        PetscReal      sum = 0;
        for (PetscInt a = 0; a < spec->ph; a++) {
          const PetscInt r = r0 + a;
          for (PetscInt b = 0; b < spec->pw; b++) {
            const PetscInt col = c0 + b;
            PetscReal     *dst = row + (a * spec->pw + b) * c;
            if (r < 0 || r >= m || col < 0 || col >= n) {
              for (PetscInt ch = 0; ch < c; ch++) dst[ch] = 0;
            } else {
              for (PetscInt ch = 0; ch < c; ch++) dst[ch] = src[((size_t)r * n + col) * c + ch];
            }
            for (PetscInt ch = 0; ch < c; ch++) sum += dst[ch];
          }
        }
        if (spec->center) {
          const PetscReal mean = sum / dim;
          for (PetscInt d = 0; d < dim; d++) row[d] -= mean;
        }
      }
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SanetPatchesLoad(MPI_Comm comm, const char path[], PetscInt patch, PetscInt stride, PetscInt *nlocal, PetscInt *dim, float **Xf)
{
  SanetImages    img;
  SanetPatchSpec spec;
  PetscReal     *X;
  size_t         n;

  PetscFunctionBegin;
  PetscCall(SanetImagesLoad(comm, path, &img));
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  spec.ph = spec.pw = patch;
  spec.stride       = stride;
  spec.pad          = PETSC_TRUE;
  spec.center       = PETSC_TRUE;
  PetscCall(SanetPatchSetUp(&spec, img.maps.m, img.maps.n, img.maps.c));
  *nlocal = img.maps.nlocal * spec.mo * spec.no;
  *dim    = spec.dim;
  n       = (size_t)*nlocal * spec.dim;
  PetscCall(PetscMalloc1(n + 1, &X));
  PetscCall(SanetPatchExtract(&spec, &img.maps, X));
  PetscCall(PetscMalloc1(n + 1, Xf));
  for (size_t i = 0; i < n; i++) (*Xf)[i] = (float)X[i];
  PetscCall(PetscFree(X));
  PetscCall(SanetImagesDestroy(&img));
  PetscFunctionReturn(0);
}
