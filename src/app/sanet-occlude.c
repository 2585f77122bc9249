/* sanet-occlude: occluded copy of a dataset (SA-Net paper, section 4.2). */
#include "sanet.h"

static const char help[] = "Makes an occluded copy of a sanet dataset: in every image a contiguous block covering\n"
                           "-fraction of the pixels is replaced by the same block of another, unrelated image\n"
                           "(different index, and different label when labels exist), at a random location.\n"
                           "Usage: sanet-occlude -input DATA.h5 -o OCCLUDED.h5 [-fraction 0.2] [-seed 1]\n"
                           "  -input DATA.h5   dataset (/images uint8 or float32, optional /labels)\n"
                           "  -o OUT.h5        output (uint8); written to OUT.h5.tmp and renamed on success\n"
                           "  -fraction F      occluded fraction of the pixels, 0 < F < 1 (default 0.2)\n"
                           "  -seed S          random seed, S >= 0 (default 1)\n";

/* Random streams: one per decision, indexed by image (and attempt), so results depend
   only on the seed. */
enum { STREAM_DONOR = 1, STREAM_ROW = 2, STREAM_COL = 3 };
#define DONOR_ATTEMPTS 64

/* A block of about fraction*H*W pixels, as square as the image allows. */
static PetscErrorCode BlockSize(PetscInt H, PetscInt W, PetscReal fraction, PetscInt *rows, PetscInt *cols)
{
  PetscReal area = PetscMax(1.0, round(fraction * H * W));

  PetscFunctionBegin;
  *rows = PetscMin(H, PetscMax(1, (PetscInt)round(PetscSqrtReal(area))));
  *cols = PetscMin(W, PetscMax(1, (PetscInt)round(area / *rows)));
  /* a narrow image limits cols; give the rest of the area to rows */
  *rows = PetscMin(H, PetscMax(1, (PetscInt)round(area / *cols)));
  PetscFunctionReturn(0);
}

static PetscInt RandIndex(unsigned long seed, unsigned long stream, unsigned long index, PetscInt n)
{
  PetscInt k = (PetscInt)(SanetRandUniform(seed, stream, index) * n);

  return PetscMin(k, n - 1);
}

/* Donor for image i: any other image, preferring one with another label. */
static PetscInt Donor(unsigned long seed, PetscInt i, PetscInt N, const PetscInt *labels, PetscInt nclasses)
{
  PetscInt j = i;

  for (PetscInt a = 0; a < DONOR_ATTEMPTS; a++) {
    j = RandIndex(seed, STREAM_DONOR, (unsigned long)i * DONOR_ATTEMPTS + a, N - 1);
    if (j >= i) j++;
    if (!labels || nclasses < 2 || labels[j] != labels[i]) break;
  }
  return j;
}

static PetscErrorCode Occlude(void)
{
  char          input[PETSC_MAX_PATH_LEN], out[PETSC_MAX_PATH_LEN];
  PetscBool     hasin, hasout;
  PetscReal     fraction = 0.2;
  PetscInt      seed     = 1, N, H, W, C, rows, cols;
  SanetImages   img;
  unsigned char *orig, *occl;
  size_t        per, nval;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-input", input, sizeof(input), &hasin));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-o", out, sizeof(out), &hasout));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-fraction", &fraction, NULL));
  PetscCall(SanetOptionsCheckIntegers(PETSC_COMM_SELF));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-seed", &seed, NULL));
  PetscCall(SanetOptionsCheckUnused(PETSC_COMM_SELF, NULL, (const char *const[]){"-input", "-o", "-fraction", "-seed", NULL}, "sanet-occlude"));
  PetscCheck(hasin && input[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -input (dataset HDF5 file) is missing (see -help)");
  PetscCheck(hasout && out[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -o (output HDF5 file) is missing (see -help)");
  PetscCheck(fraction > 0 && fraction < 1, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -fraction %g is out of range: it must lie strictly between 0 and 1", (double)fraction);
  PetscCheck(seed >= 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Option -seed %" PetscInt_FMT " is out of range: it must be >= 0", seed);

  PetscCall(SanetImagesLoad(PETSC_COMM_SELF, input, &img));
  N = img.maps.Nglobal;
  H = img.maps.m;
  W = img.maps.n;
  C = img.maps.c;
  PetscCheck(N >= 2, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Input file %s has %" PetscInt_FMT " image(s); occlusion needs at least 2", input, N);
  per  = (size_t)H * W * C;
  nval = (size_t)N * per;
  PetscCall(PetscMalloc2(nval, &orig, nval, &occl));
  /* exact for uint8 input (k/255 * 255 rounds back to k); float input is quantised */
  for (size_t k = 0; k < nval; k++) orig[k] = (unsigned char)round(img.maps.data[k] * 255.0);
  PetscCall(PetscMemcpy(occl, orig, nval));
  PetscCall(BlockSize(H, W, fraction, &rows, &cols));
  for (PetscInt i = 0; i < N; i++) {
    PetscInt j  = Donor((unsigned long)seed, i, N, img.labels, img.nclasses);
    PetscInt r0 = RandIndex((unsigned long)seed, STREAM_ROW, (unsigned long)i, H - rows + 1);
    PetscInt c0 = RandIndex((unsigned long)seed, STREAM_COL, (unsigned long)i, W - cols + 1);

    for (PetscInt r = r0; r < r0 + rows; r++) {
      size_t off = (size_t)(r * W + c0) * C;
      PetscCall(PetscMemcpy(occl + i * per + off, orig + j * per + off, (size_t)cols * C));
    }
  }
  PetscCall(SanetWriteDatasetFile(out, N, H, W, C, occl, img.labels, NULL));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "sanet-occlude: wrote %s: %" PetscInt_FMT " images, %" PetscInt_FMT "x%" PetscInt_FMT " block (%.1f%% of the pixels) from another image\n", out, N, rows, cols, (double)(100.0 * rows * cols / (H * W))));
  PetscCall(PetscFree2(orig, occl));
  PetscCall(SanetImagesDestroy(&img));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  PetscMPIInt size;
  PetscBool   hashelp;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCheck(size == 1, PETSC_COMM_WORLD, PETSC_ERR_SUP, "sanet-occlude is serial: run it on 1 MPI rank, not %d", size);
  hashelp = SanetHelpRequested();
  if (!hashelp) PetscCall(Occlude());
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  return SanetMain(&argc, &argv, help, "sanet-occlude", PETSC_FALSE, Run);
}
