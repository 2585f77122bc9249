static const char help[] = "SanetPatchSetUp / SanetPatchExtract against a brute-force reference.\n";
/* Reference placement (the implementation's documented intent): without padding patch i
   starts at i*stride; with padding ceil(len/stride) centres are spread symmetrically,
   first centre at ((len-1) - (count-1)*stride)/2, and the patch's top-left is
   centre - (plen-1)/2; pixels outside the image are 0. Patch layout [r][c][ch]. */
#include "sanet.h"

static unsigned long long lcg = 88172645463325252ULL;
static PetscReal          Rand(void)
{
  lcg ^= lcg << 13;
  lcg ^= lcg >> 7;
  lcg ^= lcg << 17;
  return (PetscReal)(lcg >> 11) / 9007199254740992.0;
}

static PetscInt RefStart(PetscBool pad, PetscInt i, PetscInt len, PetscInt plen, PetscInt stride, PetscInt count)
{
  if (!pad) return i * stride;
  return ((len - 1) - (count - 1) * stride) / 2 + i * stride - (plen - 1) / 2;
}

static PetscErrorCode CheckCase(PetscInt nimg, PetscInt m, PetscInt n, PetscInt c, PetscInt ph, PetscInt pw, PetscInt stride, PetscBool pad, PetscBool center, PetscInt *ncases)
{
  SanetMaps      maps;
  SanetPatchSpec spec;
  PetscReal     *X, *ref;
  PetscInt       mo, no, dim = ph * pw * c;

  PetscFunctionBegin;
  if (!pad && (ph > m || pw > n)) PetscFunctionReturn(0);
  PetscCall(SanetMapsCreate(PETSC_COMM_SELF, nimg, m, n, c, &maps));
  for (PetscInt a = 0; a < nimg * m * n * c; a++) maps.data[a] = Rand();
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  spec.ph     = ph;
  spec.pw     = pw;
  spec.stride = stride;
  spec.pad    = pad;
  spec.center = center;
  PetscCall(SanetPatchSetUp(&spec, m, n, c));
  mo = pad ? (m + stride - 1) / stride : (m - ph) / stride + 1;
  no = pad ? (n + stride - 1) / stride : (n - pw) / stride + 1;
  PetscCheck(spec.mo == mo && spec.no == no, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%dx%dx%d patch %dx%d stride %d pad %d: grid %dx%d, expected %dx%d", (int)m, (int)n, (int)c, (int)ph, (int)pw, (int)stride, (int)pad, (int)spec.mo, (int)spec.no, (int)mo, (int)no);
  PetscCheck(spec.dim == dim, PETSC_COMM_SELF, PETSC_ERR_PLIB, "dim %d, expected %d", (int)spec.dim, (int)dim);
  if (pad) { /* every patch centre lies inside the image */
    PetscInt r0 = RefStart(pad, 0, m, ph, stride, mo) + (ph - 1) / 2, r1 = RefStart(pad, mo - 1, m, ph, stride, mo) + (ph - 1) / 2;
    PetscCheck(r0 >= 0 && r1 <= m - 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "reference centres outside the image");
  }
  PetscCall(PetscMalloc2((size_t)nimg * mo * no * dim, &X, (size_t)nimg * mo * no * dim, &ref));
  for (PetscInt a = 0; a < nimg * mo * no * dim; a++) X[a] = -12345.0; /* poison */
  PetscCall(SanetPatchExtract(&spec, &maps, X));
  for (PetscInt img = 0; img < nimg; img++)
    for (PetscInt pi = 0; pi < mo; pi++)
      for (PetscInt pj = 0; pj < no; pj++) {
        PetscReal *row = ref + ((img * mo + pi) * no + pj) * dim, mean = 0;
        PetscInt   r0 = RefStart(pad, pi, m, ph, stride, mo), c0 = RefStart(pad, pj, n, pw, stride, no);
        for (PetscInt a = 0; a < ph; a++)
          for (PetscInt b = 0; b < pw; b++)
            for (PetscInt ch = 0; ch < c; ch++) {
              PetscInt r = r0 + a, q = c0 + b;
              PetscReal v = (r >= 0 && r < m && q >= 0 && q < n) ? maps.data[((img * m + r) * n + q) * c + ch] : 0;
              PetscCheck(pad || (r >= 0 && r < m && q >= 0 && q < n), PETSC_COMM_SELF, PETSC_ERR_PLIB, "reference: unpadded patch leaves the image");
              row[(a * pw + b) * c + ch] = v;
              mean += v;
            }
        mean /= dim;
        if (center)
          for (PetscInt d = 0; d < dim; d++) row[d] -= mean;
      }
  for (PetscInt a = 0; a < nimg * mo * no * dim; a++)
    PetscCheck(PetscAbsReal(X[a] - ref[a]) <= 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%dx%dx%d patch %dx%d stride %d pad %d center %d: entry %d (patch %d, element %d) is %g, expected %g", (int)m, (int)n, (int)c, (int)ph, (int)pw, (int)stride, (int)pad, (int)center, (int)a, (int)(a / dim), (int)(a % dim), (double)X[a], (double)ref[a]);
  if (center)
    for (PetscInt p = 0; p < nimg * mo * no; p++) {
      PetscReal s = 0;
      for (PetscInt d = 0; d < dim; d++) s += X[p * dim + d];
      PetscCheck(PetscAbsReal(s / dim) <= 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "centred patch %d has mean %g", (int)p, (double)(s / dim));
    }
  PetscCall(PetscFree2(X, ref));
  PetscCall(SanetMapsDestroy(&maps));
  (*ncases)++;
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckHand(void)
{
  SanetMaps      maps;
  SanetPatchSpec spec;
  PetscReal      X[9 * 9];
  /* 5x5 image 0..24, 3x3 patches, stride 2, padding: centres at 0,2,4 on both axes */
  const PetscReal p00[9] = {0, 0, 0, 0, 0, 1, 0, 5, 6}, p01[9] = {0, 0, 0, 1, 2, 3, 6, 7, 8}, p11[9] = {6, 7, 8, 11, 12, 13, 16, 17, 18}, p22[9] = {18, 19, 0, 23, 24, 0, 0, 0, 0}, p20[9] = {0, 15, 16, 0, 20, 21, 0, 0, 0};
  const PetscReal c11[9] = {-6, -5, -4, -1, 0, 1, 4, 5, 6};
  const PetscReal u10[9] = {10, 11, 12, 15, 16, 17, 20, 21, 22}; /* no padding, patch (1,0) */

  PetscFunctionBegin;
  PetscCall(SanetMapsCreate(PETSC_COMM_SELF, 1, 5, 5, 1, &maps));
  for (PetscInt a = 0; a < 25; a++) maps.data[a] = a;
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  spec.ph = spec.pw = 3;
  spec.stride       = 2;
  spec.pad          = PETSC_TRUE;
  PetscCall(SanetPatchSetUp(&spec, 5, 5, 1));
  PetscCheck(spec.mo == 3 && spec.no == 3 && spec.dim == 9, PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case: grid %dx%d dim %d, expected 3x3 dim 9", (int)spec.mo, (int)spec.no, (int)spec.dim);
  PetscCall(SanetPatchExtract(&spec, &maps, X));
  for (PetscInt d = 0; d < 9; d++) {
    PetscCheck(X[0 * 9 + d] == p00[d], PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case: patch (0,0)[%d] = %g, expected %g (zero padding above/left)", (int)d, (double)X[d], (double)p00[d]);
    PetscCheck(X[1 * 9 + d] == p01[d], PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case: patch (0,1)[%d] = %g, expected %g", (int)d, (double)X[9 + d], (double)p01[d]);
    PetscCheck(X[4 * 9 + d] == p11[d], PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case: patch (1,1)[%d] = %g, expected %g", (int)d, (double)X[36 + d], (double)p11[d]);
    PetscCheck(X[6 * 9 + d] == p20[d], PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case: patch (2,0)[%d] = %g, expected %g", (int)d, (double)X[54 + d], (double)p20[d]);
    PetscCheck(X[8 * 9 + d] == p22[d], PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case: patch (2,2)[%d] = %g, expected %g (zero padding below/right)", (int)d, (double)X[72 + d], (double)p22[d]);
  }
  spec.center = PETSC_TRUE;
  PetscCall(SanetPatchExtract(&spec, &maps, X));
  for (PetscInt d = 0; d < 9; d++) {
    PetscCheck(PetscAbsReal(X[4 * 9 + d] - c11[d]) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case centred: patch (1,1)[%d] = %g, expected %g", (int)d, (double)X[36 + d], (double)c11[d]);
    PetscCheck(PetscAbsReal(X[d] - (p00[d] - 12.0 / 9)) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case centred: patch (0,0)[%d] = %g, expected %g (mean over padded zeros too)", (int)d, (double)X[d], (double)(p00[d] - 12.0 / 9));
  }
  spec.center = PETSC_FALSE;
  spec.pad    = PETSC_FALSE;
  PetscCall(SanetPatchSetUp(&spec, 5, 5, 1));
  PetscCheck(spec.mo == 2 && spec.no == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case no pad: grid %dx%d, expected 2x2", (int)spec.mo, (int)spec.no);
  PetscCall(SanetPatchExtract(&spec, &maps, X));
  for (PetscInt d = 0; d < 9; d++) PetscCheck(X[2 * 9 + d] == u10[d], PETSC_COMM_SELF, PETSC_ERR_PLIB, "hand case no pad: patch (1,0)[%d] = %g, expected %g", (int)d, (double)X[18 + d], (double)u10[d]);
  PetscCall(SanetMapsDestroy(&maps));
  PetscFunctionReturn(0);
}

static PetscErrorCode ExpectError(PetscInt m, PetscInt n, PetscInt ph, PetscInt pw, PetscInt stride, PetscBool pad, const char *what)
{
  SanetPatchSpec spec;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  spec.ph     = ph;
  spec.pw     = pw;
  spec.stride = stride;
  spec.pad    = pad;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SanetPatchSetUp(&spec, m, n, 1);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr != 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SanetPatchSetUp accepted %s", what);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscInt ncases = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(CheckHand());
  {
    const PetscInt sizes[][2] = {{1, 1}, {5, 5}, {6, 7}, {7, 6}, {8, 8}, {11, 9}, {13, 13}, {28, 28}};
    const PetscInt patches[][2] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 3}, {2, 5}, {11, 11}};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
      for (size_t p = 0; p < sizeof(patches) / sizeof(patches[0]); p++)
        for (PetscInt c = 1; c <= 3; c += 2)
          for (PetscInt stride = 1; stride <= 5; stride++)
            for (PetscInt pad = 0; pad < 2; pad++)
              for (PetscInt center = 0; center < 2; center++) PetscCall(CheckCase(2, sizes[s][0], sizes[s][1], c, patches[p][0], patches[p][1], stride, (PetscBool)pad, (PetscBool)center, &ncases));
  }
  PetscCall(ExpectError(5, 5, 6, 3, 1, PETSC_FALSE, "a 6x3 patch on a 5x5 image without padding"));
  PetscCall(ExpectError(5, 5, 3, 6, 1, PETSC_FALSE, "a 3x6 patch on a 5x5 image without padding"));
  PetscCall(ExpectError(5, 5, 3, 3, 0, PETSC_TRUE, "stride 0"));
  PetscCall(ExpectError(5, 5, 3, 3, -1, PETSC_FALSE, "stride -1"));
  PetscCall(ExpectError(5, 5, 0, 3, 1, PETSC_TRUE, "patch height 0"));
  {
    SanetPatchSpec spec; /* padding on: a patch larger than the image is fine */
    PetscCall(PetscMemzero(&spec, sizeof(spec)));
    spec.ph = spec.pw = 7;
    spec.stride       = 2;
    spec.pad          = PETSC_TRUE;
    PetscCall(SanetPatchSetUp(&spec, 5, 5, 1));
    PetscCheck(spec.mo == 3 && spec.no == 3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "7x7 padded patches on 5x5 stride 2: grid %dx%d, expected 3x3", (int)spec.mo, (int)spec.no);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_patch: %d random cases and the hand-computed case agree\n", (int)ncases));
  PetscCall(PetscFinalize());
  return 0;
}
