#pragma once
/* sanet: image clustering by stacked spectral analysis layers (SA-Net). */
#include <petsc.h>
#include <slepc.h>
#include <hdf5.h>

/* Checked HDF5 call: negative return values become PETSc errors. */
#define PetscCallHDF5(call) \
  do { \
    if ((call) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)
/* Same, for calls returning an hid_t that must be kept. */
#define PetscCallHDF5Id(id, call) \
  do { \
    (id) = (call); \
    PetscCheck((id) >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)

/* ------------------------------------------------------------------------------------
   Feature maps: per image an m x n grid with c channels, layout [image][row][col][chan].
   Images are distributed by contiguous blocks (PetscSplitOwnership over Nglobal);
   images of the input are maps with c = colour channels.
   ------------------------------------------------------------------------------------ */
typedef struct {
  PetscInt   Nglobal, nlocal, istart; /* images: global count, local count, first global */
  PetscInt   m, n, c;                 /* grid rows, cols, channels */
  PetscReal *data;                    /* nlocal*m*n*c */
  PetscReal *eigval;                  /* c eigenvalues (one per channel) or NULL */
  PetscInt  *group;                   /* c ids of the procedure that made each channel, or NULL */
} SanetMaps;

PetscErrorCode SanetMapsCreate(MPI_Comm, PetscInt Nglobal, PetscInt m, PetscInt n, PetscInt c, SanetMaps *);
PetscErrorCode SanetMapsDestroy(SanetMaps *);

/* ---------------------------------- input / output ---------------------------------- */
typedef struct {
  SanetMaps maps;      /* pixels scaled to [0,1] */
  PetscInt *labels;    /* nlocal ground-truth labels or NULL */
  PetscInt  nclasses;  /* number of distinct labels (global), 0 without labels */
} SanetImages;

/* Reads /images [N,H,W,C] (uint8 or float32) and optional /labels [N]; each rank reads its
   own block of images. Validates shapes, types, value ranges; errors name the file. */
PetscErrorCode SanetImagesLoad(MPI_Comm, const char path[], SanetImages *);
PetscErrorCode SanetImagesDestroy(SanetImages *);

/* Serial writer of the canonical layout (used by the converters and tools); writes to a
   temporary name and renames on success so no partial file is left behind. */
PetscErrorCode SanetWriteDatasetFile(const char path[], PetscInt N, PetscInt H, PetscInt W, PetscInt C, const unsigned char *pixels, const PetscInt *labels);

/* ------------------------------------- patches -------------------------------------- */
/* Samples ph x pw x c patches from each local image: centres every `stride` pixels from
   offset (stride-1)/2 ... so that ceil(m/stride) x ceil(n/stride) patches are taken; when
   pad is true pixels outside the image are zero, otherwise only patches fully inside are
   taken ((m-ph)/stride+1 per axis). Output rows are image-major, patch layout [r][c][ch]. */
typedef struct {
  PetscInt   ph, pw, stride;
  PetscBool  pad, center; /* center: subtract each patch's mean */
  PetscInt   mo, no;      /* output grid */
  PetscInt   dim;         /* ph*pw*c */
} SanetPatchSpec;
PetscErrorCode SanetPatchSetUp(SanetPatchSpec *, PetscInt m, PetscInt n, PetscInt c);
PetscErrorCode SanetPatchExtract(const SanetPatchSpec *, const SanetMaps *, PetscReal *X /* nlocal*mo*no x dim */);

/* ------------------------------------- kNN ------------------------------------------ */
/* Exact k nearest neighbours (squared Euclidean) of the rows of a distributed matrix X
   (nlocal rows of dim on this rank, global row index = rstart + i). Excludes the row
   itself; ties broken by global index. Blocks of X travel around the ranks in a ring;
   distances by single-precision GEMM. nbr and d2 are nlocal*k. */
PetscErrorCode SanetKNNExact(MPI_Comm, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, PetscInt *nbr, PetscReal *d2);

/* ---------------------------------- clustering -------------------------------------- */
typedef struct _p_SanetKMeans *SanetKMeans;
PetscErrorCode SanetKMeansCreate(MPI_Comm, SanetKMeans *);
PetscErrorCode SanetKMeansSetOptionsPrefix(SanetKMeans, const char[]);
PetscErrorCode SanetKMeansSetClusters(SanetKMeans, PetscInt K);
PetscErrorCode SanetKMeansSetSeed(SanetKMeans, unsigned long seed);
PetscErrorCode SanetKMeansSetFromOptions(SanetKMeans);
/* Clusters nlocal rows of dim on each rank; labels nlocal; inertia global. */
PetscErrorCode SanetKMeansApply(SanetKMeans, PetscInt nlocal, PetscInt dim, const PetscReal *X, PetscInt *labels, PetscReal *inertia);
PetscErrorCode SanetKMeansView(SanetKMeans, PetscViewer);
PetscErrorCode SanetKMeansDestroy(SanetKMeans *);

typedef struct {
  PetscReal acc, nmi, ari, fs;
  PetscInt  nclasses, nclusters;
  PetscInt *confusion; /* nclasses x nclusters, row-major, owned */
} SanetMetrics;
/* Serial; labels of both sides are 0..(max). Matches scikit-learn's definitions. */
PetscErrorCode SanetMetricsCompute(PetscInt N, const PetscInt truth[], const PetscInt pred[], SanetMetrics *);
PetscErrorCode SanetMetricsDestroy(SanetMetrics *);
/* Hungarian algorithm, maximising sum of w[i*n+assign[i]] over an n x n matrix. */
PetscErrorCode SanetHungarianMax(PetscInt n, const PetscReal w[], PetscInt assign[]);

/* ------------------------------------ random ---------------------------------------- */
/* Counter-based generator: the same (seed, stream, index) always gives the same number,
   whatever the rank count. */
PetscReal SanetRandUniform(unsigned long seed, unsigned long stream, unsigned long index);
