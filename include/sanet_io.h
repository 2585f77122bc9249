#pragma once
/* Readers of the public image formats that sanet-convert turns into the HDF5 layout. */
#include "sanet.h"

/* A whole dataset in memory, serial: pixels N*H*W*C bytes in [image][row][col][chan]. */
typedef struct {
  PetscInt       N, H, W, C;
  unsigned char *pixels;
  PetscInt      *labels; /* N, or NULL */
  char          *classes; /* class names by label id, one per line (PNG folders), or NULL */
  PetscInt       nalpha;  /* images whose alpha channel was dropped */
} SanetRawImages;

/* MNIST IDX files, plain or gzip: images (magic 0x00000803, [N,H,W] uint8) and labels
   (magic 0x00000801, [N] uint8; labels may be NULL). Header sizes must match the
   decompressed file sizes exactly. */
PetscErrorCode SanetReadMNIST(const char images[], const char labels[], SanetRawImages *);

/* CIFAR binary batches: records of nlabelbytes label bytes (1 for CIFAR-10; 2 for
   CIFAR-100: coarse, fine, the fine one is kept) and 3072 bytes of 3x32x32 planar RGB.
   Labels must be below nclasses (10 or 100). The files are concatenated in order. */
PetscErrorCode SanetReadCIFAR(PetscInt nfiles, const char *const files[], PetscInt nlabelbytes, PetscInt nclasses, SanetRawImages *);

/* A folder with one subfolder per class (label ids follow the sorted subfolder names)
   holding PNG files of one common size, read as 8-bit gray or RGB. */
PetscErrorCode SanetReadPNGFolder(const char dir[], SanetRawImages *);

PetscErrorCode SanetRawImagesDestroy(SanetRawImages *);

/* Appends src to dst (an empty dst takes src over) and empties src. Image sizes must
   agree and labels be on both or neither (else both are emptied and the error names
   srcname). */
PetscErrorCode SanetRawImagesAppend(SanetRawImages *dst, SanetRawImages *src, const char srcname[]);
