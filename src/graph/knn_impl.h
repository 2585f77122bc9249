#pragma once
/* Pieces shared by the exact (knn.c) and the IVF (knn_ivf.c) kNN searches: argument
   checks, the mean shift, the distance-tile scan into (key, global index) heaps, the
   ring of travelling blocks, and the exact double re-ranking that ends both. */
#include "sanet.h"

/* What both searches know once the arguments are checked. */
typedef struct {
  MPI_Comm     comm;
  PetscMPIInt  size, rank;
  PetscInt     nlocal, Nglobal, dim, k;
  PetscInt     kc;             /* candidates kept by pass 1: k + -knn_extra, below Nglobal */
  PetscInt     tileq, tiler;   /* GEMM tile: queries x references */
  PetscInt    *counts, *starts; /* rows of every rank and their first global index */
  MPI_Datatype rowtype;        /* dim floats */
} KNNCommon;

/* Rank 0 says how far the search is on long runs (a line every 30 s at most). */
typedef struct {
  PetscMPIInt    rank, nsteps, step;
  PetscLogDouble start, last;
} KNNProgress;

/* Checks the arguments on every rank (k range, same dim, finite data); tiles and extra
   candidates from spec (NULL: the defaults). */
PETSC_INTERN void           KNNGetDefaults(PetscInt *tile_queries, PetscInt *tile_refs, PetscInt *extra);
PETSC_INTERN PetscErrorCode KNNSetUp(MPI_Comm, const SanetKNNSpec *, PetscInt nlocal, PetscInt dim, const float *X, PetscInt k, KNNCommon *);
PETSC_INTERN PetscErrorCode KNNTearDown(KNNCommon *);

PETSC_INTERN void           KNNRowNorms(PetscInt n, PetscInt dim, const float *X, float *nrm);
/* Shift that is the same whatever the rank layout (a rounded global mean), and Xc = X - shift. */
PETSC_INTERN PetscErrorCode KNNMeanShift(const KNNCommon *, const float *X, float *shift);
PETSC_INTERN void           KNNShiftRows(PetscInt n, PetscInt dim, const float *shift, const float *X, float *Xc);

PETSC_INTERN PetscErrorCode KNNProgressInit(const KNNCommon *, PetscMPIInt nsteps, KNNProgress *);
PETSC_INTERN PetscErrorCode KNNProgressReport(KNNProgress *, PetscReal fraction_of_step);

/* Empty heaps of kc slots for n queries: every finite key beats an empty slot. */
PETSC_INTERN void KNNHeapInit(PetscInt n, PetscInt kc, float *hkey, PetscInt *hidx);
/* Bound on |float key| of an exact duplicate, relative to |q|^2 + |r|^2. */
PETSC_INTERN float KNNSnap(PetscInt dim);
/* Merges one GEMM tile C = -2 Q R^T (nq x nr) into the heaps. Query i of the tile is
   heap qmap[i] (i when qmap is NULL; its norm is qnrm[qmap[i]]); reference j has global
   index rglobal[j] (rglobal0 + j when rglobal is NULL). A NaN entry is never selected. */
PETSC_INTERN void KNNScanTile(PetscInt nq, PetscInt nr, const float *C, const float *qnrm, const PetscInt *qmap, const float *rnrm, float snap, PetscInt rglobal0, const PetscInt *rglobal, PetscInt k, float *hkey, PetscInt *hidx);
/* Pass 1 on one block of nref contiguous references (global rglobal0..): the k best of
   them per query into the heaps; own excludes query i = reference i. progress may be NULL. */
PETSC_INTERN PetscErrorCode KNNBlockSelect(PetscInt nlocal, PetscInt dim, const float *X, const float *qnrm, PetscInt nref, const float *R, float *rnrm, PetscInt rglobal0, PetscBool own, PetscInt tileq, PetscInt tiler, float *C, PetscInt k, float *hkey, PetscInt *hidx, KNNProgress *progress);
/* Exact double distances of the k listed neighbours (global ids) found in one block. */
PETSC_INTERN PetscErrorCode KNNBlockExact(PetscInt nlocal, PetscInt dim, const float *X, PetscInt nref, const float *R, PetscInt rglobal0, PetscInt k, const PetscInt *nbr, PetscReal *d2);
/* Sorts each query's k neighbours by (d2, global index). */
PETSC_INTERN PetscErrorCode KNNSortRows(PetscInt nlocal, PetscInt k, PetscInt *nbr, PetscReal *d2);

/* The ring: the counts[r] rows of rank r of each array visit every rank once, starting
   with its own (step 0), the next block arriving while visit works on the current one. */
#define KNN_RING_MAX_ARRAYS 3
typedef struct {
  MPI_Datatype type;  /* one row */
  const void  *local; /* this rank's rows */
} KNNRingArray;
typedef PetscErrorCode (*KNNRingVisit)(void *ctx, PetscMPIInt step, PetscMPIInt src, const void *const block[]);
PETSC_INTERN PetscErrorCode KNNRingRun(const KNNCommon *, const PetscInt counts[], PetscInt narrays, const KNNRingArray arrays[], KNNRingVisit, void *ctx);

/* Pass 2 and the end of both searches: the kc candidates of every query (hidx, global
   ids, local query order) get exact double distances from the original rows X in one
   trip around the ring, are sorted, and the k best go to nbr, d2. Empty slots sort last. */
PETSC_INTERN PetscErrorCode KNNExactRerank(const KNNCommon *, const float *X, PetscInt *hidx, PetscReal *hd2, PetscInt *nbr, PetscReal *d2);
